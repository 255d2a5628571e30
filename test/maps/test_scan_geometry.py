"""Scan geometry: REP 117 range conventions and SE(2) helpers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from multifloor_slam.maps.scan_geometry import (
    angles_ok,
    scan_points,
    se2_compose,
    se2_from_matrix,
    se2_inverse,
    se2_matrix,
    transform_points,
)


def test_scan_points_follow_rep117() -> None:
    ranges = np.array([1.0, np.inf, np.nan, 0.01, 30.0, -np.inf, 2.0])
    pts = scan_points(ranges, 0.0, 0.1, 0.05, 10.0)
    # 1.0 hit; inf and 30 (> max) free to range_max; NaN, 0.01 (< min), -inf unusable (0 m)
    np.testing.assert_array_equal(pts.hit, [True, False, False, False, False, False, True])
    lengths = np.hypot(pts.free_xy[:, 0], pts.free_xy[:, 1])
    np.testing.assert_allclose(lengths, [1.0, 10.0, 0.0, 0.0, 10.0, 0.0, 2.0])
    assert math.isclose(math.atan2(pts.free_xy[6, 1], pts.free_xy[6, 0]), 0.6)
    assert not pts.full_circle
    full = scan_points(np.ones(360), -math.pi, 2 * math.pi / 360, 0.1, 5.0, max_free_range=3.0)
    assert full.full_circle
    assert full.hit_xy.shape == (360, 2)


def test_se2_helpers_agree_with_matrices() -> None:
    a, b = (1.0, -2.0, 0.7), (0.3, 0.5, -2.0)
    ab = se2_compose(a, b)
    np.testing.assert_allclose(se2_matrix(*ab), se2_matrix(*a) @ se2_matrix(*b), atol=1e-12)
    ident = se2_compose(a, se2_inverse(a))
    np.testing.assert_allclose(ident, (0.0, 0.0, 0.0), atol=1e-12)
    np.testing.assert_allclose(se2_from_matrix(se2_matrix(*a)), a)
    pts = np.array([[1.0, 0.0], [0.0, 2.0]])
    np.testing.assert_allclose(
        transform_points(pts, a), (se2_matrix(*a) @ np.c_[pts, np.ones(2)].T).T[:, :2]
    )


def test_range_max_inf_or_nan_gives_finite_points_no_returns_free_to_the_cap() -> None:
    # pointcloud_to_laserscan publishes range_max = +inf by default; NaN is seen too.
    ranges = np.array([1.0, np.inf, 35.0, np.nan, -np.inf])
    for range_max in (np.inf, np.nan):
        pts = scan_points(ranges, 0.0, 0.1, 0.05, range_max, max_free_range=20.0)
        assert np.isfinite(pts.free_xy).all()
        np.testing.assert_array_equal(pts.hit, [True, False, True, False, False])
        lengths = np.hypot(pts.free_xy[:, 0], pts.free_xy[:, 1])
        np.testing.assert_allclose(lengths, [1.0, 20.0, 35.0, 0.0, 0.0])
        # Without a finite cap a no-return beam has no known length: it clears nothing.
        bare = scan_points(ranges, 0.0, 0.1, 0.05, range_max)
        assert np.isfinite(bare.free_xy).all()
        assert np.hypot(*bare.free_xy[1]) == 0.0 and bare.hit[2]
    # NaN range_min counts as 0.
    assert scan_points(ranges, 0.0, 0.1, np.nan, 10.0).hit[0]


def test_the_free_range_cap_limits_no_returns_only_and_max_range_cuts_every_beam() -> None:
    ranges = np.array([50.0, 80.0, 100.0, np.inf, 10.0])
    pts = scan_points(ranges, 0.0, 0.1, 0.05, 80.0, max_free_range=20.0)
    # 50 m is below range_max: a hit however far beyond the cap; 80 and 100 are no returns.
    np.testing.assert_array_equal(pts.hit, [True, False, False, False, True])
    lengths = np.hypot(pts.free_xy[:, 0], pts.free_xy[:, 1])
    np.testing.assert_allclose(lengths, [50.0, 20.0, 20.0, 20.0, 10.0])
    # range_max caps the cap.
    short = scan_points(ranges, 0.0, 0.1, 0.05, 5.0, max_free_range=20.0)
    np.testing.assert_allclose(np.hypot(*short.free_xy.T), 5.0)
    # max_range: longer beams are cut to it and are no hits.
    cut = scan_points(ranges, 0.0, 0.1, 0.05, 1e308, max_range=40.0)
    np.testing.assert_array_equal(cut.hit, [False, False, False, False, True])
    np.testing.assert_allclose(np.hypot(*cut.free_xy.T), [40.0, 40.0, 40.0, 40.0, 10.0])


@pytest.mark.parametrize(
    ('angle_min', 'angle_increment'),
    [
        (math.nan, 0.01),
        (math.inf, 0.01),
        (0.0, 0.0),
        (0.0, math.nan),
        (0.0, -math.inf),
        (0, 1e308),
    ],
)
def test_unusable_angles_are_refused(angle_min: float, angle_increment: float) -> None:
    assert not angles_ok(360, angle_min, angle_increment)
    with pytest.raises(ValueError, match='angles'):
        scan_points(np.ones(360), angle_min, angle_increment, 0.05, 10.0)
    assert angles_ok(360, -math.pi, 2 * math.pi / 360)


def test_no_return_beams_can_be_bounded_by_the_neighbouring_returns() -> None:
    inf = np.inf
    ranges = np.array([inf, 2.0, inf, inf, 5.0, inf, 3.0, inf, 40.0, inf, 10.0, np.nan])
    pts = scan_points(
        ranges, 0.0, 0.1, 0.05, 80.0, 20.0, max_hit_range=30.0, bound_no_returns=True
    )
    lengths = np.hypot(*pts.free_xy.T)
    # A run of no-returns stops at the shorter return on either side (one side at the ends);
    # 40 m is beyond max_hit_range: no hit, free to 30 m, and it bounds its neighbours; NaN is
    # unusable and bounds nothing.
    np.testing.assert_allclose(lengths, [2, 2, 2, 2, 5, 3, 3, 3, 30, 10, 10, 0])
    np.testing.assert_array_equal(np.nonzero(pts.hit)[0], [1, 4, 6, 10])
    unbounded = scan_points(ranges, 0.0, 0.1, 0.05, 80.0, 20.0, max_hit_range=30.0)
    np.testing.assert_allclose(np.hypot(*unbounded.free_xy.T)[[0, 2, 3]], 20.0)
    # All round, a run across the seam sees the returns on both sides of it.
    ring = np.full(360, inf)
    ring[10], ring[350] = 4.0, 6.0
    full = scan_points(ring, -math.pi, 2 * math.pi / 360, 0.05, 80.0, 20.0, bound_no_returns=True)
    lengths = np.hypot(*full.free_xy.T)
    assert lengths[0] == pytest.approx(4.0) and lengths[355] == pytest.approx(4.0)
    # No return at all: nothing bounds the beams, they clear nothing.
    none = scan_points(np.full(5, inf), 0.0, 0.1, 0.05, 80.0, 20.0, bound_no_returns=True)
    assert not np.hypot(*none.free_xy.T).any()
