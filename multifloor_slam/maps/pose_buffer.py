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
from numpy.typing import NDArray

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
        #: the stamped poses of that stand
        self.stand: list[tuple[float, Pose]] = []

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
        self,
        t_from: float,
        t_to: float,
        after_jumps: bool,
        limits: StandLimits,
        only_if_moved: bool = False,
    ) -> tuple[Pose | None, bool]:
        """Mean pose while the robot stands still from ``t_from`` on; True if it moved off.

        Poses are walked in order. A step faster than the robot can drive or turn is a SLAM
        jump: with ``after_jumps`` the stand restarts after it (the pose after the jump is what
        counts), otherwise the walk stops there. The first smooth departure from the standing
        pose (``limits.motion_m`` / ``limits.motion_deg``) or ``t_to`` ends the stand. The stand
        is then extended back before ``t_from`` (or the jump it restarted at) while the robot
        already stood there (:meth:`_extend_back`): a barometer reports a ride seconds after
        the car starts and its end a second after it stops, and every pose of the stand counts.
        The stand's pose is a robust mean (:func:`robust_pose_mean`): the SLAM's per-pose noise
        averages down with the number of poses, the first centimetres of driving off do not.
        ``only_if_moved``: no pose (None) while the robot still stands (a caller that polls).
        """
        i = bisect.bisect_left(self._t, t_from)
        if i >= len(self._t):
            return None, False
        prev_t = t_from
        prev = self.at(t_from) or self._v[i]
        stand = [prev]
        stand_t = [t_from]
        first = i  # index of the first buffered pose of the stand
        turn = math.radians(limits.motion_deg)
        moved = False
        for j in range(i, len(self._t)):
            tj, q = self._t[j], self._v[j]
            if tj > t_to:
                break
            dt = max(tj - prev_t, 0.0)
            rest = stand[0]
            if _is_jump(prev, q, dt, limits):
                if not after_jumps:
                    break
                stand = [q]  # a SLAM jump: the robot still stands, somewhere else in the map
                stand_t = [tj]
                first = j
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
        if only_if_moved and not moved:
            return None, False
        back, back_t = self._extend_back(first, robust_pose_mean(stand), limits)
        stand, stand_t = back + stand, back_t + stand_t
        self.stand_span = (stand_t[0], stand_t[-1])
        self.stand = list(zip(stand_t, stand, strict=True))
        return robust_pose_mean(stand), moved

    def _extend_back(
        self, first: int, rest: Pose, limits: StandLimits
    ) -> tuple[list[Pose], list[float]]:
        """The poses before index ``first`` where the robot already stood at ``rest``.

        Walked back from ``first - 1`` until a SLAM jump, ``BACK_MAX_S``, or a pose further
        than half ``limits.motion_m`` or a third of ``limits.motion_deg`` from ``rest`` (the
        turn or the drive into the car; what of its tail gets in, the robust mean drops).
        """
        poses: list[Pose] = []
        stamps: list[float] = []
        if first >= len(self._t):
            return poses, stamps
        t_first = self._t[first]
        turn = math.radians(limits.motion_deg) / 3.0
        nxt, nxt_t = self._v[first], t_first
        for j in range(first - 1, -1, -1):
            tj, q = self._t[j], self._v[j]
            if t_first - tj > BACK_MAX_S or _is_jump(q, nxt, max(nxt_t - tj, 0.0), limits):
                break
            if (
                math.hypot(q[0] - rest[0], q[1] - rest[1]) > 0.5 * limits.motion_m
                or abs(wrap_angle(q[2] - rest[2])) > turn
            ):
                break
            poses.append(q)
            stamps.append(tj)
            nxt, nxt_t = q, tj
        return poses[::-1], stamps[::-1]


#: How far back before its first pose a stand is extended (s).
BACK_MAX_S = 30.0
#: Below these spreads a stand's poses count as identical (no pose is dropped).
MIN_SPREAD_M = 0.005
MIN_SPREAD_RAD = math.radians(0.05)


def _is_jump(a: Pose, b: Pose, dt: float, limits: StandLimits) -> bool:
    """True when ``a`` -> ``b`` in ``dt`` is faster than the robot drives or turns."""
    step = math.hypot(b[0] - a[0], b[1] - a[1])
    dyaw = abs(wrap_angle(b[2] - a[2]))
    return (
        step > limits.max_speed_mps * dt + JUMP_NOISE_M
        or dyaw > limits.max_yaw_rate * dt + JUMP_NOISE_RAD
    )


def robust_mean(values: NDArray[np.floating], floor: float) -> float:
    """The mean of the values within 3 robust sigmas (1.4826 MAD, >= ``floor``) of the median.

    Why not the median: for the SLAM's white pose noise the mean's error is 0.8x the median's
    over the same stand (and an anchor's heading error is carried to every floor after it);
    the median's robustness is kept by dropping what lies far from it.
    """
    med = float(np.median(values))
    dev = np.abs(values - med)
    keep = dev <= max(3.0 * 1.4826 * float(np.median(dev)), floor)
    return float(values[keep].mean()) if keep.any() else med


def angle_mean(angles: NDArray[np.floating]) -> float:
    """:func:`robust_mean` of angles (rad), taken relative to the first one; wrapped."""
    a0 = float(angles[0])
    rel = (np.asarray(angles, dtype=float) - a0 + math.pi) % (2 * math.pi) - math.pi
    return wrap_angle(a0 + robust_mean(rel, MIN_SPREAD_RAD))


def robust_pose_mean(poses: list[Pose]) -> Pose:
    """Per axis :func:`robust_mean` of the poses (heading: :func:`angle_mean`)."""
    arr = np.asarray(poses, dtype=float)
    return (
        robust_mean(arr[:, 0], MIN_SPREAD_M),
        robust_mean(arr[:, 1], MIN_SPREAD_M),
        angle_mean(arr[:, 2]),
    )


__all__ = ['JUMP_NOISE_M', 'JUMP_NOISE_RAD', 'PoseBuffer', 'StandLimits', 'angle_mean']
__all__ += ['robust_mean', 'robust_pose_mean']
