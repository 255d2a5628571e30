"""Scan geometry: REP 117 range conventions and SE(2) helpers."""

from __future__ import annotations

import math

import numpy as np

from multifloor_slam.maps.scan_geometry import (
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
