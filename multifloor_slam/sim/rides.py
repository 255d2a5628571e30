"""Multi-ride elevator scenarios on top of :mod:`multifloor_slam.sim.pressure`.

A :class:`Building` holds true floor elevations (non-uniform storeys, basements); a scenario is
a sequence of floors visited with parking in between, ridden with a jerk-limited car and
sampled by a simulated barometer. The ground truth (ride start/stop stamps, floors) comes back
with the samples so tests and the benchmark can score an estimator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from multifloor_slam.sim.pressure import (
    BarometerNoise,
    ElevatorKinematics,
    ride_profile,
    sample_barometer,
)


@dataclass(frozen=True)
class Building:
    """True floor elevations (m), ascending: ``elevations_m[i]`` is floor ``i - n_basements``."""

    elevations_m: tuple[float, ...]
    n_basements: int = 0

    @property
    def floors(self) -> list[int]:
        """Floor indices, lowest first (basements negative, the ground floor 0)."""
        return list(range(-self.n_basements, len(self.elevations_m) - self.n_basements))

    def z(self, floor: int) -> float:
        """Elevation of ``floor`` (m, ground floor 0)."""
        return self.elevations_m[floor + self.n_basements]

    @classmethod
    def from_storeys(
        cls, storeys_m: Sequence[float] | NDArray[np.float64], n_basements: int = 0
    ) -> Building:
        """Building from storey heights listed bottom-up (``len(storeys) + 1`` floors)."""
        z = np.concatenate([[0.0], np.cumsum(storeys_m)])
        z -= z[n_basements]
        return cls(tuple(float(v) for v in z), n_basements)


def random_building(
    rng: np.random.Generator,
    n_floors: tuple[int, int] = (3, 12),
    storey_m: tuple[float, float] = (2.8, 4.2),
    tall_prob: float = 0.15,
    tall_m: tuple[float, float] = (4.5, 7.0),
    max_basements: int = 2,
) -> Building:
    """A building with non-uniform storeys, some tall (lobby, mechanical floor), and basements."""
    n = int(rng.integers(n_floors[0], n_floors[1] + 1))
    storeys = rng.uniform(*storey_m, n - 1)
    tall = rng.random(n - 1) < tall_prob
    storeys[tall] = rng.uniform(*tall_m, int(tall.sum()))
    n_basements = int(rng.integers(0, min(max_basements, n - 1) + 1))
    return Building.from_storeys(storeys, n_basements)


@dataclass(frozen=True)
class RideTruth:
    """One true ride: the car moves from ``t_start`` to ``t_stop``."""

    t_start: float
    t_stop: float
    from_floor: int
    to_floor: int
    dz_m: float


@dataclass(frozen=True)
class Scenario:
    """Barometer samples along a multi-ride trajectory, with the ground truth."""

    t: NDArray[np.float64]
    pressure_pa: NDArray[np.float64]
    t_true: NDArray[np.float64]
    z_true: NDArray[np.float64]
    rides: list[RideTruth]
    building: Building
    start_floor: int

    def true_floor_at(self, t: float) -> int:
        """True floor at stamp ``t`` (the origin floor while riding)."""
        floor = self.start_floor
        for ride in self.rides:
            if t >= ride.t_stop:
                floor = ride.to_floor
        return floor


def ride_trajectory(
    building: Building,
    floors: Sequence[int],
    park_s: Sequence[float],
    kin: ElevatorKinematics,
    dt: float = 0.02,
) -> tuple[NDArray[np.float64], NDArray[np.float64], list[RideTruth]]:
    """True (t, z) for parking ``park_s[i]`` on ``floors[i]`` and riding to the next floor.

    ``park_s`` has one entry per floor in ``floors``: the last one is the final parking.
    """
    if len(park_s) != len(floors):
        raise ValueError('park_s needs one duration per floor')
    pieces_z: list[NDArray[np.float64]] = []
    rides: list[RideTruth] = []
    t_now = 0.0
    for i, floor in enumerate(floors):
        z0 = building.z(floor)
        n_park = max(1, round(park_s[i] / dt))
        pieces_z.append(np.full(n_park, z0))
        t_now += n_park * dt
        if i + 1 < len(floors):
            dz = building.z(floors[i + 1]) - z0
            prof = ride_profile(dz, kin, dt)
            pieces_z.append(z0 + prof)
            t_start = t_now
            t_now += len(prof) * dt
            rides.append(RideTruth(t_start, t_now - dt, floor, floors[i + 1], dz))
    z = np.concatenate(pieces_z)
    t = np.arange(z.size, dtype=np.float64) * dt
    return t, z, rides


def simulate_rides(
    building: Building,
    floors: Sequence[int],
    park_s: Sequence[float] | float,
    kin: ElevatorKinematics,
    noise: BarometerNoise,
    rng: np.random.Generator,
) -> Scenario:
    """Sample a barometer along a ride sequence (see :func:`ride_trajectory`)."""
    parks = [float(park_s)] * len(floors) if np.isscalar(park_s) else list(park_s)  # type: ignore[arg-type]
    dt = min(0.02, 0.25 / noise.rate_hz)
    t_true, z_true, rides = ride_trajectory(building, floors, parks, kin, dt)
    t, p = sample_barometer(t_true, z_true, noise, rng)
    return Scenario(t, p, t_true, z_true, rides, building, floors[0])


def random_floor_sequence(
    building: Building, n_rides: int, rng: np.random.Generator, start: int | None = None
) -> list[int]:
    """``n_rides + 1`` floors, each different from the previous one."""
    floors = building.floors
    seq = [int(rng.choice(floors)) if start is None else start]
    for _ in range(n_rides):
        seq.append(int(rng.choice([f for f in floors if f != seq[-1]])))
    return seq


__all__ = [
    'Building',
    'RideTruth',
    'Scenario',
    'random_building',
    'random_floor_sequence',
    'ride_trajectory',
    'simulate_rides',
]
