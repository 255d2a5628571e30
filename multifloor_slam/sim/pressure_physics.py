"""An independent barometer-trace generator for evaluating the floor estimator.

Written from the physics, separately from :mod:`multifloor_slam.sim.pressure` and
:mod:`multifloor_slam.sim.rides` (the estimator's tuning simulator), with its own choices so
that an estimator tuned on one is checked on the other:

- **buildings**: 3-12 floors, a tall lobby (4.5-6 m) above the ground floor in half of them,
  mechanical storeys (5.5-7 m) in a third, 0-3 basements, ordinary storeys 2.7-4.0 m;
- **car motion**: a 7-phase S-curve (jerk, acceleration and speed limits integrated
  explicitly, not a filtered trapezoid); cars 0.4-4 m/s;
- **itineraries**: trips from floor to floor; a trip may stop at intermediate floors where the
  doors open (3-12 s) while the robot stays inside; after some trips the robot rides the same
  car again at once (it stays inside, the car leaves again 4-10 s later);
- **air**: pressure from the isothermal barometric law with the air temperature of the
  building, a stack-effect term (inside pressure gradient a little off the outside one),
  weather drift 20-200 Pa/h with a slow curvature, door/HVAC steps of 5-15 Pa lasting
  2-30 s (abrupt doors, ramped HVAC), a door puff when the car's doors open;
- **sensor**: 1-25 Hz with clock jitter, white noise 0.3-5 Pa, a first-order on-chip IIR
  lag, quantisation, single-sample spikes of 50-300 Pa.

Ground truth comes back per car stop and per trip (where the robot leaves the car), so a
benchmark can score both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

_R = 287.05
_G = 9.80665


@dataclass(frozen=True)
class PhysicsBuilding:
    """Floor elevations (m), ascending; ``elevations_m[i]`` is floor ``i - n_basements``."""

    elevations_m: tuple[float, ...]
    n_basements: int
    lobby: bool
    mechanical: bool

    @property
    def floors(self) -> list[int]:
        """Floor indices, lowest first."""
        return list(range(-self.n_basements, len(self.elevations_m) - self.n_basements))

    def z(self, floor: int) -> float:
        """Elevation (m) of ``floor``."""
        return self.elevations_m[floor + self.n_basements]


def make_building(rng: np.random.Generator) -> PhysicsBuilding:
    """A random building: lobby, mechanical storeys and basements as described above."""
    n = int(rng.integers(3, 13))
    n_b = int(rng.integers(0, min(3, n - 2) + 1))
    storeys = rng.uniform(2.7, 4.0, n - 1)
    lobby = bool(rng.random() < 0.5) and n - 1 > n_b
    if lobby:
        storeys[n_b] = rng.uniform(4.5, 6.0)  # ground floor -> first floor
    mechanical = bool(rng.random() < 0.35) and n_b + 1 < n - 1
    if mechanical:
        k = int(rng.integers(n_b + 1, n - 1))
        storeys[k] = rng.uniform(5.5, 7.0)
    z = np.concatenate([[0.0], np.cumsum(storeys)])
    z -= z[n_b]
    return PhysicsBuilding(tuple(float(v) for v in z), n_b, lobby, mechanical)


def s_curve(distance: float, v_max: float, a_max: float, j_max: float, dt: float) -> NDArray:
    """Heights (m) every ``dt`` s of a 7-phase jerk-limited move over ``distance`` (signed)."""
    d = abs(distance)
    if d < 1e-9:
        return np.zeros(1)

    def phases(v: float) -> tuple[float, float, float]:
        if v * j_max < a_max * a_max:
            tj, ta = math.sqrt(v / j_max), 0.0
        else:
            tj, ta = a_max / j_max, v / a_max - a_max / j_max
        return tj, ta, v * (2 * tj + ta)  # accel + decel distance

    v = v_max
    tj, ta, dist = phases(v)
    if dist > d:
        lo, hi = 0.0, v_max
        for _ in range(60):
            v = 0.5 * (lo + hi)
            if phases(v)[2] > d:
                hi = v
            else:
                lo = v
        v = lo
        tj, ta, dist = phases(v)
    tc = max(0.0, (d - dist) / v)
    seq = [(tj, j_max), (ta, 0.0), (tj, -j_max), (tc, 0.0), (tj, -j_max), (ta, 0.0), (tj, j_max)]
    total = sum(s for s, _ in seq)
    t = np.arange(0.0, total + dt, dt)
    jerk = np.zeros_like(t)
    edge = 0.0
    for span, jv in seq:
        jerk[(t >= edge) & (t < edge + span)] = jv
        edge += span
    acc = np.cumsum(jerk) * dt
    vel = np.clip(np.cumsum(acc) * dt, 0.0, None)
    z = np.concatenate([[0.0], np.cumsum(vel[:-1]) * dt])
    if z[-1] > 0:
        z *= d / z[-1]
    return math.copysign(1.0, distance) * z


@dataclass(frozen=True)
class CarStop:
    """The car moved from ``from_floor`` (at ``t_start``) and stopped at ``to_floor``."""

    t_start: float
    t_stop: float
    from_floor: int
    to_floor: int
    exit: bool  # the robot leaves the car here (the trip ends)
    again: bool = False  # the robot stayed in here and rode the same car on (not an exit)


@dataclass(frozen=True)
class PhysicsTrace:
    """Samples and the truth of one generated trace."""

    t: NDArray[np.float64]
    pressure_pa: NDArray[np.float64]
    stops: list[CarStop]
    building: PhysicsBuilding
    start_floor: int
    conditions: dict = field(default_factory=dict)

    @property
    def trips(self) -> list[CarStop]:
        """Car stops where the robot left the car, each spanning its whole trip."""
        out: list[CarStop] = []
        first: CarStop | None = None
        for s in self.stops:
            first = first or s
            if s.exit:
                out.append(CarStop(first.t_start, s.t_stop, first.from_floor, s.to_floor, True))
                first = None
        return out

    def true_floor_at(self, t: float) -> int:
        """True floor of the car at ``t`` (the origin while moving)."""
        floor = self.start_floor
        for s in self.stops:
            if t >= s.t_stop:
                floor = s.to_floor
        return floor


def random_conditions(rng: np.random.Generator, k: int) -> dict:
    """Sensor, air and car conditions of trace ``k`` (rates cycle so every band is covered)."""
    rates = (1.0, 2.0, 4.0, 7.3, 10.0, 16.0, 25.0)
    return {
        'rate': rates[k % len(rates)],
        'white': float(np.exp(rng.uniform(math.log(0.3), math.log(5.0)))),
        'drift': float(rng.uniform(20.0, 200.0) * rng.choice([-1.0, 1.0])),
        'speed': float(rng.uniform(0.4, 4.0)),
        'accel': float(rng.uniform(0.4, 1.3)),
        'jerk': float(rng.uniform(0.8, 2.5)),
        'temp_c': float(rng.uniform(0.0, 35.0)),
        'door_per_h': float(rng.uniform(5.0, 40.0)),
        'spike_rate': float(rng.uniform(0.0, 0.003)),
        'iir_s': float(rng.uniform(0.0, 0.4)),
        'quant_pa': float(rng.choice([0.0, 0.16, 1.0])),
    }


def generate_trace(
    rng: np.random.Generator,
    trips: int = 8,
    conditions: dict | None = None,
    building: PhysicsBuilding | None = None,
    park_s: tuple[float, float] = (10.0, 90.0),
) -> PhysicsTrace:
    """One trace: ``trips`` trips with parking in between, sampled by a simulated sensor."""
    cond = dict(conditions or random_conditions(rng, int(rng.integers(0, 7))))
    b = building or make_building(rng)
    dt = 0.01
    floors = b.floors
    cur = int(rng.choice(floors))
    start = cur
    zs: list[NDArray] = []
    stops: list[CarStop] = []
    door_puffs: list[float] = []
    t_now = 0.0

    def hold(seconds: float, z: float) -> None:
        nonlocal t_now
        n = max(1, round(seconds / dt))
        zs.append(np.full(n, z))
        t_now += n * dt

    def move(to: int) -> tuple[float, float]:
        nonlocal t_now
        prof = b.z(cur) + s_curve(
            b.z(to) - b.z(cur), cond['speed'], cond['accel'], cond['jerk'], dt
        )
        t0 = t_now
        zs.append(prof)
        t_now += prof.size * dt
        return t0, t_now - dt

    hold(float(rng.uniform(*park_s)), b.z(cur))
    again = False
    for i in range(trips):
        dest = int(rng.choice([f for f in floors if f != cur]))
        lo, hi = sorted((cur, dest))
        between = [f for f in floors if lo < f < hi]
        n_mid = int(rng.choice([0, 0, 1, 2])) if between else 0
        mids = sorted(rng.choice(between, min(n_mid, len(between)), replace=False).tolist())
        if dest < cur:
            mids = mids[::-1]
        for f in [*mids, dest]:
            t0, t1 = move(int(f))
            stops.append(CarStop(t0, t1, cur, int(f), exit=f == dest))
            cur = int(f)
            door_puffs.append(t1 + float(rng.uniform(0.5, 2.0)))
            if f != dest:
                hold(float(rng.uniform(3.0, 12.0)), b.z(cur))
        again = i + 1 < trips and rng.random() < 0.2
        if again:  # the robot stays in and rides the same car again: this stop is no exit
            last = stops[-1]
            stops[-1] = CarStop(
                last.t_start, last.t_stop, last.from_floor, last.to_floor, False, True
            )
            hold(float(rng.uniform(4.0, 10.0)), b.z(cur))
        else:
            hold(float(rng.uniform(*park_s)), b.z(cur))
    z_true = np.concatenate(zs)
    t_true = np.arange(z_true.size) * dt
    t, p = _sense(rng, t_true, z_true, cond, door_puffs)
    cond['lobby'] = b.lobby
    cond['mechanical'] = b.mechanical
    cond['basements'] = b.n_basements
    return PhysicsTrace(t, p, stops, b, start, cond)


def parked_trace(
    rng: np.random.Generator, hours: float, rate: float, white: float, drift: float
) -> PhysicsTrace:
    """A robot parked for ``hours``: drift, 30 door/HVAC steps per hour, spikes."""
    cond = {
        'rate': rate,
        'white': white,
        'drift': drift,
        'temp_c': 20.0,
        'door_per_h': 30.0,
        'spike_rate': 0.002,
        'iir_s': 0.1,
        'quant_pa': 0.0,
    }
    b = PhysicsBuilding((0.0, 3.5), 0, False, False)
    t_true = np.array([0.0, hours * 3600.0])
    t, p = _sense(rng, t_true, np.zeros(2), cond, [])
    return PhysicsTrace(t, p, [], b, 0, cond)


def _sense(
    rng: np.random.Generator,
    t_true: NDArray,
    z_true: NDArray,
    cond: dict,
    door_puffs: list[float],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    period = 1.0 / cond['rate']
    n = int((t_true[-1] - t_true[0]) / period) + 1
    t = t_true[0] + np.arange(n) * period + rng.normal(0.0, 0.01 * period, n)
    t = np.clip(np.sort(t), t_true[0], t_true[-1])
    z = np.interp(t, t_true, z_true)
    temp_k = cond['temp_c'] + 273.15
    p_ground = float(rng.uniform(96000.0, 103500.0))
    # Isothermal law with the building air; the stack effect bends the inside gradient by a
    # few per cent (a heated building in winter pushes the upper floors up a little).
    stack = float(rng.uniform(-0.03, 0.03))
    p = p_ground * np.exp(-_G * z * (1.0 + stack) / (_R * temp_k))
    hours = (t - t[0]) / 3600.0
    curve = float(rng.uniform(-0.3, 0.3)) * cond['drift']
    p = p + cond['drift'] * hours + curve * np.sin(2 * np.pi * hours / 6.0) * 6.0 / (2 * np.pi)
    duration = float(t[-1] - t[0])
    for _ in range(int(rng.poisson(cond['door_per_h'] * duration / 3600.0))):
        t0 = float(rng.uniform(t[0], t[-1]))
        length = float(rng.uniform(2.0, 30.0))
        size = float(rng.uniform(5.0, 15.0) * rng.choice([-1.0, 1.0]))
        ramp = 0.05 if rng.random() < 0.6 else float(rng.uniform(0.5, 3.0))  # door / HVAC
        up = np.clip((t - t0) / ramp, 0.0, 1.0)
        down = np.clip((t - t0 - length) / ramp, 0.0, 1.0)
        p = p + size * (up - down)
    for t0 in door_puffs:
        size = float(rng.uniform(1.0, 6.0) * rng.choice([-1.0, 1.0]))
        p = p + size * ((t >= t0) & (t < t0 + float(rng.uniform(1.0, 5.0))))
    if cond['iir_s'] > 0.0:
        a = math.exp(-period / cond['iir_s'])
        from scipy.signal import lfilter

        p = lfilter([1.0 - a], [1.0, -a], p - p[0]) + p[0]
    p = p + rng.normal(0.0, cond['white'], n)
    if cond['quant_pa'] > 0.0:
        p = np.round(p / cond['quant_pa']) * cond['quant_pa']
    spikes = rng.random(n) < cond['spike_rate']
    p[spikes] += rng.uniform(50.0, 300.0, int(spikes.sum())) * rng.choice(
        [-1.0, 1.0], int(spikes.sum())
    )
    return t, p


__all__ = [
    'CarStop',
    'PhysicsBuilding',
    'PhysicsTrace',
    'generate_trace',
    'make_building',
    'parked_trace',
    'random_conditions',
    's_curve',
]
