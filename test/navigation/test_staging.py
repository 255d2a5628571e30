"""Staging poses: in front of the car's opening, facing it, in traversable space; the fallbacks."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from mapping_tour import default_plan, feed, make_tour
from small_sim import SMALL_SIM

from multifloor_slam.errors import ConfigError
from multifloor_slam.io.building_load import load_building
from multifloor_slam.maps.building import Building
from multifloor_slam.maps.mapper import BuildingMapper
from multifloor_slam.navigation.free_space import TrinaryGrid, traversable
from multifloor_slam.navigation.staging import StagingParams, staging_pose, with_staging
from multifloor_slam.pipeline.process import ProcessOptions, process_bag
from multifloor_slam.sim.simulator import SimResult, simulate

RES = 0.05


def _angle(a: float, b: float) -> float:
    return abs((a - b + math.pi) % (2.0 * math.pi) - math.pi)


def _shaft_map(door: str) -> TrinaryGrid:
    """A 2 m car at (5, 5) in a shaft; its door (south) ``open``, ``closed`` or ``none``.

    South of the shaft a corridor; east of it, behind two walls, a room (a decoy: free space
    close to the car, but through the shaft, not through a door).
    """
    v = np.full((200, 200), -1, np.int8)  # 10 m x 10 m, unknown
    x = (np.arange(200) + 0.5) * RES
    xx, yy = np.meshgrid(x, x)

    def box(x0: float, y0: float, x1: float, y1: float, value: int) -> None:
        v[(xx >= x0) & (xx < x1) & (yy >= y0) & (yy < y1)] = value

    box(1.0, 0.5, 9.5, 3.6, 0)  # corridor
    box(6.6, 3.6, 9.5, 8.0, 0)  # room east of the shaft
    box(6.4, 3.4, 6.6, 8.0, 100)  # its west wall
    box(3.6, 3.6, 6.4, 6.4, 100)  # the shaft's walls...
    box(3.7, 3.7, 6.3, 6.3, -1)  # ...around an unknown gap...
    box(3.9, 3.9, 6.1, 6.1, 100)  # ...and the car's walls
    box(4.0, 4.0, 6.0, 6.0, 0)  # the car's inside
    box(1.0, 3.4, 6.4, 3.6, 100)  # corridor's north wall (the shaft's front)
    if door in ('open', 'closed'):
        box(4.4, 3.4, 5.6, 4.0, 0)  # the opening through shaft and car
    if door == 'closed':
        box(4.4, 3.9, 5.6, 4.0, 100)  # the car door, shut (seen from inside)
    return TrinaryGrid(v, (0.0, 0.0), RES)


def _unseen_side_wall_map() -> TrinaryGrid:
    """The closed-door shaft with a room west of it behind walls the scans never saw.

    As on the demo building's L2: the shaft's and the car's west walls are unknown, so rays
    west leave the car's known free inside, cross 0.6 m of unknown and enter the room without
    meeting a wall. That is no door; the real one is the closed door south.
    """
    v = _shaft_map('closed').values.copy()
    x = (np.arange(200) + 0.5) * RES
    xx, yy = np.meshgrid(x, x)
    v[(xx >= 0.5) & (xx < 3.4) & (yy >= 3.6) & (yy < 8.0)] = 0  # the room
    v[(xx >= 3.4) & (xx < 4.0) & (yy >= 3.6) & (yy < 6.4)] = -1  # walls never seen
    return TrinaryGrid(v, (0.0, 0.0), RES)


def test_a_room_behind_unseen_car_walls_is_not_taken_for_the_door() -> None:
    """Regression: the unknown band was ignored and the room won as an 'open door'."""
    mask = traversable(_unseen_side_wall_map(), 0.25)
    pose = staging_pose(mask, (5.0, 5.0), (1.6, 1.6), StagingParams(distance_m=1.0))
    assert pose.method == 'door'
    assert _angle(pose.door_yaw, -math.pi / 2.0) < math.radians(6)
    assert pose.x == pytest.approx(5.0, abs=0.15)
    assert pose.y == pytest.approx(2.9, abs=0.2)


@pytest.mark.parametrize('door', ['open', 'closed'])
def test_staging_is_a_metre_in_front_of_the_opening_facing_the_car(door: str) -> None:
    mask = traversable(_shaft_map(door), 0.25)
    pose = staging_pose(mask, (5.0, 5.0), (1.6, 1.6), StagingParams(distance_m=1.0))
    assert pose.method == 'door'
    assert _angle(pose.door_yaw, -math.pi / 2.0) < math.radians(6)
    assert _angle(pose.yaw, math.pi / 2.0) < math.radians(6)
    assert pose.door_m == pytest.approx(1.0, abs=0.15)  # the car's front at y = 4.0
    assert pose.x == pytest.approx(5.0, abs=0.15)
    assert pose.y == pytest.approx(3.0, abs=0.2)  # 1 m in front of the car door
    assert mask.is_traversable(pose.x, pose.y)


def test_without_an_opening_the_nearest_large_free_region_is_used_and_said_so() -> None:
    mask = traversable(_shaft_map('none'), 0.25)
    pose = staging_pose(mask, (5.0, 5.0), (1.6, 1.6))
    assert pose.method == 'nearest_free'
    assert mask.is_traversable(pose.x, pose.y)
    assert _angle(pose.yaw, math.atan2(5.0 - pose.y, 5.0 - pose.x)) < 1e-6
    empty = traversable(TrinaryGrid(np.full((50, 50), -1, np.int8), (0.0, 0.0), RES))
    assert staging_pose(empty, (1.0, 1.0), (1.6, 1.6)).method == 'car'


def test_bad_staging_parameters_are_refused() -> None:
    with pytest.raises(ConfigError, match='distance_m'):
        StagingParams(distance_m=0.0)
    with pytest.raises(ConfigError, match='barrier'):
        StagingParams(max_barrier_m=0.05, barrier_tolerance_m=0.1)


@pytest.fixture(scope='module')
def tour_building() -> Building:
    m = BuildingMapper()
    feed(m, make_tour(scan_rate_hz=4.0, speed_mps=2.0, seed=5))
    m.flush()
    return m.building


def test_staging_on_the_mapped_tour_faces_each_shaft_door(tour_building: Building) -> None:
    plan = default_plan()
    links = with_staging(tour_building)
    assert [link.staging for link in tour_building.links] == [{}, {}]  # input left alone
    for link in links:
        assert sorted(link.staging) == link.floors
        shaft = min(plan.shafts.values(), key=lambda s: math.hypot(s.cx - link.x, s.cy - link.y))
        side = 1.0 if shaft.door == 'east' else -1.0
        for floor, (x, y, yaw) in link.staging.items():
            assert link.staging_method[floor] == 'door'
            # The door plane is 1 m from the centre; the staging point 1 m beyond it.
            assert x == pytest.approx(shaft.cx + side * 2.0, abs=0.25)
            assert y == pytest.approx(shaft.cy, abs=0.25)
            assert _angle(yaw, 0.0 if side < 0 else math.pi) < math.radians(8)
            assert traversable(tour_building.floors[floor]).is_traversable(x, y)


def test_manual_poses_are_kept_and_computed_ones_refreshed(tour_building: Building) -> None:
    links = with_staging(tour_building)
    link = links[0]
    floors = link.floors
    link.staging[floors[0]] = (1.0, 2.0, 0.5)
    link.staging_method[floors[0]] = 'manual'
    link.staging[floors[1]] = (9.0, 9.0, 0.0)  # stale: computed on an older map
    building = Building(tour_building.floors, links)
    again = with_staging(building)[0]
    assert again.staging[floors[0]] == (1.0, 2.0, 0.5)
    assert again.staging[floors[1]] != (9.0, 9.0, 0.0)
    kept = with_staging(building, recompute=False)[0]
    assert kept.staging[floors[1]] == (9.0, 9.0, 0.0)


@pytest.fixture(scope='module')
def sim_building(tmp_path_factory: pytest.TempPathFactory) -> tuple[SimResult, Path]:
    sim = simulate(SMALL_SIM, tmp_path_factory.mktemp('sim'))
    out = tmp_path_factory.mktemp('out') / 'building'
    process_bag(sim.bag_path, out, ProcessOptions(progress=False))
    return sim, out


def test_staging_of_a_processed_simulated_building_is_in_front_of_the_car(
    sim_building: tuple[SimResult, Path],
) -> None:
    sim, out = sim_building
    building = load_building(out)
    assert building.links
    for link in building.links:
        elevator = min(
            sim.building.elevators, key=lambda e: math.hypot(e.x - link.x, e.y - link.y)
        )
        front = elevator.front  # the simulator's own waiting point, 1 m before the shaft door
        for floor, (x, y, yaw) in link.staging.items():
            assert link.staging_method[floor] == 'door'
            assert math.hypot(x - front[0], y - front[1]) < 0.5
            assert _angle(yaw, math.pi / 2.0) < math.radians(10)  # the doors face -y
            assert traversable(building.floors[floor]).is_traversable(x, y)
