"""A navigation tour through the mapped test building, for the localization-mode tests.

The building is mapped from ``mapping_tour`` (3 floors, shafts A west and B east; link A serves
L0-L1, link B L1-L2 as mapped). The robot then navigates it: L0 -> A -> L1 (it turns half a
radian in the moving car), L1 -> B -> L2, and L2 -> B -> L0 with an intermediate stop at L1 where
the robot stays in the car (link B was never seen on L0, so that arrival uses the shaft's
position on its other floors). It stands off the car centre every time. Inputs are what the
localizer node receives: drifting wheel odometry (in its own ``odom`` frame), the floor
estimator's ``floor/current`` and ``floor/riding``, and a stand-in AMCL pose (the truth plus
noise, only outside the car and before any switch is due). Truth: the pose in the building frame
(= every floor's map frame) at every step.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from multifloor_slam.maps.building import Building
from multifloor_slam.maps.mapper import BuildingMapper
from multifloor_slam.maps.scan_geometry import Pose, se2_compose, se2_inverse, wrap_angle

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mapping_tour import default_plan, feed, make_tour

#: The odometry frame's pose in the building frame at the start (odometry starts anywhere).
ODOM_ORIGIN: Pose = (-4.0, 2.5, 0.7)
#: Floors shown in order: the start floor, then one per arrival.
EXPECTED_FLOORS = [0, 1, 2, 0]


@cache
def mapped_building() -> Building:
    """The test building, mapped by the real mapper from the mapping tour (about 1.5 s)."""
    mapper = BuildingMapper()
    feed(mapper, make_tour(scan_rate_hz=4.0, speed_mps=2.0, seed=11))
    return mapper.building


@dataclass
class NavTour:
    """Inputs in time order (``(t, kind, value)``) and the true trajectory."""

    inputs: list[tuple[float, str, object]]
    t: np.ndarray
    poses: np.ndarray
    floors: np.ndarray
    in_car: np.ndarray
    #: (t_end of the last ride, floor) per arrival, in order
    arrivals: list[tuple[float, int]] = field(default_factory=list)

    def true_pose(self, t: float) -> Pose:
        """The true pose at ``t`` (nearest sample)."""
        k = int(np.clip(np.searchsorted(self.t, t), 0, len(self.t) - 1))
        if k > 0 and abs(self.t[k - 1] - t) < abs(self.t[k] - t):
            k -= 1
        x, y, yaw = self.poses[k]
        return float(x), float(y), float(yaw)

    def true_floor(self, t: float) -> int:
        """The true floor at ``t`` (the old one while riding)."""
        k = int(np.clip(np.searchsorted(self.t, t, side='right') - 1, 0, len(self.t) - 1))
        return int(self.floors[k])

    def without(self, kind: str) -> list[tuple[float, str, object]]:
        """The inputs without one kind (e.g. no AMCL poses, no odometry)."""
        return [item for item in self.inputs if item[1] != kind]


class _Recorder:
    """Samples the true trajectory at ``dt`` and keeps the ride events."""

    def __init__(self, dt: float, t0: float, start: Pose, floor: int) -> None:
        self.dt = dt
        self.t = t0
        self.pose = start
        self.floor = floor
        self.in_car = False
        self.samples: list[tuple[float, Pose, int, bool, bool]] = []
        self.events: list[tuple[float, str, object]] = [(t0, 'floor', floor)]
        self.riding = False
        self._emit()

    def _emit(self) -> None:
        self.samples.append((self.t, self.pose, self.floor, self.in_car, self.riding))

    def step(self, pose: Pose) -> None:
        self.t = round(self.t + self.dt, 6)
        self.pose = pose
        self._emit()

    def drive(self, x: float, y: float, speed: float = 1.5) -> None:
        x0, y0, _ = self.pose
        heading = math.atan2(y - y0, x - x0)
        self.turn(heading)
        n = max(1, math.ceil(math.hypot(x - x0, y - y0) / (speed * self.dt)))
        for k in range(1, n + 1):
            self.step((x0 + (x - x0) * k / n, y0 + (y - y0) * k / n, heading))

    def turn(self, yaw: float, rate: float = 1.0) -> None:
        x, y, y0 = self.pose
        d = wrap_angle(yaw - y0)
        n = math.ceil(abs(d) / (rate * self.dt))
        for k in range(1, n + 1):
            self.step((x, y, wrap_angle(y0 + d * k / n)))

    def wait(self, s: float) -> None:
        for _ in range(round(s / self.dt)):
            self.step(self.pose)

    def ride(self, to_floor: int, s: float = 8.0, turn: float = 0.0) -> None:
        """Ride to ``to_floor`` (turning by ``turn`` rad in the car), as the estimator reports."""
        self.events.append((round(self.t + 0.5, 6), 'riding', True))
        n = round(s / self.dt)
        x, y, yaw = self.pose
        self.riding = True
        for k in range(1, n + 1):
            self.step((x, y, wrap_angle(yaw + turn * min(1.0, 2.0 * k / n))))
        self.riding = False
        self.floor = to_floor
        self.events.append((self.t, 'floor', to_floor))
        self.events.append((round(self.t + 0.3, 6), 'riding', False))


def make_nav_tour(seed: int = 0, odom_hz: float = 10.0, amcl_hz: float = 2.0) -> NavTour:
    """The navigation tour described in the module docstring."""
    plan = default_plan()
    a, b = plan.shafts['A'], plan.shafts['B']
    rng = np.random.default_rng(seed)
    rec = _Recorder(1.0 / odom_hz, 1000.0, (8.0, 8.0, math.pi), 0)
    arrivals: list[tuple[float, int]] = []
    # L0 -> A -> L1: in off centre, turn to the door, turn half a radian while riding.
    rec.drive(5.5, 8.0)
    rec.drive(a.cx - 0.3, a.cy + 0.3)
    rec.in_car = True
    rec.turn(0.0)
    rec.wait(1.0)
    rec.ride(1, turn=0.5)
    arrivals.append((rec.t, 1))
    rec.wait(1.5)
    rec.drive(5.5, 8.3)
    rec.in_car = False
    rec.drive(8.6, 8.0)
    rec.drive(18.8, 8.0)
    # L1 -> B -> L2.
    rec.drive(b.cx + 0.3, b.cy - 0.2)
    rec.in_car = True
    rec.turn(math.pi)
    rec.wait(1.0)
    rec.ride(2)
    arrivals.append((rec.t, 2))
    rec.wait(1.0)
    rec.drive(18.5, 7.8)
    rec.in_car = False
    rec.drive(12.0, 8.0)
    rec.drive(18.5, 8.2)
    # L2 -> B -> (stop at L1, the robot stays in) -> L0.
    rec.drive(b.cx - 0.2, b.cy + 0.2)
    rec.in_car = True
    rec.turn(math.pi - 0.3)
    rec.wait(1.0)
    rec.ride(1, turn=0.3)
    rec.wait(4.0)
    rec.ride(0, s=6.0)
    arrivals.append((rec.t, 0))
    rec.wait(1.0)
    rec.drive(18.5, 8.2)
    rec.in_car = False
    rec.drive(14.0, 6.0)

    t = np.array([s[0] for s in rec.samples])
    poses = np.array([s[1] for s in rec.samples])
    floors = np.array([s[2] for s in rec.samples])
    in_car = np.array([s[3] or s[4] for s in rec.samples])
    inputs: list[tuple[float, str, object]] = list(rec.events)
    # Wheel odometry: the true steps with a 1 % scale error and heading noise, in its own frame.
    odom = se2_compose(ODOM_ORIGIN, tuple(poses[0]))
    scale = 1.0 + rng.normal(0.0, 0.01)
    for k in range(len(t)):
        if k:
            step = se2_compose(se2_inverse(tuple(poses[k - 1])), tuple(poses[k]))
            noisy = (step[0] * scale, step[1] * scale, step[2] * scale + rng.normal(0.0, 0.001))
            odom = se2_compose(odom, noisy)
        inputs.append((float(t[k]), 'odom', odom))
    # Stand-in AMCL: the truth plus noise, outside the car only.
    every = max(1, round(odom_hz / amcl_hz))
    for k in range(0, len(t), every):
        if in_car[k]:
            continue
        x, y, yaw = poses[k]
        noisy_pose = (
            x + rng.normal(0.0, 0.03),
            y + rng.normal(0.0, 0.03),
            yaw + rng.normal(0, 0.01),
        )
        inputs.append((float(t[k]) + 1e-4, 'pose', noisy_pose))
    order = {'floor': 0, 'riding': 0, 'odom': 1, 'pose': 2}
    inputs.sort(key=lambda it: (it[0], order[it[1]]))
    return NavTour(inputs, t, poses, floors, in_car, arrivals)


__all__ = ['EXPECTED_FLOORS', 'NavTour', 'make_nav_tour', 'mapped_building']
