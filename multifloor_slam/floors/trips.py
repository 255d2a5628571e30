"""Car stops and robot exits: which stops of the car end the robot's trip.

The barometer sees the car stop at every floor it serves on the way; the robot's floor for
mapping and navigation is the one where it leaves the car. Between two rides the robot either
stayed in (an intermediate stop, or it rode the same car on) or left. What tells them apart, best
first:

- **odometry** (continuous through rides): the robot drove ``exit_distance_m`` away from where it
  stood when the car stopped, so it left the car;
- **elevator state** (camera + laser fusion, ``elevator/state``): ``none`` or ``approaching`` held
  for ``outside_hold_s`` after the stop says it is out of the car;
- **barometer alone**: the car moved again (``floor/riding``) within ``max_stop_s`` of stopping,
  so the robot stayed in; a stop longer than that is an exit.

The tracker is fed in time order (rides when the estimator reports them, which is a little
after they end, then odometry and states) and decides each stop once; :meth:`finish` closes the
last trip at the end of the log.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from multifloor_slam.errors import ConfigError
from multifloor_slam.floors.outputs import RideEvent

EVIDENCE = ('odometry', 'elevator_state', 'barometer', 'end_of_log')
OUTSIDE_STATES = frozenset({'none', 'approaching'})


@dataclass(frozen=True)
class TripParams:
    """How a stop is told to be an exit.

    Attributes:
        exit_distance_m: odometry distance from the stand in the stopped car that means the robot
            left it (the localization mode uses the same rule).
        outside_hold_s: how long ``elevator/state`` must say ``none``/``approaching`` after a stop.
        max_stop_s: longest stop of a car that the robot stays in, when nothing but the barometer
            tells (doors of an intermediate stop stay open 3-12 s on the cars we simulate).
    """

    exit_distance_m: float = 1.0
    outside_hold_s: float = 2.0
    max_stop_s: float = 15.0

    def __post_init__(self) -> None:
        for name in ('exit_distance_m', 'outside_hold_s', 'max_stop_s'):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise ConfigError(f'{name} must be a positive number, got {value}')


@dataclass(frozen=True)
class CarStopRecord:
    """One stop of the car on a trip (the robot stayed in unless it is the trip's last)."""

    t_stop: float
    floor: int
    label: str


@dataclass(frozen=True)
class Trip:
    """From the first ride's start to the stop where the robot left the car."""

    t_start: float
    t_exit: float
    from_floor: int
    to_floor: int
    from_label: str
    to_label: str
    stops: list[CarStopRecord] = field(default_factory=list)  # intermediate stops only
    evidence: str = 'barometer'  # one of EVIDENCE: what said the robot left

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, times rounded to milliseconds."""
        data = asdict(self)
        data['t_start'] = round(self.t_start, 3)
        data['t_exit'] = round(self.t_exit, 3)
        for stop in data['stops']:
            stop['t_stop'] = round(stop['t_stop'], 3)
        return data


class TripTracker:
    """Groups :class:`RideEvent` s into trips with the best exit evidence at hand."""

    def __init__(self, params: TripParams | None = None) -> None:
        self.params = params or TripParams()
        self.trips: list[Trip] = []
        self._closed: list[list[RideEvent]] = []  # the rides of each trip in ``trips``
        self._rides: list[RideEvent] = []  # rides of the open trip (robot not known out)
        self._stand: tuple[float, float] | None = None  # odometry in the moving car
        self._saw_odom = False
        self._saw_state = False
        self._outside_since: float | None = None
        self._riding = False
        # The last minute of odometry: a ride is reported after the car stopped (seconds later
        # at 1 Hz), and the robot's stand is where it stood in the moving car, not at the report.
        self._recent: deque[tuple[float, float, float]] = deque(maxlen=4096)

    @property
    def car_stops(self) -> int:
        """Every stop of the car so far (intermediate ones and exits)."""
        return sum(len(t.stops) + 1 for t in self.trips) + len(self._rides)

    def on_ride(self, ride: RideEvent) -> None:
        """A ride the estimator reported: a new stop of the car.

        A ride with the start of the previous one supersedes it (the estimator found that the
        stop was a pause of one ride): it replaces that ride, reopening its trip if needed.
        """
        if not self._rides and self._closed and self._closed[-1][-1].t_start == ride.t_start:
            self.trips.pop()
            self._rides = self._closed.pop()
        if self._rides and self._rides[-1].t_start == ride.t_start:
            self._rides.pop()
        self._barometer_exit(ride.t_start)  # the stop before this ride, if it was long
        self._rides.append(ride)
        self._riding = False  # a reported ride has ended: the car stands
        self._stand = None
        self._saw_odom = self._saw_state = False
        self._outside_since = None
        for t, x, y in [r for r in self._recent if r[0] >= ride.t_start]:
            self._odom_step(t, x, y)

    def on_odom(self, t: float, x: float, y: float) -> None:
        """An odometry pose; the stand is the first one after the newest ride started.

        The robot stands in the moving car, so a ride end found late does not hide a quick exit.
        """
        if not math.isfinite(t + x + y):
            return
        self._recent.append((t, x, y))
        while self._recent and self._recent[0][0] < t - 60.0:
            self._recent.popleft()
        self._odom_step(t, x, y)

    def _odom_step(self, t: float, x: float, y: float) -> None:
        if not self._rides or t < self._rides[-1].t_start:
            return
        self._saw_odom = True
        if self._stand is None:
            self._stand = (x, y)
        elif self._riding:
            # The barometer says the car moves: a drive now is out of a stop it has not
            # reported yet, and the replay from that ride's start finds it.
            return
        elif math.hypot(x - self._stand[0], y - self._stand[1]) >= self.params.exit_distance_m:
            self._close(max(t, self._rides[-1].t_end), 'odometry')

    def on_elevator_state(self, t: float, state: str) -> None:
        """An ``elevator/state`` word; ``none``/``approaching`` held long enough is an exit."""
        if not self._rides or t < self._rides[-1].t_end:
            return
        self._saw_state = True
        if state not in OUTSIDE_STATES:
            self._outside_since = None
            return
        if self._outside_since is None:
            self._outside_since = t
        if t - self._outside_since >= self.params.outside_hold_s and not self._saw_odom:
            self._close(t, 'elevator_state')

    def on_riding(self, riding: bool) -> None:
        """``floor/riding``: a car that moves again before ``max_stop_s`` kept the robot in."""
        self._riding = riding

    def on_time(self, t: float) -> None:
        """The log's clock (any sample): a barometer-only stop ends after ``max_stop_s``."""
        if not self._riding:
            self._barometer_exit(t)

    def _barometer_exit(self, t: float) -> None:
        """Barometer only (no odometry, no states since the stop): over ``max_stop_s`` = exit."""
        if self._saw_odom or self._saw_state or not self._rides:
            return
        stop = self._rides[-1].t_end
        if t - stop > self.params.max_stop_s:
            self._close(stop + self.params.max_stop_s, 'barometer')

    def finish(self, t_end: float) -> list[Trip]:
        """Close the open trip at the end of the log; returns every trip."""
        if self._rides:
            self._close(max(t_end, self._rides[-1].t_end), 'end_of_log')
        return self.trips

    def _close(self, t_exit: float, evidence: str) -> None:
        rides, self._rides = self._rides, []
        self._closed.append(rides)
        first, last = rides[0], rides[-1]
        stops = [CarStopRecord(r.t_end, r.to_floor, r.to_label) for r in rides[:-1]]
        self.trips.append(
            Trip(
                first.t_start,
                t_exit,
                first.from_floor,
                last.to_floor,
                first.from_label,
                last.to_label,
                stops,
                evidence,
            )
        )
        self._stand = None
        self._outside_since = None


def append_ride(rides: list[RideEvent], ride: RideEvent) -> None:
    """Append ``ride``; one with the last ride's start supersedes it (that stop was a pause)."""
    if rides and rides[-1].t_start == ride.t_start:
        rides.pop()
    rides.append(ride)


__all__ = ['EVIDENCE', 'CarStopRecord', 'Trip', 'TripParams', 'TripTracker', 'append_ride']
