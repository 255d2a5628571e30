"""EpisodeTracker: when a ride starts and ends, and where the car stood before and after it."""

from __future__ import annotations

import pytest

from multifloor_slam.maps.episodes import Arrival, EpisodeTracker
from multifloor_slam.maps.pose_buffer import PoseBuffer, StandLimits

IDENTITY = (0.0, 0.0, 0.0)


def _tracker(timeout_s: float = 30.0) -> EpisodeTracker:
    return EpisodeTracker(
        PoseBuffer(), settle_s=1.0, arrival_timeout_s=timeout_s, limits=StandLimits()
    )


def _poses(tr: EpisodeTracker, t0: float, t1: float, pose: tuple[float, float, float]) -> None:
    k = 0
    while t0 + 0.1 * k <= t1 + 1e-9:
        tr.poses.add(round(t0 + 0.1 * k, 6), pose)
        k += 1


def test_the_flags_start_an_episode_once_and_block_mapping_until_it_closes() -> None:
    tr = _tracker()
    assert not tr.blocked
    assert tr.set_riding(1.0, True)
    assert not tr.set_riding(1.5, True)  # still riding: no second start
    assert tr.blocked  # riding alone blocks, before any episode is opened
    assert tr.set_inside(2.0, True) and not tr.set_inside(2.1, True)
    tr.start(1.0, 0, IDENTITY, from_ride=True)
    assert tr.episode is not None and tr.episode.ride_seen
    assert not tr.set_riding(5.0, False) and not tr.set_inside(6.0, False)
    assert tr.episode.riding_end_t == 5.0 and tr.episode.inside_end_t == 6.0


def test_a_ride_to_another_floor_ends_once_settled_and_the_robot_drives_off() -> None:
    tr = _tracker()
    transform = (10.0, 0.0, 0.0)  # SLAM -> floor 0
    _poses(tr, 0.0, 0.9, (0.0, 0.0, 0.0))
    _poses(tr, 1.0, 8.0, (2.0, 1.0, 0.3))  # stands in the car from 1 s on
    tr.set_riding(1.0, True)
    tr.start(1.0, 0, transform, from_ride=True)
    tr.set_riding(6.0, False)
    tr.floor_changed(6.0)
    assert tr.update(6.5, 2) is None  # not settled
    assert tr.update(7.5, 2) is None  # settled, but the robot still stands in the car
    assert tr.episode is not None
    for k in range(1, 6):  # drives off along x
        tr.poses.add(8.0 + 0.1 * k, (2.0 + 0.1 * k, 1.0, 0.3))
    arrival = tr.update(8.5, 2)
    assert isinstance(arrival, Arrival) and tr.episode is None
    ep = arrival.episode
    assert ep.from_floor == 0
    assert ep.dep_slam_pose == pytest.approx((2.0, 1.0, 0.3))  # the stand, not the pose at 1 s
    assert ep.dep_floor_pose == pytest.approx((12.0, 1.0, 0.3))
    assert arrival.slam_pose == pytest.approx((2.0, 1.0, 0.3))


def test_an_episode_back_on_its_departure_floor_closes_without_an_arrival() -> None:
    tr = _tracker()
    _poses(tr, 0.0, 3.0, (0.0, 0.0, 0.0))
    assert tr.set_inside(1.0, True)
    tr.start(1.0, 0, IDENTITY, from_ride=False)
    assert tr.update(1.5, 0) is None and tr.episode is not None  # still inside
    tr.set_inside(2.0, False)
    assert tr.update(2.0, 0) is None
    assert tr.episode is None and not tr.blocked


def test_the_ride_start_retakes_the_departure_pose_after_an_early_detector_start() -> None:
    tr = _tracker()
    for k in range(31):  # drives into the car until 2 s, then stands
        x = min(0.1 * k, 2.0)
        tr.poses.add(0.1 * k, (x, 0.0, 0.0))
    tr.set_inside(0.5, True)
    tr.start(0.5, 0, IDENTITY, from_ride=False)
    assert tr.episode is not None
    assert tr.episode.dep_slam_pose == pytest.approx((0.5, 0.0, 0.0))
    tr.set_riding(2.5, True)
    tr.start(2.5, 0, IDENTITY, from_ride=True)
    assert tr.episode.dep_slam_pose == pytest.approx((2.0, 0.0, 0.0))
    assert tr.episode.dep_t == 2.5


def test_without_motion_the_arrival_is_anchored_after_the_timeout() -> None:
    tr = _tracker(timeout_s=5.0)
    _poses(tr, 0.0, 20.0, (1.0, 1.0, 0.0))
    tr.set_riding(1.0, True)
    tr.start(1.0, 0, IDENTITY, from_ride=True)
    tr.set_riding(4.0, False)
    tr.floor_changed(4.0)
    assert tr.update(8.9, 1) is None  # standing, 4.9 s after the ride
    arrival = tr.update(9.1, 1)
    assert arrival is not None and arrival.slam_pose == pytest.approx((1.0, 1.0, 0.0))


def test_a_floor_change_after_the_ride_end_is_still_this_ride() -> None:
    tr = _tracker()
    _poses(tr, 0.0, 10.0, (0.0, 0.0, 0.0))
    tr.set_riding(1.0, True)
    tr.start(1.0, 0, IDENTITY, from_ride=True)
    tr.set_riding(4.0, False)
    assert tr.update(4.5, 0) is None and tr.episode is not None  # waits for a late floor
    tr.floor_changed(4.8)
    assert tr.update(5.5, 3) is None  # the new floor settles first
    tr.poses.add(10.5, (1.0, 0.0, 0.0))  # drives off
    arrival = tr.update(10.5, 3)
    assert arrival is not None and arrival.episode.floor_change_t == 4.8
