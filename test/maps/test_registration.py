"""Global registration of revisits (heading search, ICP, verification) and odometry headings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from multifloor_slam.maps.alignment import IcpParams
from multifloor_slam.maps.episodes import Arrival, Episode
from multifloor_slam.maps.mapper import BuildingMapper, MapperParams
from multifloor_slam.maps.occupancy_layer import LayerParams, OccupancyLayer
from multifloor_slam.maps.odometry import OdomYaw
from multifloor_slam.maps.registration import RegistrationParams, free_conflict, register
from multifloor_slam.maps.scan_geometry import se2_compose, transform_points

RES = 0.05
#: an asymmetric floor: outer walls, an inner wall with a gap, a pillar (m)
WALLS = [
    ((0.0, 0.0), (12.0, 0.0)),
    ((12.0, 0.0), (12.0, 8.0)),
    ((12.0, 8.0), (0.0, 8.0)),
    ((0.0, 8.0), (0.0, 0.0)),
    ((5.0, 0.0), (5.0, 5.0)),
    ((8.0, 3.0), (12.0, 3.0)),
    ((2.0, 6.0), (3.0, 6.0)),
]


def _wall_points(step: float = 0.05) -> np.ndarray:
    pts = []
    for (x0, y0), (x1, y1) in WALLS:
        n = max(2, int(math.hypot(x1 - x0, y1 - y0) / step))
        s = np.linspace(0.0, 1.0, n)
        pts.append(np.column_stack([x0 + s * (x1 - x0), y0 + s * (y1 - y0)]))
    return np.vstack(pts)


def _layer() -> OccupancyLayer:
    p = LayerParams(resolution=RES)
    rows, cols = int(8.4 / RES) + 1, int(12.4 / RES) + 1
    grid = np.full((rows, cols), p.l_min, np.float32)  # seen free inside
    w = _wall_points()
    c = np.floor((w[:, 0] + 0.2) / RES).astype(int)
    r = np.floor((w[:, 1] + 0.2) / RES).astype(int)
    grid[r, c] = p.l_max
    layer = OccupancyLayer(p)
    layer.load_grid(grid, (-4, -4))  # origin at (-0.2, -0.2)
    return layer


@pytest.mark.parametrize('yaw_deg', [0.0, 35.0, 90.0, 135.0, 180.0, -120.0])
def test_a_revisit_at_any_arrival_heading_is_registered(yaw_deg: float) -> None:
    layer = _layer()
    rng = np.random.default_rng(1)
    truth = _wall_points()
    truth = truth[truth[:, 0] > 4.0]  # the revisit sees part of the floor
    truth = truth + rng.normal(0.0, 0.01, truth.shape)
    pivot = (9.0, 5.0)
    # the anchor's heading is wrong by yaw_deg about the arrival, and 0.4 m off
    wrong = se2_compose((0.4, -0.3, 0.0), _about(pivot, math.radians(yaw_deg)))
    src = transform_points(truth, wrong)
    res = register(src, pivot, layer, IcpParams(), RegistrationParams())
    assert res.accepted, res.reason
    fixed = transform_points(src, res.correction)
    assert np.max(np.hypot(*(fixed - truth).T)) < 0.1


def test_walls_on_seen_free_space_are_refused() -> None:
    layer = _layer()
    free_cells = np.column_stack([np.linspace(1.0, 4.0, 200), np.full(200, 3.0)])
    assert free_conflict(layer, free_cells) == 1.0
    assert free_conflict(layer, _wall_points()) < 0.01
    # a revisit that matches no part of the floor (walls through its free rooms) never verifies
    stray = np.column_stack([np.linspace(1.0, 11.0, 400), np.full(400, 2.0)])
    stray = np.vstack([stray, np.column_stack([np.full(200, 2.5), np.linspace(1.0, 7.0, 200)])])
    res = register(stray, (6.0, 4.0), layer, IcpParams(), RegistrationParams())
    assert not res.accepted


def _about(pivot: tuple[float, float], yaw: float) -> tuple[float, float, float]:
    c, s = math.cos(yaw), math.sin(yaw)
    return (
        pivot[0] - (c * pivot[0] - s * pivot[1]),
        pivot[1] - (s * pivot[0] + c * pivot[1]),
        yaw,
    )


def test_arrival_heading_is_the_departure_heading_plus_the_odometry_turn() -> None:
    ep = Episode(0.0, 0, (3.0, 4.0, 0.5), (3.0, 4.0, 0.5), dep_stand_t=1.0)
    arr = Arrival(ep, (10.0, -2.0, 2.0), t=40.0)  # the SLAM jumped: its heading is meaningless
    car = (3.0, 4.0)
    anchor = arr.anchor(car, 'odom', odom_turn=math.radians(30.0))
    robot = se2_compose(anchor, arr.slam_pose)
    assert robot[:2] == pytest.approx(car)
    assert robot[2] == pytest.approx(0.5 + math.radians(30.0))
    assert arr.anchor(car, 'odom')[2] == pytest.approx(arr.anchor(car, 'departure')[2])


def test_odometry_gives_the_turn_only_where_it_covers_both_stands() -> None:
    odom = OdomYaw(1.0, 0.3, 120.0)
    for i in range(50):
        t = i * 0.1
        assert odom.add(t, 0.0, 0.0, 0.2 + (0.5 if t >= 3.0 else 0.0))
    assert not odom.add(6.0, 0.0, 0.0, math.nan)
    assert odom.turn(1.0, 4.0) == pytest.approx(0.5)
    assert odom.turn(1.0, 30.0) is None  # no odometry then: the departure heading
    mapper = BuildingMapper(MapperParams())
    mapper.add_odom(6.0, 0.0, 0.0, math.nan)
    mapper.add_odom(6.1, 0.0, 0.0, 0.0)
    assert mapper.stats['odom_bad'] == 1 and mapper.stats['odom_in'] == 1
