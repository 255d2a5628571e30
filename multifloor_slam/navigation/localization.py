"""Localization mode: which floor's map to show when, and the pose to hand AMCL on arrival.

A saved building is navigated with one 2D localizer (AMCL) that sees one floor's map at a time.
:class:`FloorLocalizer` follows the floor estimator (``floor/current``, ``floor/riding``), the
robot's odometry and the localizer's own pose, and decides:

- **when to switch.** A ride episode starts when ``floor/riding`` goes true and lasts until the
  robot leaves the car on a settled floor: riding is over, ``floor/current`` has not changed for
  ``settle_s``, and the robot has driven ``exit_distance_m`` (by odometry) from where it stood
  when the car stopped, or ``leave_timeout_s`` passed since then (a robot without odometry). An
  intermediate stop (the floor changes, the robot stays in the car, riding resumes) is part of
  the same episode, so its floor is never shown. The switch is decided on the input that makes
  it final; the node publishes the precomputed map in the same callback.
- **the pose on the new floor.** The robot's pose on the old floor when the ride began (the last
  localized pose before it, carried to the ride start and beyond by odometry) is expressed
  relative to the elevator link it stood in, then placed at that link's car position on the new
  floor: ``pose_new = (c_new - c_old) + anchor_map * inv(anchor_odom) * odom_now``. Floor frames
  share their orientation (the mapper anchors every floor at the vertical shafts), so the
  heading carried by odometry through the ride is the heading on the new floor.
- **how sure that pose is** (the covariance AMCL spreads its particles with): the localized
  pose's own covariance, plus the link means' uncertainty (``stand_sigma_m`` / sqrt(stands
  seen)), odometry drift per metre driven and per radian turned, gyro drift per second since
  the anchor, and ``unknown_stop_sigma_m`` when the link was never seen on the new floor (its
  position there is then the mean of its other floors: shafts are vertical).

No ROS here: times are seconds, poses ``(x, y, yaw)``; ``nodes/floor_localizer.py`` is the shell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from multifloor_slam.errors import ConfigError
from multifloor_slam.floors.floor_table import FloorTable, floor_label
from multifloor_slam.maps.building import Building, ElevatorLink
from multifloor_slam.maps.pose_buffer import PoseBuffer
from multifloor_slam.maps.scan_geometry import Pose, se2_compose, se2_inverse, wrap_angle


@dataclass(frozen=True)
class LocalizerParams:
    """When the map switches and how sure the arrival pose is.

    Attributes:
        exit_distance_m: odometry distance from the robot's stand in the stopped car that says
            it has left the car (the switch happens then).
        settle_s: ``floor/current`` must stay unchanged this long after the ride before a switch.
        leave_timeout_s: switch this long after the ride ended even if the robot has not moved
            (for robots without odometry; 0 = only on leaving the car). A stop longer than this
            with the robot still in the car is taken for the arrival.
        link_max_distance_m: the robot's pose when the ride began must be this close to a
            link's car position on the old floor for that link to be the car it rode.
        stand_sigma_m: spread of where robots stand in a car (one stand); a link's position is
            the mean of its stands, so it is known to ``stand_sigma_m / sqrt(stands)``.
        base_sigma_m: position sigma floor of every arrival pose.
        odom_drift: position sigma per metre driven since the anchor pose (odometry error).
        unknown_stop_sigma_m: extra position sigma when the link was never seen on the new
            floor (its position there is the mean of its other floors).
        no_anchor_sigma_m: position sigma when no localized pose preceded the ride (the pose is
            then the car position itself).
        yaw_sigma_deg: heading sigma floor of every arrival pose (deg).
        yaw_drift_deg_per_s: heading sigma growth per second since the anchor pose (gyro bias).
        yaw_drift_per_rad: heading sigma per radian turned since the anchor (odometry scale).
        max_pose_age_s: a localized pose older than this at the ride start is not used.
    """

    exit_distance_m: float = 1.0
    settle_s: float = 0.5
    leave_timeout_s: float = 20.0
    link_max_distance_m: float = 3.0
    stand_sigma_m: float = 0.3
    base_sigma_m: float = 0.05
    odom_drift: float = 0.03
    unknown_stop_sigma_m: float = 0.5
    no_anchor_sigma_m: float = 1.0
    yaw_sigma_deg: float = 2.0
    yaw_drift_deg_per_s: float = 0.05
    yaw_drift_per_rad: float = 0.02
    max_pose_age_s: float = 120.0

    def __post_init__(self) -> None:
        for name in ('exit_distance_m', 'link_max_distance_m', 'max_pose_age_s'):
            if not getattr(self, name) > 0.0:
                raise ConfigError(f'{name} must be > 0, got {getattr(self, name)}')
        for name in (
            'settle_s',
            'leave_timeout_s',
            'stand_sigma_m',
            'base_sigma_m',
            'odom_drift',
            'unknown_stop_sigma_m',
            'no_anchor_sigma_m',
            'yaw_sigma_deg',
            'yaw_drift_deg_per_s',
            'yaw_drift_per_rad',
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise ConfigError(f'{name} must be >= 0, got {value}')


@dataclass(frozen=True)
class InitialPose:
    """The pose handed to AMCL on arrival (in the new floor's map frame) and its sigmas."""

    t: float
    x: float
    y: float
    yaw: float
    sigma_xy: float
    sigma_yaw: float
    link_id: int | None

    def covariance(self) -> list[float]:
        """Row-major 6x6 covariance (x, y, z, roll, pitch, yaw) as PoseWithCovariance wants."""
        cov = [0.0] * 36
        cov[0] = cov[7] = self.sigma_xy**2
        cov[35] = self.sigma_yaw**2
        return cov


@dataclass(frozen=True)
class Switch:
    """Show ``floor``'s map from ``t`` on (and hand AMCL ``initial_pose`` when set).

    ``reason``: 'start' (the first floor), 'left_car' (the robot drove out), 'timeout'
    (``leave_timeout_s`` after the ride), 'floor_change' (a floor change without a ride).
    """

    t: float
    floor: int
    previous: int | None
    reason: str
    initial_pose: InitialPose | None


@dataclass
class _Anchor:
    """A localized pose on the shown floor and the odometry pose at its stamp."""

    t: float
    floor: int
    pose: Pose
    odom: Pose | None
    var_xy: float
    var_yaw: float


@dataclass
class _Episode:
    """From the first ride start to leaving the car (intermediate stops included)."""

    t_start: float
    from_floor: int
    anchor: _Anchor | None
    ride_start: float | None = None
    riding_s: float = 0.0
    t_end: float | None = None
    odom_end: Pose | None = None


class FloorLocalizer:
    """Which floor's map to show, and the arrival pose, from floor events and odometry.

    Every input returns a :class:`Switch` when the shown floor changes, else None. Headerless
    events (floor, riding) are timed by the caller (the node uses the newest odometry stamp).
    """

    def __init__(self, building: Building, params: LocalizerParams | None = None) -> None:
        self.building = building
        self.params = params or LocalizerParams()
        table = None
        if building.floor_table:
            try:
                table = FloorTable.from_dict(building.floor_table)
            except Exception:  # a table that cannot be read leaves the default labels
                table = None
        self._labels = {
            i: table.label(i) if table is not None and i in table else floor_label(i)
            for i in building.floors
        }
        self.shown: int | None = None
        self.floor: int | None = None
        self.riding = False
        self._floor_since = -math.inf
        self._episode: _Episode | None = None
        self._anchor: _Anchor | None = None
        self._odom = PoseBuffer(max_gap_s=1.0, max_age_s=0.5, keep_s=30.0)
        self._odom_now: Pose | None = None
        self._last_switch_t = -math.inf
        #: floor indices seen on ``floor/current`` that the building has no map of
        self.unknown_floors: set[int] = set()
        self.switches: list[Switch] = []

    # ----------------------------------------------------------------- queries
    def label(self, floor: int) -> str:
        """The floor's label (from the building's floor table, else ``L<index>``)."""
        return self._labels.get(floor, floor_label(floor))

    @property
    def pending(self) -> bool:
        """True between a ride's start and the robot leaving the car."""
        return self._episode is not None

    # ------------------------------------------------------------------ inputs
    def on_odom(self, t: float, x: float, y: float, yaw: float) -> Switch | None:
        """One odometry pose (odom frame); leaving the car is seen here."""
        if not all(math.isfinite(v) for v in (t, x, y, yaw)):
            return None
        pose = (float(x), float(y), float(yaw))
        self._odom.add(float(t), pose)
        self._odom_now = pose
        ep = self._episode
        if ep is not None and ep.t_end is not None and ep.odom_end is None:
            ep.odom_end = pose  # no odometry before the ride ended: measure the stand from here
        return self._evaluate(t)

    def on_pose(
        self, t: float, x: float, y: float, yaw: float, var_xy: float = 0.0, var_yaw: float = 0.0
    ) -> None:
        """One localized pose on the shown floor's map (AMCL's ``amcl_pose``).

        Ignored during a ride episode and when older than the last switch: until AMCL has the
        new map and the initial pose, its poses belong to the old floor.
        """
        if self._episode is not None or self.shown is None or t < self._last_switch_t:
            return
        if not all(math.isfinite(v) for v in (t, x, y, yaw)):
            return
        odom = self._odom.at(t) if len(self._odom) else None
        if odom is None and len(self._odom):
            return  # odometry exists but not at this stamp: cannot tie the pose to it
        pose = (float(x), float(y), float(yaw))
        self._anchor = _Anchor(
            float(t), self.shown, pose, odom, max(float(var_xy), 0.0), max(float(var_yaw), 0.0)
        )

    def on_riding(self, t: float, riding: bool) -> Switch | None:
        """``floor/riding``: a ride starts (an episode opens) or ends."""
        if riding and not self.riding:
            if self._episode is None and self.shown is not None:
                anchor = self._anchor
                if anchor is not None and t - anchor.t > self.params.max_pose_age_s:
                    anchor = None
                self._episode = _Episode(t, self.shown, anchor)
            if self._episode is not None:
                self._episode.ride_start = t
        elif not riding and self.riding and self._episode is not None:
            ep = self._episode
            if ep.ride_start is not None:
                ep.riding_s += max(0.0, t - ep.ride_start)
            ep.ride_start = None
            ep.t_end = t
            ep.odom_end = self._odom_now
        self.riding = bool(riding)
        return self._evaluate(t)

    def on_floor(self, t: float, floor: int) -> Switch | None:
        """``floor/current``. The first one is shown at once; later ones wait for the exit."""
        floor = int(floor)
        if floor != self.floor:
            self.floor = floor
            self._floor_since = t
        if floor not in self.building.floors:
            self.unknown_floors.add(floor)
        if self.shown is None:
            if floor not in self.building.floors:
                return None
            return self._switch(t, floor, 'start', None)
        if floor != self.shown and self._episode is None and not self.riding:
            # A floor change without a ride (a missed ride or a corrected floor): the same
            # rules as after a ride, from now.
            ep = _Episode(t, self.shown, self._anchor, t_end=t, odom_end=self._odom_now)
            self._episode = ep
        return self._evaluate(t)

    def tick(self, t: float) -> Switch | None:
        """Advance time without input (the node's timer when no odometry arrives)."""
        return self._evaluate(t)

    # ------------------------------------------------------------------ logic
    def _moved(self, ep: _Episode) -> bool:
        if ep.odom_end is None or self._odom_now is None:
            return False
        dx = self._odom_now[0] - ep.odom_end[0]
        dy = self._odom_now[1] - ep.odom_end[1]
        return math.hypot(dx, dy) >= self.params.exit_distance_m

    def _evaluate(self, t: float) -> Switch | None:
        ep = self._episode
        if ep is None or self.riding or ep.t_end is None or self.floor is None:
            return None
        p = self.params
        if t - max(self._floor_since, ep.t_end) < p.settle_s:
            return None
        if self._moved(ep):
            reason = 'left_car'
        elif p.leave_timeout_s > 0 and t - ep.t_end >= p.leave_timeout_s:
            reason = 'timeout'
        else:
            return None
        if ep.riding_s == 0.0 and ep.t_start == ep.t_end:
            reason = 'floor_change'
        self._episode = None
        if self.floor == self.shown or self.floor not in self.building.floors:
            return None  # rode back to the shown floor, or onto a floor with no map
        pose = self._arrival_pose(t, ep, self.floor)
        return self._switch(t, self.floor, reason, pose)

    def _switch(self, t: float, floor: int, reason: str, pose: InitialPose | None) -> Switch:
        sw = Switch(t, floor, self.shown, reason, pose)
        self.shown = floor
        if reason != 'start':  # the start may be timed by another clock (no odometry yet)
            self._last_switch_t = t
        self._anchor = None
        if pose is not None:
            # The arrival pose is the best localized pose until AMCL publishes its own.
            self._anchor = _Anchor(
                t, floor, (pose.x, pose.y, pose.yaw), self._odom_now, pose.sigma_xy**2,
                pose.sigma_yaw**2,
            )  # fmt: skip
        self.switches.append(sw)
        return sw

    def _link_for(self, xy: tuple[float, float] | None, old: int, new: int) -> ElevatorLink | None:
        """The link the robot rode: nearest to ``xy`` on the old floor, else the only one."""
        links = self.building.links
        if xy is not None:
            best: tuple[float, ElevatorLink] | None = None
            for link in links:
                if old not in link.positions:
                    continue
                cx, cy = link.positions[old]
                d = math.hypot(xy[0] - cx, xy[1] - cy)
                if d <= self.params.link_max_distance_m and (best is None or d < best[0]):
                    best = (d, link)
            return best[1] if best else None
        serving = [lk for lk in links if new in lk.positions and old in lk.positions]
        serving = serving or [lk for lk in links if new in lk.positions]
        return serving[0] if len(serving) == 1 else None

    def _car_xy(self, link: ElevatorLink, floor: int) -> tuple[tuple[float, float], float, int]:
        """Car position on ``floor``, its extra sigma and the stands behind it."""
        if floor in link.positions:
            return link.positions[floor], 0.0, max(1, link.counts.get(floor, 1))
        n = max(1, sum(link.counts.values()))
        return (link.x, link.y), self.params.unknown_stop_sigma_m, n

    def _arrival_pose(self, t: float, ep: _Episode, new: int) -> InitialPose | None:
        p = self.params
        old = ep.from_floor
        anchor = ep.anchor
        odom_now = self._odom_now
        if anchor is not None:
            delta = (0.0, 0.0, 0.0)
            if anchor.odom is not None and odom_now is not None:
                delta = se2_compose(se2_inverse(anchor.odom), odom_now)
            at_end = anchor.pose
            if anchor.odom is not None and ep.odom_end is not None:
                at_end = se2_compose(
                    anchor.pose, se2_compose(se2_inverse(anchor.odom), ep.odom_end)
                )
            now_old = se2_compose(anchor.pose, delta)
            link = self._link_for(at_end[:2], old, new)
            dist = math.hypot(delta[0], delta[1])
            turned = abs(delta[2])
            var_xy = anchor.var_xy + p.base_sigma_m**2 + (p.odom_drift * dist) ** 2
            var_yaw = (
                anchor.var_yaw
                + math.radians(p.yaw_sigma_deg) ** 2
                + (math.radians(p.yaw_drift_deg_per_s) * max(0.0, t - anchor.t)) ** 2
                + (p.yaw_drift_per_rad * turned) ** 2
            )
            x, y = now_old[0], now_old[1]
            if link is not None:
                (cox, coy), _, n_old = self._car_xy(link, old)
                (cnx, cny), extra, n_new = self._car_xy(link, new)
                x, y = x + cnx - cox, y + cny - coy
                var_xy += p.stand_sigma_m**2 * (1.0 / n_old + 1.0 / n_new) + extra**2
            else:
                var_xy += p.unknown_stop_sigma_m**2
            return InitialPose(
                t, x, y, wrap_angle(now_old[2]), math.sqrt(var_xy), math.sqrt(var_yaw),
                None if link is None else link.id,
            )  # fmt: skip
        # No localized pose before the ride: the car position, heading unknown.
        link = self._link_for(None, old, new)
        if link is None:
            return None  # neither a pose nor a single car: AMCL keeps its own guess
        (cx, cy), extra, _ = self._car_xy(link, new)
        moved = 0.0
        if ep.odom_end is not None and odom_now is not None:
            moved = math.hypot(odom_now[0] - ep.odom_end[0], odom_now[1] - ep.odom_end[1])
        sigma = math.sqrt(p.no_anchor_sigma_m**2 + extra**2 + moved**2)
        return InitialPose(t, cx, cy, 0.0, sigma, math.pi, link.id)


__all__ = ['FloorLocalizer', 'InitialPose', 'LocalizerParams', 'Switch']
