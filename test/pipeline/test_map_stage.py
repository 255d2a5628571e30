"""The map stage: one data clock for headerless events, altitude thinning, start floor, table."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from multifloor_slam.floors.floor_table import FloorTable
from multifloor_slam.io.building_files import load_building
from multifloor_slam.io.records import (
    BoolRecord,
    ElevatorStateRecord,
    FloorRecord,
    FloorTableRecord,
    PoseRecord,
    ScanRecord,
    ValueRecord,
)
from multifloor_slam.maps.mapper import BuildingMapper, MapperParams
from multifloor_slam.maps.scan_geometry import se2_compose
from multifloor_slam.pipeline.map_stage import MapStage, MapStageParams

#: mapper parameters that map every scan, however still the robot stands
EVERY_SCAN = {'min_travel_m': 0.0, 'min_turn_deg': 0.0}
STEP = 0.125  # exact in binary: data times add up without rounding
BEAMS = 360


def make_stage(**mapper: object) -> MapStage:
    """A stage whose mapper maps every scan (the robot here mostly stands still)."""
    mapper = {'min_travel_m': 0.0, 'min_turn_deg': 0.0, **mapper}
    return MapStage(BuildingMapper(MapperParams(**mapper)), MapStageParams())  # type: ignore[arg-type]


def scan(t: float) -> ScanRecord:
    """A round room of 3 m radius around the robot."""
    ranges = np.full(BEAMS, 3.0, np.float32)
    return ScanRecord(t, ranges, -math.pi, 2 * math.pi / BEAMS, 0.1, 12.0, 'laser')


def drive(stage: MapStage, t0: float, t1: float, x0: float = 0.0, speed: float = 0.0) -> None:
    """Poses and scans every STEP from t0 up to (not including) t1, along x."""
    n = round((t1 - t0) / STEP)
    for k in range(n):
        t = t0 + k * STEP
        stage.feed('pose', PoseRecord(t, x0 + speed * (t - t0), 0.0, 0.0, 'map'))
        stage.feed('scan', scan(t))


CAR_X = 2.5  # where the robot stands in the car


def approach(stage: MapStage) -> None:
    """Map floor 0 while driving to the car (x 0 -> 2.5), then stand in it until t=100."""
    stage.feed('floor', FloorRecord(0.0, 0))
    drive(stage, 90.0, 95.0, 0.0, CAR_X / 5.0)
    drive(stage, 95.0, 100.0 + STEP, CAR_X)  # the newest data stamp is 100.0
    assert stage.event_time() == 100.0


def leave(stage: MapStage, t0: float) -> None:
    """Stand in the car until 110, then drive off."""
    drive(stage, t0, 110.0, CAR_X)
    drive(stage, 110.0, 120.0, CAR_X, 0.5)


def ride(stage: MapStage, event_t: float, to_floor: int) -> None:
    """The floor changes at data time 100; the record carries ``event_t`` (another clock)."""
    approach(stage)
    stage.feed('floor', FloorRecord(event_t, to_floor))
    assert stage.mapper.in_elevator  # the episode opened at once
    leave(stage, 100.0 + STEP)


def departure(stage: MapStage) -> tuple[float, float]:
    """Where the one elevator link says the car stood on floor 0."""
    (link,) = stage.mapper.links
    return link.positions[0]


# ---------------------------------------------------------------------------- event timing
@pytest.mark.parametrize('event_t', [5.0, 1e9, -3.0])
def test_floor_events_are_timed_by_the_data_clock(event_t: float) -> None:
    stage = make_stage()
    ride(stage, event_t, 1)
    m = stage.mapper
    assert not m.in_elevator and m.current_floor == 1
    # Timed at 100 (the data clock) the ride departs from where the robot stood in the car.
    # Timed at the record's own stamp it would depart from the first pose at x=0 (5, -3) or
    # never settle (1e9).
    assert m.stats['rides'] == 1 and m.stats['reanchors'] == 1
    assert m.links[0].floors == [0, 1]
    assert departure(stage) == pytest.approx((CAR_X, 0.0), abs=0.05)
    assert m.stats['scans_skipped_elevator'] >= round(10.0 / STEP)  # the stand in the car
    assert set(m.floors) == {0, 1}


def test_riding_events_are_timed_by_the_data_clock() -> None:
    stage = make_stage()
    approach(stage)
    stage.feed('riding', BoolRecord(3.0, True))  # a receive time far before the data
    assert stage.mapper.in_elevator
    drive(stage, 100.0 + STEP, 105.0, CAR_X)
    stage.feed('floor', FloorRecord(3.5, 2))
    stage.feed('riding', BoolRecord(3.6, False))
    leave(stage, 105.0)
    m = stage.mapper
    assert (m.stats['rides'], m.stats['reanchors'], len(m.links)) == (1, 1, 1)
    assert departure(stage) == pytest.approx((CAR_X, 0.0), abs=0.05)
    assert m.current_floor == 2 and set(m.floors) == {0, 2}


@pytest.mark.parametrize(
    ('state', 'car_x'),
    [
        (ElevatorStateRecord(5.0, 'inside', 0.9), CAR_X),  # receive time 5: the data clock
        (ElevatorStateRecord(5.0, 'inside', 0.9, stamp=99.0), CAR_X),
        (ElevatorStateRecord(99.0, 'inside', 0.9, stamp=50.0), 0.0),  # before any pose
    ],
)
def test_unstamped_elevator_state_uses_the_data_clock_and_a_stamp_wins(
    state: ElevatorStateRecord, car_x: float
) -> None:
    stage = make_stage()
    approach(stage)
    stage.feed('elevator_state', state)
    assert stage.mapper.in_elevator
    stage.feed('floor', FloorRecord(0.0, 1))
    drive(stage, 100.0 + STEP, 105.0, CAR_X)
    stage.feed('elevator_state', ElevatorStateRecord(0.0, 'none', 0.9, stamp=105.0))
    leave(stage, 105.0)
    m = stage.mapper
    assert m.stats['rides'] == 1 and m.current_floor == 1
    assert departure(stage) == pytest.approx((car_x, 0.0), abs=0.15)


def test_events_before_any_data_only_keep_their_order() -> None:
    stage = make_stage()
    assert stage.event_time() == -math.inf
    stage.feed('floor', FloorRecord(1e9, 3))
    stage.feed('floor', FloorRecord(5.0, 2))  # older receive time, but later: it holds
    drive(stage, 10.0, 15.0)
    m = stage.mapper
    assert m.current_floor == 2 and set(m.floors) == {2}
    assert m.stats['rides'] == 0 and stage.counts['scans_before_floor'] == 0
    assert m.stats['scans_integrated'] == round(5.0 / STEP)


# ---------------------------------------------------------------------------- altitude
def test_altitude_is_thinned_to_the_period_of_data_time() -> None:
    stage = make_stage()
    stage.feed('floor', FloorRecord(0.0, 0))
    drive(stage, 0.0, 1.0)
    assert set(stage.mapper.floors) == {0}
    # Altitude at 4 per data step (like 20 Hz against poses at 5 Hz): only the first
    # sample at least altitude_period_s (0.5 s) after the last one passed reaches the mapper.
    passed = []
    for k in range(17):  # data times 1.0 .. 3.0
        t = 1.0 + k * STEP
        stage.feed('pose', PoseRecord(t, 0.0, 0.0, 0.0))
        for j in range(4):
            first_of_period = j == 0 and k % 4 == 0
            value = 2.0 + 0.1 * k if first_of_period else 50.0
            if first_of_period:
                passed.append(value)
            stage.feed('altitude', ValueRecord(123.0 + k, value))  # receive times don't count
    assert len(passed) == 5
    fl = stage.mapper.floors[0]
    assert fl.elevation_measured
    assert fl.elevation_m == pytest.approx(np.mean(passed))


def test_altitude_period_is_a_parameter() -> None:
    stage = MapStage(
        BuildingMapper(MapperParams(**EVERY_SCAN)), MapStageParams(altitude_period_s=0.0)
    )
    stage.feed('floor', FloorRecord(0.0, 0))
    drive(stage, 0.0, 1.0)
    stage.feed('altitude', ValueRecord(0.0, 1.0))
    stage.feed('altitude', ValueRecord(0.0, 4.0))  # same data time: still passes with period 0
    assert stage.mapper.floors[0].elevation_m == pytest.approx(2.5)


# ---------------------------------------------------------------------------- start floor
def test_scans_wait_for_the_first_floor_then_map_on_the_initial_floor() -> None:
    stage = make_stage(initial_floor=2)
    drive(stage, 50.0, 55.0)  # nobody says which floor
    waited = round(stage.params.floor_wait_s / STEP)  # scans at 50.0 .. 51.875
    assert stage.counts['scans_before_floor'] == waited == 16
    m = stage.mapper
    assert m.stats['scans_in'] == round(5.0 / STEP) - waited
    assert m.stats['scans_integrated'] == m.stats['scans_in']
    assert set(m.floors) == {2} and m.current_floor == 2


def test_the_first_floor_record_ends_the_wait_and_picks_the_floor() -> None:
    stage = make_stage(initial_floor=0)
    drive(stage, 50.0, 51.0)
    stage.feed('floor', FloorRecord(0.0, 3))
    drive(stage, 51.0, 55.0)
    assert stage.counts['scans_before_floor'] == round(1.0 / STEP)
    m = stage.mapper
    assert set(m.floors) == {3} and m.current_floor == 3
    assert m.stats['scans_integrated'] == round(4.0 / STEP)
    assert m.stats['rides'] == 0  # starting on a floor is no ride


def test_the_wait_counts_from_the_first_pose() -> None:
    stage = make_stage()
    for k in range(20):  # poses only, 2.5 s of data
        stage.feed('pose', PoseRecord(50.0 + k * STEP, 0.0, 0.0, 0.0))
    stage.feed('pose', PoseRecord(52.5, 0.0, 0.0, 0.0))
    stage.feed('scan', scan(52.5))  # 2.5 s after the first data: the wait is over
    assert stage.counts['scans_before_floor'] == 0
    assert stage.mapper.stats['scans_integrated'] == 1


# ---------------------------------------------------------------------------- floor table
def test_the_newest_floor_table_is_saved_in_building_yaml(tmp_path: Path) -> None:
    first = FloorTable()
    first.add(0, 0.0)
    second = FloorTable(current_floor=1)
    second.add(0, 0.0)
    second.add(1, 4.25, 'Lobby')
    stage = make_stage()
    stage.feed('floor_table', FloorTableRecord(0.0, first.to_dict()))
    stage.feed('floor', FloorRecord(0.0, 0))
    drive(stage, 0.0, 2.0)
    stage.feed('floor_table', FloorTableRecord(0.0, second.to_dict()))
    path = stage.save(tmp_path / 'out')
    assert path == tmp_path / 'out' / 'building.yaml'
    data = yaml.safe_load(path.read_text())
    saved = dict(data['floor_table'])
    # The stage adds where the map was (floor 0, SLAM frame = floor frame); the table is kept.
    assert saved.pop('map_resume') == {'floor': 0, 'slam_to_floor': [0.0, 0.0, 0.0]}
    assert saved == second.to_dict()
    assert FloorTable.from_dict(data['floor_table']).label(1) == 'Lobby'
    # Without a table record, building.yaml has none.
    bare = make_stage()
    bare.feed('floor', FloorRecord(0.0, 0))
    drive(bare, 0.0, 2.0)
    data = yaml.safe_load(bare.save(tmp_path / 'bare').read_text())
    assert 'floor_table' not in data or data['floor_table'] is None


def test_bad_poses_are_counted_not_used() -> None:
    stage = make_stage()
    stage.feed('pose', PoseRecord(math.nan, 0.0, 0.0, 0.0))
    stage.feed('pose', PoseRecord(1.0, math.inf, 0.0, 0.0))
    assert stage.counts['bad_poses'] == 2
    assert stage.event_time() == -math.inf  # a bad pose does not move the data clock


# ---------------------------------------------------------------------------- absurd floors
def test_an_absurd_floor_index_is_refused_and_counted() -> None:
    stage = make_stage()
    stage.feed('floor', FloorRecord(0.0, 0))
    drive(stage, 0.0, 1.0)
    stage.feed('floor', FloorRecord(0.0, 2**31 - 1))
    stage.feed('floor', FloorRecord(0.0, -201))
    drive(stage, 1.0, 2.0)
    m = stage.mapper
    assert stage.counts['floors_out_of_range'] == 2
    assert stage.refusals()['floors_out_of_range'] == 2
    assert m.current_floor == 0 and set(m.floors) == {0} and not m.in_elevator
    assert m.stats['scans_integrated'] == round(2.0 / STEP)  # later scans still mapped
    stage.feed('floor', FloorRecord(0.0, 200))  # the bound itself is a floor
    assert m.current_floor == 200 and stage.counts['floors_out_of_range'] == 2


# ---------------------------------------------------------------------------- resuming
JUMP = (4.0, -3.0, 0.8)  # what the SLAM frame does during the ride


def drive_jumped(stage: MapStage, t0: float, t1: float, x0: float, speed: float = 0.0) -> None:
    """Like :func:`drive`, but the SLAM reports every pose through ``JUMP``."""
    n = round((t1 - t0) / STEP)
    for k in range(n):
        t = t0 + k * STEP
        x, y, yaw = se2_compose(JUMP, (x0 + speed * (t - t0), 0.0, 0.0))
        stage.feed('pose', PoseRecord(t, x, y, yaw, 'map'))
        stage.feed('scan', scan(t))


def two_floor_table(current: int) -> dict[str, object]:
    table = FloorTable(current_floor=current)
    table.add(0, 0.0)
    table.add(1, 4.0)
    return table.to_dict()


def occupied_agreement(a: MapStage, b: MapStage, floor: int) -> float:
    """Share of occupied cells of either layer with an occupied cell of the other within 1 cell."""
    pa = a.mapper.floors[floor].layer.occupied_points()
    pb = b.mapper.floors[floor].layer.occupied_points()
    from scipy.spatial import cKDTree

    res = a.mapper.params.resolution
    da, _ = cKDTree(pb).query(pa)
    db, _ = cKDTree(pa).query(pb)
    return float(((da <= 1.5 * res).sum() + (db <= 1.5 * res).sum()) / (len(pa) + len(pb)))


def mapped_then_rode_to_floor_1() -> MapStage:
    """Floor 0 mapped, a ride to floor 1 during which the SLAM jumped, floor 1 mapped a bit."""
    stage = make_stage(icp_enabled=False)
    stage.feed('floor_table', FloorTableRecord(0.0, two_floor_table(0)))
    approach(stage)
    stage.feed('floor', FloorRecord(0.0, 1))
    stage.feed('floor_table', FloorTableRecord(0.0, two_floor_table(1)))
    drive_jumped(stage, 100.0 + STEP, 110.0, CAR_X)
    drive_jumped(stage, 110.0, 120.0, CAR_X, 0.5)
    assert stage.mapper.current_floor == 1 and stage.mapper.stats['reanchors'] == 1
    return stage


def restarted(path: Path, strip_resume: bool = False) -> MapStage:
    if strip_resume:
        data = yaml.safe_load(path.read_text())
        del data['floor_table']['map_resume']
        path.write_text(yaml.safe_dump(data))
    params = MapperParams(icp_enabled=False)
    return MapStage(BuildingMapper.from_building(load_building(path, params), params))


def test_the_saved_building_says_where_the_slam_frame_lies_on_the_current_floor(
    tmp_path: Path,
) -> None:
    stage = mapped_then_rode_to_floor_1()
    data = yaml.safe_load(stage.save(tmp_path / 'b').read_text())
    resume = data['floor_table']['map_resume']
    assert resume['floor'] == 1 and data['floor_table']['current_floor'] == 1
    # The SLAM -> floor 1 transform undoes the jump: floor 1's frame is the car's frame.
    undo = se2_compose(tuple(resume['slam_to_floor']), JUMP)  # type: ignore[arg-type]
    assert undo == pytest.approx((0.0, 0.0, 0.0), abs=0.05)


def test_a_restart_continues_the_floor_in_the_saved_slam_frame(tmp_path: Path) -> None:
    live = mapped_then_rode_to_floor_1()
    path = live.save(tmp_path / 'b')
    again = restarted(path)
    assert again.resume is not None and again.resume[0] == 1
    assert again.mapper.current_floor == 1  # before anyone says so
    again.feed('floor', FloorRecord(0.0, 1))  # the floor estimator, resumed on the same floor
    old = restarted(tmp_path / 'b' / 'building.yaml', strip_resume=True)  # what it did before
    old.feed('floor', FloorRecord(0.0, 1))
    for stage in (live, again, old):
        drive_jumped(stage, 130.0, 140.0, CAR_X + 5.0, -0.5)  # the SLAM kept running
    assert set(again.mapper.floors) == set(live.mapper.floors) == {0, 1}
    assert occupied_agreement(live, again, 1) > 0.99
    assert occupied_agreement(live, old, 1) < 0.8  # the identity frame smears floor 1
    again_l0 = again.mapper.floors[0].layer.logodds
    np.testing.assert_array_equal(again_l0, live.mapper.floors[0].layer.logodds)


def test_poses_wait_for_the_start_floor_and_another_floor_drops_the_saved_frame(
    tmp_path: Path,
) -> None:
    path = mapped_then_rode_to_floor_1().save(tmp_path / 'b')
    stage = restarted(path)
    drive_jumped(stage, 130.0, 131.0, CAR_X + 5.0)  # before floor/current: poses wait
    assert stage.mapper.stats['scans_in'] == 0 and stage.counts['scans_before_floor'] == 8
    stage.feed('floor', FloorRecord(0.0, 0))  # the estimator starts elsewhere
    assert stage.counts['resume_floor_differs'] == 1
    drive(stage, 131.0, 132.0, 0.0)
    assert stage.mapper.current_floor == 0
    # The robot is on floor 0 in an unknown SLAM frame: identity, as for a new session.
    assert stage.resume_entry() == {'floor': 0, 'slam_to_floor': [0.0, 0.0, 0.0]}


def test_a_malformed_floor_table_is_refused_and_the_last_good_one_kept(tmp_path: Path) -> None:
    stage = make_stage()
    good = two_floor_table(1)
    stage.feed('floor_table', FloorTableRecord(0.0, good))
    stage.feed('floor_table', FloorTableRecord(0.0, {'floors': [{'index': 'L9'}]}))
    stage.feed('floor_table', FloorTableRecord(0.0, {'floors': [], 'current_floor': 2**31 - 1}))
    assert stage.counts['bad_floor_tables'] == 2 and stage.refusals()['bad_floor_tables'] == 2
    assert stage.mapper.floor_table == good
