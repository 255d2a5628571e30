"""PoseBuffer: ordered insert, trimming, interpolation, fallbacks, the robot's stand in the car."""

from __future__ import annotations

import math

import numpy as np
import pytest

from multifloor_slam.maps.pose_buffer import BACK_MAX_S, PoseBuffer, StandLimits


def test_out_of_order_poses_are_inserted_in_stamp_order() -> None:
    buf = PoseBuffer(max_gap_s=1.0, max_age_s=0.0)
    for t, x in ((0.0, 0.0), (0.6, 6.0), (0.2, 2.0), (0.4, 4.0), (0.1, 1.0)):
        buf.add(t, (x, 0.0, 0.0))
    assert len(buf) == 5 and buf.newest == 0.6
    for t in (0.0, 0.1, 0.2, 0.4, 0.6):
        assert buf.at(t) == (10 * t, 0.0, 0.0)  # the stored pose itself, not a blend
    assert buf.at(0.3) == pytest.approx((3.0, 0.0, 0.0))


def test_interpolation_takes_the_short_way_round_in_yaw() -> None:
    buf = PoseBuffer()
    buf.add(0.0, (0.0, 0.0, 3.0))
    buf.add(1.0, (1.0, 2.0, -3.0))  # 0.28 rad further on, across +-pi
    x, y, yaw = buf.at(0.25)  # type: ignore[misc]
    assert (x, y) == pytest.approx((0.25, 0.5))
    assert yaw == pytest.approx(3.0 + 0.25 * (2 * math.pi - 6.0))
    x, y, yaw = buf.at(0.75)  # type: ignore[misc]
    assert -math.pi <= yaw < math.pi
    assert math.cos(yaw) == pytest.approx(math.cos(3.0 + 0.75 * (2 * math.pi - 6.0)))


def test_a_gap_is_not_bridged_and_old_poses_are_used_only_when_recent_or_before() -> None:
    buf = PoseBuffer(max_gap_s=1.0, max_age_s=0.3)
    assert buf.at(0.0) is None and buf.before(0.0) is None and buf.newest is None
    buf.add(0.0, (0.0, 0.0, 0.0))
    buf.add(5.0, (5.0, 0.0, 0.0))
    assert buf.at(2.5) is None  # 5 s apart: no interpolation, both too old
    assert buf.at(0.2) == (0.0, 0.0, 0.0)  # nearest within max_age_s
    assert buf.at(4.8) == (5.0, 0.0, 0.0)
    assert buf.before(2.5) == (0.0, 0.0, 0.0)  # where the robot was last seen
    assert buf.before(-1.0) is None  # nothing before
    assert buf.at(9.0) is None and buf.before(9.0) == (5.0, 0.0, 0.0)


def test_old_poses_are_trimmed_but_never_below_the_minimum() -> None:
    buf = PoseBuffer(keep_s=5.0)
    for k in range(40):  # 4 s: nothing to trim
        buf.add(k * 0.1, (k * 0.1, 0.0, 0.0))
    assert len(buf) == 40
    for k in range(40, 300):
        buf.add(k * 0.1, (k * 0.1, 0.0, 0.0))
    newest = 299 * 0.1
    assert buf.newest == pytest.approx(newest)
    assert len(buf) <= PoseBuffer.MIN_KEEP + 1
    assert buf.at(newest - 5.0) is not None
    assert buf.at(newest - 8.0) is None  # trimmed


LIMITS = StandLimits(motion_m=0.25, motion_deg=15.0, max_speed_mps=2.5, max_yaw_rate=2.0)


def _stand_then_drive(buf: PoseBuffer, at: tuple[float, float, float], t0: float) -> float:
    """2 s standing at ``at`` (1 cm noise), then driving off along x at 0.5 m/s; returns t."""
    x, y, yaw = at
    t = t0
    for k in range(21):
        t = t0 + 0.1 * k
        buf.add(t, (x + 0.01 * (-1) ** k, y, yaw))
    for k in range(1, 11):
        buf.add(t + 0.1 * k, (x + 0.05 * k, y, yaw))
    return t


