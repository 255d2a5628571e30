"""Odometry across a ride: the car does not turn the robot, and odometry sees that.

The SLAM pose jumps during a ride; the robot's own odometry (its own frame) stays continuous, so
its heading change between the robot's stand before the ride and its stand after it is the
robot's turn in the car (``anchor_yaw='odom'``). Each stand's SLAM poses are carried by the
odometry to one stamp and averaged there (:meth:`OdomYaw.carry`): the SLAM's noise averages
down, and whatever the robot still moved while "standing" (real logs) cancels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from multifloor_slam.maps.pose_buffer import PoseBuffer, robust_pose_mean
from multifloor_slam.maps.scan_geometry import Pose, se2_compose, se2_inverse, wrap_angle


class OdomYaw:
    """Odometry poses kept a while; only their heading changes are used."""

    def __init__(self, max_gap_s: float, max_age_s: float, keep_s: float) -> None:
        self._poses = PoseBuffer(max_gap_s, max_age_s, keep_s)

    def add(self, t: float, x: float, y: float, yaw: float) -> bool:
        """Keep one odometry pose; False (not kept) when any value is not finite."""
        if not all(math.isfinite(v) for v in (t, x, y, yaw)):
            return False
        self._poses.add(float(t), (float(x), float(y), float(yaw)))
        return True

    def turn(self, t0: float, t1: float | None) -> float | None:
        """The robot's turn from ``t0`` to ``t1``; None unless odometry covers both."""
        if t1 is None:
            return None
        a, b = self._poses.at(t0), self._poses.at(t1)
        if a is None or b is None:
            return None
        return wrap_angle(b[2] - a[2])

    def carry(self, stand: Sequence[tuple[float, Pose]], t_ref: float) -> Pose | None:
        """The SLAM pose at ``t_ref``: the stand's poses carried there by odometry, averaged.

        None unless odometry covers the stand and ``t_ref``.
        A robot that still creeps or turns while "standing" (a real log resuming after a ride)
        is followed by the odometry, so every pose counts without biasing the average.
        """
        ref = self._poses.at(t_ref)
        if ref is None or not stand:
            return None
        carried = []
        for t, pose in stand:
            o = self._poses.at(t)
            if o is None:
                return None
            carried.append(se2_compose(pose, se2_compose(se2_inverse(o), ref)))
        return robust_pose_mean(carried)


__all__ = ['OdomYaw']
