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


def test_a_revisit_into_unmapped_rooms_registers_on_what_overlaps() -> None:
    """Most hits are in rooms the first visit never saw: they neither confirm nor refute."""
    layer = _layer()
    rng = np.random.default_rng(2)
    seen = _wall_points()
    seen = seen[seen[:, 0] > 6.0]
    # a new wing east of the mapped floor (x 14..24 m): never seen, three times the hits
    s = np.linspace(0.0, 1.0, 600)
    new = np.vstack(
        [
            np.column_stack([14.0 + 10.0 * s, np.full_like(s, 1.0)]),
            np.column_stack([14.0 + 10.0 * s, np.full_like(s, 7.0)]),
            np.column_stack([np.full_like(s, 24.0), 1.0 + 6.0 * s]),
        ]
    )
    truth = np.vstack([seen, new]) + rng.normal(0.0, 0.01, (len(seen) + len(new), 2))
    pivot = (10.0, 5.0)
    wrong = se2_compose((0.45, -0.35, 0.0), _about(pivot, math.radians(4.0)))
    src = transform_points(truth, wrong)
    res = register(src, pivot, layer, IcpParams(), RegistrationParams())
    assert res.accepted, res.reason
    fixed = transform_points(src, res.correction)
    assert np.max(np.hypot(*(fixed - truth).T)) < 0.1
    # the same revisit with its overlap cut to a few hits does not verify
    res = register(transform_points(new, wrong), pivot, layer, IcpParams(), RegistrationParams())
    assert not res.accepted


def test_a_corridor_does_not_pin_a_large_correction() -> None:
    """Two parallel walls only: any shift along them fits as well, so a big move is refused."""
    p = LayerParams(resolution=RES)
    grid = np.full((int(3.0 / RES), int(30.0 / RES)), p.l_min, np.float32)
    grid[0, :] = p.l_max
    grid[-1, :] = p.l_max
    layer = OccupancyLayer(p)
    layer.load_grid(grid, (0, 0))  # walls at y = 0.025 and y = 2.975, x 0..30 m
    s = np.linspace(8.0, 22.0, 600)
    truth = np.vstack(
        [
            np.column_stack([s, np.full_like(s, 0.025)]),
            np.column_stack([s, np.full_like(s, 2.975)]),
        ]
    )
    # an anchor 0.8 m along the corridor and 0.4 m across it: nothing tells the 0.8 m
    src = transform_points(truth, (0.8, 0.4, 0.0))
    res = register(src, (15.0, 1.5), layer, IcpParams(), RegistrationParams())
    assert not res.accepted
    assert 'pin' in res.reason or 'ambiguous' in res.reason, res.reason
    # an anchor that already fits is kept: no slide along the walls
    src = transform_points(truth, (0.8, 0.02, 0.0))
    res = register(src, (15.0, 1.5), layer, IcpParams(), RegistrationParams())
    assert res.accepted and abs(res.correction[0]) < 0.15, res


def test_a_robot_standing_still_maps_one_view_not_every_repeat() -> None:
    """Waiting at the elevator: the same view repeated 40 times is mapped once."""
    mapper = BuildingMapper(MapperParams(scan_wait_s=0.0))
    ranges = np.full(360, 3.0)
    for k in range(40):
        mapper.add_pose(k * 0.25, 1.0 + 0.01 * (k % 2), 2.0, 0.3 + 0.01 * (k % 2))  # (jitter)
        mapper.add_scan(k * 0.25, ranges, -math.pi, 2 * math.pi / 360, 0.05, 20.0)
    assert mapper.stats['scans_integrated'] == 1
    assert mapper.stats['scans_skipped_still'] == 39
    for k in range(40, 44):  # driving off: 10 cm per scan
        mapper.add_pose(k * 0.25, 1.0 + 0.1 * (k - 39), 2.0, 0.3)
        mapper.add_scan(k * 0.25, ranges, -math.pi, 2 * math.pi / 360, 0.05, 20.0)
    assert mapper.stats['scans_integrated'] == 5
    every = BuildingMapper(MapperParams(scan_wait_s=0.0, min_travel_m=0.0, min_turn_deg=0.0))
    for k in range(5):
        every.add_pose(k * 0.25, 1.0, 2.0, 0.3)
        every.add_scan(k * 0.25, ranges, -math.pi, 2 * math.pi / 360, 0.05, 20.0)
    assert every.stats['scans_integrated'] == 5