def test_stationary_gives_the_mean_stand_and_whether_the_robot_moved_off() -> None:
    buf = PoseBuffer()
    t_end = _stand_then_drive(buf, (1.0, 2.0, 0.5), 0.0)
    pose, moved = buf.stationary(0.0, math.inf, after_jumps=True, limits=LIMITS)
    assert moved
    # the noise averages out; the first 25 cm of driving off (5 poses) barely count
    assert pose == pytest.approx((1.0, 2.0, 0.5), abs=0.004)
    pose, moved = buf.stationary(0.0, t_end - 1.0, after_jumps=True, limits=LIMITS)
    assert not moved and pose is not None  # the stand is not over at t_to
    assert buf.stationary(100.0, math.inf, after_jumps=True, limits=LIMITS) == (None, False)


def test_a_slam_jump_restarts_the_stand_or_ends_the_walk() -> None:
    buf = PoseBuffer()
    for k in range(10):  # standing at the origin
        buf.add(0.1 * k, (0.0, 0.0, 0.0))
    _stand_then_drive(buf, (3.0, -1.0, 0.4), 1.0)  # the SLAM jumps 3 m at 1.0 s
    after, moved = buf.stationary(0.0, math.inf, after_jumps=True, limits=LIMITS)
    assert moved
    assert after == pytest.approx((3.0, -1.0, 0.4), abs=0.004)  # after the jump only
    before, moved = buf.stationary(0.0, math.inf, after_jumps=False, limits=LIMITS)
    assert not moved
    assert before == pytest.approx((0.0, 0.0, 0.0))


def test_turning_on_the_spot_ends_the_stand() -> None:
    buf = PoseBuffer()
    for k in range(30):
        buf.add(0.1 * k, (0.0, 0.0, 0.0 if k < 20 else 0.1 * (k - 19)))  # turns from 2 s on
    pose, moved = buf.stationary(0.0, math.inf, after_jumps=True, limits=LIMITS)
    assert moved and pose == pytest.approx((0.0, 0.0, 0.0), abs=0.06)


def test_the_stand_reaches_back_before_t_from_to_the_jump_or_the_turn_and_averages_noise() -> None:
    """A ride's flags come late: the stand counts every pose since the robot stopped."""
    rng = np.random.default_rng(3)
    buf = PoseBuffer()
    t = 0.0
    for k in range(10):  # driving into the car along y
        t = 0.1 * k
        buf.add(t, (0.0, -1.0 + 0.1 * k, math.pi / 2))
    for k in range(1, 31):  # turning round in it at 1 rad/s
        t += 0.1
        buf.add(t, (0.0, 0.0, min(math.pi / 2 + 0.1 * k, 3 * math.pi / 2)))
    stop = t
    noise = np.radians(0.3)
    for _ in range(80):  # 8 s standing, facing -y: the SLAM's white noise on every pose
        t += 0.1
        buf.add(t, (rng.normal(0, 0.02), rng.normal(0, 0.02), -math.pi / 2 + rng.normal(0, noise)))
    jump = t + 0.1
    for k in range(30):  # after the jump, 3 s more in the car, 5 m and 90 deg off
        buf.add(jump + 0.1 * k, (5.0 + rng.normal(0, 0.02), 1.0, rng.normal(0, noise)))
    ride_flag = stop + 6.0  # the barometer reports the ride 6 s after the robot stopped
    pose, moved = buf.stationary(ride_flag, math.inf, after_jumps=False, limits=LIMITS)
    assert not moved and pose is not None
    assert buf.stand_span is not None
    assert buf.stand_span[0] <= stop + 0.35  # back to the end of the turn (its tail dropped)
    assert buf.stand_span[1] == pytest.approx(jump - 0.1)  # forward to the jump
    assert abs(pose[0]) < 0.01 and abs(pose[1]) < 0.01
    assert abs(math.remainder(pose[2] + math.pi / 2, 2 * math.pi)) < np.radians(0.1)
    arrival_flag = jump + 1.5  # the ride's end, reported after the SLAM jumped
    pose, _ = buf.stationary(arrival_flag, math.inf, after_jumps=True, limits=LIMITS)
    assert pose is not None and buf.stand_span is not None
    assert buf.stand_span[0] == pytest.approx(jump)  # back to the jump, never across it
    assert pose[0] == pytest.approx(5.0, abs=0.015) and abs(pose[2]) < np.radians(0.15)
    assert BACK_MAX_S >= 10.0
