"""Ride episodes: a slow car held flat half-way by a door step makes one ride."""

from __future__ import annotations

import numpy as np

from multifloor_slam.floors.params import FloorEstimatorParams
from multifloor_slam.floors.pressure_filter import Level
from multifloor_slam.floors.ride_detector import RideDetector, Step


def _steps(t: np.ndarray, p: np.ndarray) -> list[Step]:
    """Every step the detector closes; nothing is published, as for steps the caller refused."""
    det = RideDetector(FloorEstimatorParams())
    out = []
    for ti, pi in zip(t, p, strict=True):
        step, _ = det.push(Level(float(ti), float(pi), 0.05, 0.1))
        if step is not None and not step.provisional:
            out.append(step)
    return out


def _slow_ride_with_pause(first_ramp_s: float) -> tuple[np.ndarray, np.ndarray]:
    """10 Hz: parked, a car ramp of 3.5 Pa/s, flat for 2 s, the same ramp on, parked."""
    t = np.arange(0.0, 120.0, 0.1)
    rate, start, pause = 3.5, 60.0, 2.0
    moved = np.clip(t - start, 0.0, first_ramp_s) + np.clip(
        t - start - first_ramp_s - pause, 0.0, first_ramp_s
    )
    return t, 99000.0 + rate * moved


def test_a_ride_paused_half_way_goes_on_from_its_start() -> None:
    t, p = _slow_ride_with_pause(7.0)
    steps = _steps(t, p)
    assert len(steps) == 2, steps
    first, second = steps
    assert first.confirmed and first.transition_s > 3.0  # a car's ramp, refused by the caller
    assert second.continued and second.t_start == first.t_start
    assert abs(second.p_after - second.p_before - 49.0) < 1.0  # both halves: 2 x 7 s x 3.5 Pa/s


def test_door_steps_are_not_continued() -> None:
    # Two abrupt 25 Pa jumps 5 s apart (confirmed, as a ride would be): door steps, not a car.
    t = np.arange(0.0, 120.0, 0.1)
    p = 99000.0 + 25.0 * (t >= 60.0) + 25.0 * (t >= 65.0)
    steps = _steps(t, p)
    assert len(steps) == 2, steps
    assert steps[0].confirmed and 65.0 - steps[0].t_decided <= 5.0  # within merge_window_s
    assert not steps[1].continued
