"""Revisit: held scans aligned to the floor's layer, and what a fit or a rejection decides."""

from __future__ import annotations

import math

import numpy as np
import pytest
from mapping_tour import default_plan, raycast

from multifloor_slam.maps.alignment import AlignmentResult, IcpParams
from multifloor_slam.maps.occupancy_layer import OccupancyLayer
from multifloor_slam.maps.revisit import Revisit
from multifloor_slam.maps.scan_geometry import (
    Pose,
    SlamScan,
    scan_points,
    se2_compose,
    transform_points,
)

ANGLES = -math.pi + 2 * math.pi / 360 * np.arange(360, dtype=np.float64)


def _scan(pose: Pose) -> SlamScan:
    """A scan of the lobby floor of the test building from ``pose`` (SLAM frame = floor frame)."""
    ranges = raycast(default_plan().walls(0), pose, ANGLES, 20.0)
    pts = scan_points(ranges, -math.pi, 2 * math.pi / 360, 0.05, 20.0)
    return SlamScan(pose[:2], transform_points(pts.free_xy, pose), pts.hit, pts.full_circle)


@pytest.fixture(scope='module')
def lobby() -> OccupancyLayer:
    layer = OccupancyLayer()
    for pose in ((6.0, 8.0, 0.0), (12.0, 4.0, 1.0), (18.0, 10.0, 2.0), (6.0, 13.0, -1.0)):
        s = _scan(pose)
        layer.integrate(s.origin, s.free_xy, s.hit, s.full_circle)
    return layer


def test_icp_pulls_a_wrong_anchor_back_onto_the_layer(lobby: OccupancyLayer) -> None:
    anchor = (0.15, -0.1, math.radians(1.5))  # the truth is the identity
    rv = Revisit(0, anchor, None, None, [_scan((6.5, 8.0 + 0.1 * k, 0.1 * k)) for k in range(10)])
    result = rv.align(lobby, IcpParams())
    assert result is not None and result.accepted, result
    transform, merge = rv.resolve(result, 'anchor')
    assert merge
    # 18 cm and 1.5 deg off before; within a cell (5 cm: walls are cell centres) after.
    assert math.hypot(transform[0], transform[1]) < 0.05
    assert abs(transform[2]) < math.radians(0.3)


def test_no_held_scan_means_no_fit(lobby: OccupancyLayer) -> None:
    assert Revisit(0, (0.0, 0.0, 0.0), None, None).align(lobby, IcpParams()) is None


def test_a_rejected_fit_keeps_the_anchor_and_skip_drops_the_visit() -> None:
    anchor = (1.0, 2.0, 0.3)
    rv = Revisit(1, anchor, None, None)
    accepted = AlignmentResult(True, (0.1, 0.0, 0.0), 0.9, 0.02)
    rejected = AlignmentResult(False, (0.0, 0.0, 0.0), 0.1, 0.5, 'low fitness')
    assert rv.resolve(accepted, 'skip') == (se2_compose((0.1, 0.0, 0.0), anchor), True)
    assert rv.resolve(rejected, 'anchor') == (anchor, True)
    assert rv.resolve(rejected, 'skip') == (anchor, False)
    assert rv.resolve(None, 'skip') == (anchor, True)  # no fit tried: nothing to reject
