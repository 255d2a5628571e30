"""OdomYaw: the robot's turn across a ride, and stand poses carried by odometry to one stamp."""

from __future__ import annotations

import math

import numpy as np
import pytest

from multifloor_slam.maps.odometry import OdomYaw
from multifloor_slam.maps.scan_geometry import Pose, se2_compose


def _odom() -> OdomYaw:
    return OdomYaw(max_gap_s=1.0, max_age_s=0.3, keep_s=600.0)


def test_a_creeping_stand_is_carried_to_its_first_stamp_without_bias() -> None:
    """A real log resumes moving right after a ride: its 'stand' must not be averaged blindly."""
    odom = _odom()
    frame = (4.0, -2.0, 1.2)  # SLAM -> odometry frame: any rigid offset
    rng = np.random.default_rng(0)
    stand: list[tuple[float, Pose]] = []
    for k in range(20):  # creeping forward 5 cm and turning 1 deg every 0.1 s
        t = 0.1 * k
        o = (0.05 * k * math.cos(0.0), 0.0, math.radians(1.0) * k)
        odom.add(t, *o)
        slam = se2_compose(frame, o)
        noisy = (slam[0] + rng.normal(0, 0.02), slam[1] + rng.normal(0, 0.02), slam[2])
        stand.append((t, (noisy[0], noisy[1], noisy[2] + rng.normal(0, math.radians(0.3)))))
    carried = odom.carry(stand, 0.0)
    assert carried is not None
    assert carried[0] == pytest.approx(frame[0], abs=0.015)
    assert carried[1] == pytest.approx(frame[1], abs=0.015)
    assert abs(math.remainder(carried[2] - frame[2], 2 * math.pi)) < math.radians(0.15)
    # the plain average of the same poses lies where the robot was half-way through
    plain = np.mean([p[:2] for _, p in stand], axis=0)
    assert math.hypot(plain[0] - frame[0], plain[1] - frame[1]) > 0.4


def test_carry_needs_odometry_over_the_stand_and_the_stamp() -> None:
    odom = _odom()
    stand: list[tuple[float, Pose]] = [(0.0, (1.0, 2.0, 0.0)), (0.1, (1.0, 2.0, 0.0))]
    assert odom.carry(stand, 0.0) is None  # no odometry at all
    odom.add(0.0, 0.0, 0.0, 0.0)
    odom.add(0.1, 0.0, 0.0, 0.0)
    assert odom.carry(stand, 0.0) == pytest.approx((1.0, 2.0, 0.0))
    assert odom.carry(stand, 50.0) is None  # the stamp is not covered
    assert odom.carry([], 0.0) is None
    assert not odom.add(0.2, math.nan, 0.0, 0.0)
