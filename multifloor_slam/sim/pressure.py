"""Barometer simulator: elevator motion profiles and realistic pressure-sensor artefacts.

Used by the floor-estimator tests and benchmark and by the building simulator. Every artefact the
real world throws at a floor estimator is here: white noise, a Gauss-Markov wander, weather drift
up to storm rates, door/HVAC pressure steps, spikes, and low sample rates (phones at 1 Hz).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from multifloor_slam.floors.barometric import (
    DEFAULT_TEMPERATURE_C,
    P_STANDARD,
    altitude_to_pressure,
)


@dataclass(frozen=True)
class ElevatorKinematics:
    """Limits of an elevator car (comfort limits of real lifts: about 1.2 m/s^2, 2.4 m/s^3)."""

    v_max: float = 1.5
    a_max: float = 1.0
    j_max: float = 2.0


def ride_profile(dz: float, kin: ElevatorKinematics, dt: float = 0.02) -> NDArray[np.float64]:
    """Height offsets (m) every ``dt`` seconds of a jerk-limited ride over ``dz`` metres.

    A trapezoidal velocity profile is convolved with a box of length ``a_max / j_max``: that
    limits the jerk and keeps the distance exact. The result starts at 0 and ends at ``dz``.
    """
    d = abs(float(dz))
    if d < 1e-9:
        return np.zeros(1)
    v = min(kin.v_max, np.sqrt(d * kin.a_max))
    t_acc = v / kin.a_max
    t_cruise = d / v - t_acc
    t_total = 2 * t_acc + t_cruise
    t = np.arange(0.0, t_total + dt, dt)
    vel = np.minimum.reduce([kin.a_max * t, np.full_like(t, v), kin.a_max * (t_total - t)])
    vel = np.clip(vel, 0.0, None)
    n_box = max(1, round(kin.a_max / kin.j_max / dt))
    if n_box > 1:
        vel = np.convolve(np.concatenate([vel, np.zeros(n_box)]), np.ones(n_box) / n_box)
        vel = vel[: len(t) + n_box]
    z = np.concatenate([[0.0], np.cumsum(vel[:-1]) * dt])
    z *= d / z[-1] if z[-1] > 0 else 1.0
    return np.sign(dz) * z


@dataclass(frozen=True)
class BarometerNoise:
    """What a real barometer adds to the true pressure.

    Attributes:
        rate_hz: output rate (phones 1-25 Hz, MEMS boards up to 50 Hz).
        white_pa: white noise RMS.
        wander_pa: RMS of a first-order Gauss-Markov wander (HVAC, turbulence).
        wander_tau_s: correlation time of the wander.
        drift_pa_per_h: weather trend (storms reach 200 Pa/h).
        door_steps_per_h: rate of door/HVAC pressure steps.
        door_step_pa: (min, max) magnitude of a step; the sign is random.
        door_step_s: (min, max) duration of a step.
        spike_prob: probability that a sample is an outlier spike (glitches, bus errors).
        spike_pa: magnitude of spikes.
        p0_pa: pressure at z = 0 at t = 0 (absolute offsets of +-100 Pa are normal).
        temperature_c: air temperature.
    """

    rate_hz: float = 25.0
    white_pa: float = 0.5
    wander_pa: float = 0.3
    wander_tau_s: float = 20.0
    drift_pa_per_h: float = 0.0
    door_steps_per_h: float = 0.0
    door_step_pa: tuple[float, float] = (5.0, 15.0)
    door_step_s: tuple[float, float] = (1.0, 30.0)
    spike_prob: float = 0.0
    spike_pa: float = 200.0
    p0_pa: float = P_STANDARD
    temperature_c: float = DEFAULT_TEMPERATURE_C


def sample_barometer(
    t_true: NDArray[np.float64],
    z_true: NDArray[np.float64],
    noise: BarometerNoise,
    rng: np.random.Generator,
    t_start: float | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Sample a barometer at ``noise.rate_hz`` along a true altitude trajectory.

    Returns ``(t, pressure_pa)``. The true trajectory is linearly interpolated at the sample
    stamps; stamps get a little jitter like a real driver's.
    """
    t0 = float(t_true[0]) if t_start is None else t_start
    period = 1.0 / noise.rate_hz
    n = int(np.floor((t_true[-1] - t0) / period)) + 1
    t = t0 + np.arange(n) * period + rng.uniform(0.0, 0.05 * period, n)
    t = np.clip(t, t_true[0], t_true[-1])
    z = np.interp(t, t_true, z_true)
    p = altitude_to_pressure(z, noise.p0_pa, noise.temperature_c)
    p = p + noise.drift_pa_per_h * (t - t0) / 3600.0
    p = p + rng.normal(0.0, noise.white_pa, n)
    if noise.wander_pa > 0:
        phi = np.exp(-period / noise.wander_tau_s)
        drive = rng.normal(0.0, noise.wander_pa * np.sqrt(1 - phi**2), n)
        from scipy.signal import lfilter

        wander = lfilter([1.0], [1.0, -phi], drive)
        p = p + wander
    if noise.door_steps_per_h > 0:
        duration = t[-1] - t[0]
        n_steps = rng.poisson(noise.door_steps_per_h * duration / 3600.0)
        for start in rng.uniform(t[0], t[-1], n_steps):
            length = rng.uniform(*noise.door_step_s)
            size = rng.uniform(*noise.door_step_pa) * rng.choice([-1.0, 1.0])
            p[(t >= start) & (t < start + length)] += size
    if noise.spike_prob > 0:
        spikes = rng.random(n) < noise.spike_prob
        p[spikes] += rng.choice([-1.0, 1.0], spikes.sum()) * noise.spike_pa
    return t, p
