"""Elevator episodes: when a ride starts, when it is over, and where the car stood.

Three signals say the robot is in an elevator - the barometer's ``riding`` flag, the detector's
``inside`` state and a floor change - and each may come early, late or not at all. An episode
starts with the first of them and ends only when none holds any more, the new floor has settled
and the robot has driven off its stand in the car. Its outcome is an :class:`Arrival`: the
departure pose on the old floor and the robot's pose in the car after the ride, both measured
while it stood still (so a SLAM jump at any time inside the car is removed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from multifloor_slam.maps.pose_buffer import PoseBuffer, StandLimits
from multifloor_slam.maps.scan_geometry import Pose, se2_compose, se2_inverse, wrap_angle


@dataclass
class Episode:
    """One elevator episode in progress (no scan is mapped meanwhile)."""

    start_t: float
    from_floor: int
    dep_floor_pose: Pose | None  # robot pose in the departure floor's frame
    dep_slam_pose: Pose | None
    dep_t: float = 0.0  # when the departure pose was taken
    dep_transform: Pose | None = None  # SLAM -> departure floor at that time
    ride_seen: bool = False
    floor_change_t: float | None = None
    riding_end_t: float | None = None
    inside_end_t: float | None = None
    dep_stand_t: float | None = None  # a stamp inside the departure stand (for odometry)
    dep_stand: tuple[tuple[float, Pose], ...] = ()  # its stamped poses


@dataclass(frozen=True)
class Arrival:
    """A finished ride to another floor."""

    episode: Episode
    slam_pose: Pose  # the robot standing in the car after the ride (SLAM frame)
    t: float | None = None  # a stamp inside that stand (for odometry)
    stand: tuple[tuple[float, Pose], ...] = ()  # its stamped poses

    @property
    def dep_t(self) -> float:
        """A stamp inside the departure stand (its middle when known)."""
        ep = self.episode
        return ep.dep_stand_t if ep.dep_stand_t is not None else ep.dep_t

    def anchor(
        self, car_xy: tuple[float, float], anchor_yaw: str, odom_turn: float | None = None
    ) -> Pose:
        """The SLAM -> arrival floor transform that puts the robot in the car at ``car_xy``.

        Its heading is the departure heading plus ``odom_turn`` (the robot's own turn between
        the departure and the arrival stands, from odometry, continuous through the ride) when
        given; else the departure heading (``anchor_yaw='departure'``, or ``'odom'`` without
        odometry) or that plus the SLAM's own heading change during the ride (``'slam'``).
        Needs the departure poses.
        """
        dep_floor, dep_slam = self.episode.dep_floor_pose, self.episode.dep_slam_pose
        assert dep_floor is not None and dep_slam is not None
        yaw = dep_floor[2]
        if odom_turn is not None:
            yaw = wrap_angle(yaw + odom_turn)
        elif anchor_yaw == 'slam':
            yaw = wrap_angle(yaw + wrap_angle(self.slam_pose[2] - dep_slam[2]))
        return se2_compose((car_xy[0], car_xy[1], yaw), se2_inverse(self.slam_pose))


def _mid(span: tuple[float, float] | None) -> float | None:
    return None if span is None else 0.5 * (span[0] + span[1])


class EpisodeTracker:
    """The riding / inside flags and the episode they open, closed on the robot's poses."""

    def __init__(
        self,
        poses: PoseBuffer,
        settle_s: float = 1.0,
        arrival_timeout_s: float = 30.0,
        limits: StandLimits | None = None,
    ) -> None:
        self.poses = poses
        self.settle_s = settle_s
        self.arrival_timeout_s = arrival_timeout_s
        self.limits = limits or StandLimits()
        self.riding = False
        self.inside = False
        self.episode: Episode | None = None

    @property
    def blocked(self) -> bool:
        """True while nothing may be mapped: in an episode, riding, or inside the car."""
        return self.episode is not None or self.riding or self.inside

    # ---- signals: each returns True when an episode must start ----------------------------------
    def set_riding(self, t: float, riding: bool) -> bool:
        """The barometer's ride flag; True on its rising edge."""
        if riding and not self.riding:
            self.riding = True
            return True
        if not riding and self.riding:
            self.riding = False
            if self.episode is not None:
                self.episode.riding_end_t = t
        return False

    def set_inside(self, t: float, inside: bool) -> bool:
        """The detector's 'inside the car'; True when it begins."""
        if inside and not self.inside:
            self.inside = True
            return True
        if not inside and self.inside:
            self.inside = False
            if self.episode is not None:
                self.episode.inside_end_t = t
        return False

    def floor_changed(self, t: float) -> None:
        """The floor estimator switched floors (an episode is open: :meth:`start` came first)."""
        assert self.episode is not None
        self.episode.floor_change_t = t

    # ---- the episode --------------------------------------------------------------------------
    def start(self, t: float, floor: int, transform: Pose | None, from_ride: bool) -> None:
        """Open an episode on ``floor`` (SLAM -> floor ``transform``), or update the open one.

        The departure pose is where the robot stood at ``t``. When the open episode began
        without a ride (the detector saw the car first), the ride's start re-takes it: the robot
        now stands still where the car is.
        """
        ep = self.episode
        if ep is None:
            dep_slam = self.poses.before(t)
            dep_floor = None
            if dep_slam is not None and transform is not None:
                dep_floor = se2_compose(transform, dep_slam)
            self.episode = Episode(
                t, floor, dep_floor, dep_slam, t, transform, ride_seen=from_ride
            )
        elif from_ride and not ep.ride_seen and ep.floor_change_t is None:
            ep.ride_seen = True
            dep_slam = self.poses.before(t)
            if dep_slam is not None and transform is not None:
                ep.dep_slam_pose = dep_slam
                ep.dep_floor_pose = se2_compose(transform, dep_slam)
                ep.dep_t, ep.dep_transform = t, transform

    def update(self, t: float, floor: int) -> Arrival | None:
        """Close the episode when it is over at ``t`` on ``floor``; the arrival if it was a ride.

        An episode that ends on its departure floor (a false alarm, an empty ride) closes with
        no arrival: the SLAM frame still holds.
        """
        ep = self.episode
        if ep is None or self.riding or self.inside:
            return None
        settle = self.settle_s
        if ep.floor_change_t is not None and t < ep.floor_change_t + settle:
            return None
        if (
            ep.floor_change_t is None
            and ep.riding_end_t is not None
            and t < ep.riding_end_t + settle
        ):
            return None  # a ride ended without a floor change yet: the new floor may come late
        ends = [v for v in (ep.riding_end_t, ep.floor_change_t) if v is not None]
        t_arr = max(ends) if ends else (ep.inside_end_t if ep.inside_end_t is not None else t)
        if floor == ep.from_floor:
            self.episode = None
            return None
        arr_slam = self._rest_pose(t_arr, t)
        if arr_slam is None:
            return None  # the robot still stands in the car (or no pose yet): keep waiting
        arr_t = _mid(self.poses.stand_span)
        arr_stand = tuple(self.poses.stand)
        self.episode = None
        if ep.dep_transform is not None:
            # The car position: the mean pose while the robot stood still around the departure.
            dep, _ = self.poses.stationary(ep.dep_t, t_arr, after_jumps=False, limits=self.limits)
            if dep is not None:
                ep.dep_slam_pose = dep
                ep.dep_floor_pose = se2_compose(ep.dep_transform, dep)
                ep.dep_stand_t = _mid(self.poses.stand_span)
                ep.dep_stand = tuple(self.poses.stand)
        return Arrival(ep, arr_slam, arr_t, arr_stand)

    def _rest_pose(self, t_from: float, t_now: float) -> Pose | None:
        """The SLAM pose of the robot standing in the car after the ride, once it moves off.

        None while the robot still stands there and ``arrival_timeout_s`` has not passed.
        """
        timed_out = t_now - t_from > self.arrival_timeout_s
        pose, _ = self.poses.stationary(
            t_from, math.inf, after_jumps=True, limits=self.limits, only_if_moved=not timed_out
        )
        return pose


__all__ = ['Arrival', 'Episode', 'EpisodeTracker']
