"""Laser evidence on synthetic scans: car-shaped boxes against corridors, rooms and bad scans."""

from __future__ import annotations

import math

import numpy as np
import pytest
from laser_scenes import CAR, CAR_OPEN, CORRIDOR, LANDING, Segment, box, cast

from multifloor_slam.elevators.laser_evidence import (
    LaserParams,
    LaserTracker,
    scan_evidence,
)
from multifloor_slam.errors import ConfigError
from multifloor_slam.io.records import ScanRecord


@pytest.mark.parametrize(
    ('walls', 'pose', 'fov'),
    [
        (CAR, (0.0, 0.0, 0.0), 360.0),
        (CAR, (-0.5, 0.3, 0.4), 360.0),  # off-centre, turned against the car
        (CAR, (0.0, 0.0, 0.0), 180.0),  # a front laser sees three walls
        (box(-0.75, -0.8, 0.75, 0.8), (0.0, 0.0, 0.0), 180.0),  # the real-scan bags' car
        (box(-1.4, -0.8, 1.4, 0.8), (0.0, 0.0, 1.2), 270.0),  # a bed lift, long side across
    ],
)
def test_a_closed_car_is_an_enclosure(
    walls: list[Segment], pose: tuple[float, float, float], fov: float
) -> None:
    ev = scan_evidence(cast(walls, pose, fov_deg=fov))
    assert ev.state == 'enclosed', ev
    assert ev.size_m is not None and 0.6 < ev.size_m[1] <= ev.size_m[0] < 3.0


def test_the_box_fits_the_car_size() -> None:
    ev = scan_evidence(cast(box(-1.2, -0.8, 1.2, 0.8), (0.2, 0.1, 0.3)))
    assert ev.size_m == pytest.approx((2.4, 1.6), abs=0.1)


@pytest.mark.parametrize(
    ('pose', 'fov'),
    [((0.0, 0.0, 0.0), 360.0), ((-0.7, 0.0, 0.0), 360.0), ((-0.7, 0.0, 0.0), 180.0)],
)
def test_an_open_door_in_front_is_a_door_gap(pose: tuple[float, float, float], fov: float) -> None:
    ev = scan_evidence(cast(CAR_OPEN, pose, fov_deg=fov))
    assert ev.state == 'door_gap', ev
    assert 20.0 < ev.gap_deg < 100.0
    # no return through the door (a long hall, glass): still a door gap
    assert scan_evidence(cast(CAR_OPEN[:-1], pose, fov_deg=fov)).state == 'door_gap'


def test_the_door_behind_the_robot_is_not_a_door_gap() -> None:
    assert scan_evidence(cast(CAR_OPEN, (0.0, 0.0, math.pi))).state == 'open'


@pytest.mark.parametrize(
    ('walls', 'pose', 'fov'),
    [
        (CORRIDOR, (0.0, 0.0, 0.0), 360.0),
        (CORRIDOR, (0.0, 0.0, 0.0), 180.0),
        (CORRIDOR, (0.0, 0.0, 0.3), 270.0),
        (LANDING, (0.0, 0.0, math.pi / 2), 360.0),
        (LANDING, (0.0, 0.0, math.pi / 2), 180.0),
        (box(-4.0, -3.0, 4.0, 3.0), (1.0, 0.5, 0.2), 360.0),  # an office
        (box(-2.0, -1.5, 2.0, 1.5), (0.0, 0.0, 0.0), 360.0),  # a small room, 4 x 3 m
        ([], (0.0, 0.0, 0.0), 360.0),  # an atrium: nothing returns
    ],
)
def test_corridors_landings_and_rooms_are_open(
    walls: list[Segment], pose: tuple[float, float, float], fov: float
) -> None:
    rec = cast(walls or [(90.0, 90.0, 91.0, 91.0)], pose, fov_deg=fov)
    ev = scan_evidence(rec)
    assert ev.state == 'open', ev


def test_no_return_conventions_and_clutter() -> None:
    rec = cast(CAR)
    # range_max = +inf (pointcloud_to_laserscan) and NaN beams (REP 117: not a measurement)
    r = rec.ranges.copy()
    r[::17] = np.nan
    inf_max = ScanRecord(0.0, r, rec.angle_min, rec.angle_increment, 0.05, math.inf)
    assert scan_evidence(inf_max).state == 'enclosed'
    # a person in the car hides part of a wall: still a car
    person = cast([*CAR, (0.4, -0.2, 0.4, 0.2)])
    assert scan_evidence(person).state == 'enclosed'
    # a few dropped beams (+inf) in a closed car
    r = rec.ranges.copy()
    r[::40] = np.inf
    dropped = ScanRecord(0.0, r, rec.angle_min, rec.angle_increment, 0.05, 12.0)
    assert scan_evidence(dropped).state == 'enclosed'


def test_scans_that_cannot_tell_are_unknown() -> None:
    narrow = cast(CAR, fov_deg=90.0)
    assert scan_evidence(narrow).state == 'unknown'
    rec = cast(CAR)
    nan = ScanRecord(0.0, np.full(360, np.nan, np.float32), rec.angle_min, 0.0175, 0.05, 12.0)
    assert scan_evidence(nan).state == 'unknown'
    few = ScanRecord(0.0, rec.ranges[:8], rec.angle_min, rec.angle_increment, 0.05, 12.0)
    assert scan_evidence(few).state == 'unknown'
    zero = ScanRecord(0.0, rec.ranges, rec.angle_min, 0.0, 0.05, 12.0)
    assert scan_evidence(zero).state == 'unknown'


def test_tracker_evaluates_at_most_rate_hz_and_forgets_old_evidence() -> None:
    tracker = LaserTracker(LaserParams(laser_rate_hz=5.0))
    done = [tracker.on_scan(cast(CAR, t=0.05 * i)) is not None for i in range(20)]
    assert sum(done) == 5 and done[0]
    assert tracker.evaluated == 5
    latest = tracker.latest
    assert latest is not None and latest.state == 'enclosed'
    assert tracker.at(latest.t + 0.5, max_age_s=2.0) is latest
    assert tracker.at(latest.t + 3.0, max_age_s=2.0) is None
    # time going back (a looped bag) evaluates again
    assert tracker.on_scan(cast(CORRIDOR, t=0.0)) is not None
    assert tracker.latest is not None and tracker.latest.state == 'open'


def test_laser_params_are_validated() -> None:
    with pytest.raises(ConfigError, match='car_max_m'):
        LaserParams(car_min_m=3.0, car_max_m=2.0)
    with pytest.raises(ConfigError, match='door_gap'):
        LaserParams(door_gap_min_deg=50.0, door_gap_max_deg=20.0)
    with pytest.raises(ConfigError, match='laser_rate_hz'):
        LaserParams(laser_rate_hz=-1.0)
