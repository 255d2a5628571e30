"""Shape features of a pressure step, and the hold of a new floor whose path is not a car's."""

from __future__ import annotations

import numpy as np
import pytest

from multifloor_slam.floors.batch import estimate_floors
from multifloor_slam.floors.params import FloorEstimatorParams
from multifloor_slam.floors.step_features import path_deviation, plateau_s, transition_s
from multifloor_slam.sim.pressure import BarometerNoise, ElevatorKinematics, sample_barometer
from multifloor_slam.sim.rides import Building, simulate_rides

T = np.arange(0.0, 10.0, 0.04)  # 25 Hz


def test_a_car_path_is_a_ramp_and_two_door_steps_are_not() -> None:
    car = 0.5 - 0.5 * np.cos(np.pi * np.clip((T - 2.0) / 4.0, 0.0, 1.0))  # smooth S-curve
    doors = 0.45 * (T >= 2.0) + 0.55 * (T >= 6.0)  # two jumps with a flat stretch between
    assert path_deviation(T, car) < 0.05
    assert path_deviation(T, doors) > 0.15
    assert plateau_s(T, doors, 0.0) == pytest.approx(4.0, abs=0.1)
    assert transition_s(T, car) == pytest.approx(2.4, abs=0.2)
    assert transition_s(T, np.zeros_like(T)) == float('inf')  # never got there


def _parked_with_hvac_and_door(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """25 Hz, parked: an HVAC ramp of 10 Pa over 2 s and a 17 Pa door step on top 0.5 s later.

    Together 27 Pa (2.2 m), a new floor by size; the door closes after 22 s, the HVAC after
    50 s. The path is a ramp, a jump and flat stretches: no car moves like that.
    """
    rng = np.random.default_rng(seed)
    noise = BarometerNoise(25.0, 0.5, wander_pa=0.3, drift_pa_per_h=100.0)
    t, p = sample_barometer(np.array([0.0, 300.0]), np.zeros(2), noise, rng)
    p += 10.0 * np.clip((t - 100.0) / 2.0, 0.0, 1.0) * (t < 150.0)
    p += 17.0 * ((t >= 102.5) & (t < 125.0))
    return t, p


@pytest.mark.parametrize('seed', [0, 1])
def test_an_hvac_ramp_under_a_door_step_is_no_new_floor(seed: int) -> None:
    t, p = _parked_with_hvac_and_door(seed)
    trace, events, _ = estimate_floors(t, p)
    assert events == [] and set(trace.floor.tolist()) == {0}
    # Without the hold (path test off) the same samples make a floor that is undone later.
    _, off, _ = estimate_floors(t, p, params=FloorEstimatorParams(max_path_deviation=99.0))
    assert len(off) == 2 and off[0].new_floor


def test_a_short_storey_ride_is_not_held() -> None:
    """A 2.3 m storey ridden at 25 Hz is a steady ramp: published as soon as the car stops."""
    building = Building.from_storeys([2.3, 3.2])
    noise = BarometerNoise(25.0, 0.5, wander_pa=0.3, drift_pa_per_h=100.0)
    kin = ElevatorKinematics(1.0, 0.8, 1.5)
    sc = simulate_rides(building, [0, 1, 2, 1, 0], 15.0, kin, noise, np.random.default_rng(3))
    trace, events, _ = estimate_floors(sc.t, sc.pressure_pa)
    first = sc.rides[0]
    i = int(np.searchsorted(trace.t, first.t_stop + 3.0))
    assert trace.floor[i] == 1, events  # 3 s after the stop, not after a 25 s hold
    assert [e.to_floor for e in events if e.source == 'ride'] == [1, 2, 1, 0]


def _phone_with_two_door_steps(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """1 Hz, 1.5 Pa, parked: two -14 Pa door steps 2 s apart, each open 18 s (2.35 m together).

    Each step takes 1.5 s (a slow sensor's low-pass), so the pair looks like a short ride.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, 300.0, 1.0) + rng.uniform(-0.05, 0.05, 300)
    p = 100000.0 + rng.normal(0.0, 1.5, t.size)
    for t0 in (100.0, 102.0):
        p -= 14.0 * np.clip((t - t0) / 1.5, 0.0, 1.0) * (t < t0 + 18.0)
    return t, p


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_a_slow_sensor_holds_a_small_new_floor_until_the_doors_close(seed: int) -> None:
    t, p = _phone_with_two_door_steps(seed)
    trace, events, _ = estimate_floors(t, p)
    assert events == [] and set(trace.floor.tolist()) == {0}
    # Without the hold the same samples make a floor that is undone when the doors close.
    off = FloorEstimatorParams(slow_sensor_interval_s=10.0)
    _, undone, _ = estimate_floors(t, p, params=off)
    assert len(undone) == 2 and undone[0].new_floor and undone[1].to_floor == 0


def test_a_slow_sensor_still_finds_a_short_storey_after_the_hold() -> None:
    """A 2.3 m storey at 1 Hz: the new floor is published once it has stood stepwise_hold_s."""
    building = Building.from_storeys([2.3, 3.2])
    noise = BarometerNoise(1.0, 1.0, wander_pa=0.3, drift_pa_per_h=100.0)
    kin = ElevatorKinematics(1.0, 0.8, 1.5)
    sc = simulate_rides(building, [0, 1, 0], 60.0, kin, noise, np.random.default_rng(3))
    trace, events, _ = estimate_floors(sc.t, sc.pressure_pa)
    stop = sc.rides[0].t_stop
    held = trace.floor[(trace.t > stop + 3.0) & (trace.t < stop + 15.0)]
    assert set(held.tolist()) == {0}, events  # held: door steps would be back by then
    after = int(np.searchsorted(trace.t, stop + FloorEstimatorParams().stepwise_hold_s + 10.0))
    assert trace.floor[after] == 1, events
    assert trace.floor[-1] == 0
