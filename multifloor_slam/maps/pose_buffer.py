"""A time-ordered buffer of SLAM poses: interpolation for scans and the robot's stand in the car.

Scans and poses come at different rates and slightly out of order, and a ride is anchored on the
poses of the robot standing in the car seconds after they arrived. Both need the recent poses by
time; this class keeps them (sorted, trimmed to ``keep_s``) and answers those two questions.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

from multifloor_slam.maps.scan_geometry import Pose, wrap_angle

#: Pose noise allowed on top of the speed limits before a step counts as a SLAM jump.
JUMP_NOISE_M = 0.15
JUMP_NOISE_RAD = 0.1


@dataclass(frozen=True)
class StandLimits:
    """What separates standing still, driving off and a SLAM jump in :meth:`PoseBuffer.stationary`.

    Attributes:
        motion_m: moving further than this from the standing pose ends the stand.
        motion_deg: ... or turning more than this (deg).
        max_speed_mps: a step faster than this (+ ``JUMP_NOISE_M``) is a SLAM jump.
        max_yaw_rate: a turn faster than this (rad/s, + ``JUMP_NOISE_RAD``) is a SLAM jump.
    """

    motion_m: float = 0.25
    motion_deg: float = 15.0
    max_speed_mps: float = 2.5
    max_yaw_rate: float = 2.0


class PoseBuffer:
    """The recent SLAM poses of the robot, sorted by stamp."""

    #: The buffer is never trimmed below this many poses.
    MIN_KEEP = 64

    def __init__(self, max_gap_s: float = 1.0, max_age_s: float = 0.3, keep_s: float = 120.0):
        self.max_gap_s = max_gap_s
        self.max_age_s = max_age_s
        self.keep_s = keep_s
        self._t: list[float] = []
        self._v: list[Pose] = []
        #: (first, last) stamp of the poses the last :meth:`stationary` call stood on
        self.stand_span: tuple[float, float] | None = None

    def __len__(self) -> int:
        return len(self._t)

    @property
    def newest(self) -> float | None:
        """Stamp of the newest pose (None while empty)."""
        return self._t[-1] if self._t else None

    def add(self, t: float, pose: Pose) -> None:
        """Insert a pose in stamp order; poses older than ``keep_s`` before ``t`` are dropped."""
        if self._t and t < self._t[-1]:
            i = bisect.bisect_right(self._t, t)
            self._t.insert(i, float(t))
            self._v.insert(i, pose)
        else:
            self._t.append(float(t))
            self._v.append(pose)
        if len(self._t) > self.MIN_KEEP and self._t[0] < t - self.keep_s:
            k = bisect.bisect_left(self._t, t - self.keep_s)
            del self._t[:k]
            del self._v[:k]

    def at(self, t: float) -> Pose | None:
        """The pose at ``t``, or None when no pose is close enough in time.

        Interpolated between the two poses around ``t`` when they are at most ``max_gap_s``
        apart; otherwise the nearest pose when it is within ``max_age_s`` of ``t``.
        """
        ts = self._t
        if not ts:
            return None
        i = bisect.bisect_left(ts, t)
        if i < len(ts) and ts[i] == t:
            return self._v[i]
        if 0 < i < len(ts) and ts[i] - ts[i - 1] <= self.max_gap_s:
            a, b = self._v[i - 1], self._v[i]
            w = (t - ts[i - 1]) / (ts[i] - ts[i - 1])
            yaw = a[2] + w * wrap_angle(b[2] - a[2])
            return a[0] + w * (b[0] - a[0]), a[1] + w * (b[1] - a[1]), wrap_angle(yaw)
        best = min((j for j in (i - 1, i) if 0 <= j < len(ts)), key=lambda j: abs(ts[j] - t))
        return self._v[best] if abs(ts[best] - t) <= self.max_age_s else None

    def before(self, t: float) -> Pose | None:
        """Like :meth:`at`, but falls back on the last pose at or before ``t`` however old.

        Where the robot stood when a ride began counts even when the SLAM had paused.
        """
        pose = self.at(t)
        if pose is None and self._t and self._t[0] <= t:
            pose = self._v[bisect.bisect_right(self._t, t) - 1]
        return pose

    def stationary(
        self, t_from: float, t_to: float, after_jumps: bool, limits: StandLimits
    ) -> tuple[Pose | None, bool]:
        """Median pose while the robot stands still from ``t_from`` on; True if it moved off.

        Poses are walked in order. A step faster than the robot can drive or turn is a SLAM
        jump: with ``after_jumps`` the stand restarts after it (the pose after the jump is what
        counts), otherwise the walk stops there. The first smooth departure from the standing
        pose (``limits.motion_m`` / ``limits.motion_deg``) or ``t_to`` ends the stand. The
        median over the stand removes the SLAM's per-pose noise from the anchor.
        """
        i = bisect.bisect_left(self._t, t_from)
        if i >= len(self._t):
            return None, False
        prev_t = t_from
        prev = self.at(t_from) or self._v[i]
        stand = [prev]
        stand_t = [t_from]
        turn = math.radians(limits.motion_deg)
        moved = False
        for tj, q in zip(self._t[i:], self._v[i:], strict=True):
            if tj > t_to:
                break
            dt = max(tj - prev_t, 0.0)
            step = math.hypot(q[0] - prev[0], q[1] - prev[1])
            dyaw = abs(wrap_angle(q[2] - prev[2]))
            rest = stand[0]
            if (
                step > limits.max_speed_mps * dt + JUMP_NOISE_M
                or dyaw > limits.max_yaw_rate * dt + JUMP_NOISE_RAD
            ):
                if not after_jumps:
                    break
                stand = [q]  # a SLAM jump: the robot still stands, somewhere else in the map
                stand_t = [tj]
            elif (
                math.hypot(q[0] - rest[0], q[1] - rest[1]) > limits.motion_m
                or abs(wrap_angle(q[2] - rest[2])) > turn
            ):
                moved = True
                break
            else:
                stand.append(q)
                stand_t.append(tj)
            prev_t, prev = tj, q
        self.stand_span = (stand_t[0], stand_t[-1])
        # The median: robust to the first centimetres of driving off at the end of the stand.
        arr = np.asarray(stand)
        yaw0 = arr[0, 2]
        dyaws = [wrap_angle(v - yaw0) for v in arr[:, 2]]
        mid = (
            float(np.median(arr[:, 0])),
            float(np.median(arr[:, 1])),
            wrap_angle(yaw0 + float(np.median(dyaws))),
        )
        return mid, moved


__all__ = ['JUMP_NOISE_M', 'JUMP_NOISE_RAD', 'PoseBuffer', 'StandLimits']
