"""Open3D ICP alignment of a revisit: good fits accepted, bad fits rejected."""

from __future__ import annotations

import math

import numpy as np
from mapping_tour import default_plan

from multifloor_slam.maps.alignment import IcpParams, align_points, residual_fitness
from multifloor_slam.maps.scan_geometry import se2_inverse, transform_points


def _wall_points(segs: np.ndarray, step: float = 0.05) -> np.ndarray:
    pts = []
    for x0, y0, x1, y1 in segs:
        n = max(2, int(math.hypot(x1 - x0, y1 - y0) / step))
        t = np.linspace(0, 1, n)
        pts.append(np.c_[x0 + (x1 - x0) * t, y0 + (y1 - y0) * t])
    return np.vstack(pts)


def test_icp_recovers_a_small_offset_and_accepts_it() -> None:
    plan = default_plan()
    target = _wall_points(plan.walls(1))
    rng = np.random.default_rng(1)
    truth = (0.25, -0.18, math.radians(4.0))
    local = target[(target[:, 0] < 14.0)]  # what the first scans of a visit see
    source = transform_points(local, se2_inverse(truth)) + rng.normal(0, 0.01, local.shape)
    result = align_points(source, target, IcpParams())
    assert result.accepted, result.reason
    np.testing.assert_allclose(result.correction[:2], truth[:2], atol=0.03)
    assert abs(result.correction[2] - truth[2]) < math.radians(0.5)
    assert result.fitness > 0.9
    assert residual_fitness(source, target, result.correction, 0.05) > 0.9


def test_icp_rejects_a_different_floor_and_a_too_large_correction() -> None:
    plan = default_plan()
    offices = _wall_points(plan.walls(1))
    lab_inside = _wall_points(np.asarray(plan.floors[2][4:]))  # the lab's own walls, no outline
    wrong = align_points(lab_inside, offices, IcpParams())
    assert not wrong.accepted
    assert wrong.correction == (0.0, 0.0, 0.0)
    target = _wall_points(plan.walls(1))
    shifted = transform_points(target, (0.4, 0.0, 0.0))
    strict = align_points(shifted, target, IcpParams(max_correction_m=0.1))
    assert not strict.accepted
    assert 'correction' in strict.reason
    few = align_points(target[:10], target, IcpParams())
    assert not few.accepted and 'too few' in few.reason
