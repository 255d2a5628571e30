"""Trips: car stops told from robot exits by odometry, elevator state or barometer."""

from __future__ import annotations

import numpy as np
import pytest

from multifloor_slam.errors import ConfigError
from multifloor_slam.floors.estimator import FloorEstimator
from multifloor_slam.floors.outputs import RideEvent
from multifloor_slam.floors.params import FloorEstimatorParams
from multifloor_slam.floors.trips import TripParams, TripTracker
from multifloor_slam.sim import pressure_physics as phys

CLEAN = {
    'rate': 10.0,
    'white': 0.5,
    'drift': 30.0,
    'speed': 1.5,
    'accel': 0.8,
    'jerk': 1.5,
    'temp_c': 20.0,
    'door_per_h': 0.0,
    'spike_rate': 0.0,
    'iir_s': 0.1,
    'quant_pa': 0.0,
}


def _trace_with_stops(seed: int) -> phys.PhysicsTrace:
    """A seeded physics trace that has intermediate stops and parks of 25-60 s."""
    for k in range(seed, seed + 50):
        rng = np.random.default_rng(k)
        tr = phys.generate_trace(rng, trips=6, conditions=dict(CLEAN), park_s=(25.0, 60.0))
        if len(tr.stops) > len(tr.trips) and tr.stops[-1].exit:
            return tr
    raise AssertionError('no trace with intermediate stops')


def _run(tr: phys.PhysicsTrace, *, odometry: bool, states: bool = False) -> TripTracker:
    """The estimator over the trace, its rides into a tracker with the chosen evidence."""
    est = FloorEstimator(FloorEstimatorParams(), None, 0)
    tracker = TripTracker()
    exits = [s.t_stop for s in tr.stops if s.exit]
    x = 0.0
    for t, p in zip(tr.t, tr.pressure_pa, strict=True):
        st = est.update(float(t), float(p))
        if st.event is not None:
            tracker.on_ride(st.event)
        tracker.on_riding(st.riding)
        tracker.on_time(float(t))
        # The robot drives out 3-8 s after every stop that is an exit (2 m/s), else stands.
        out = any(e + 3.0 <= t <= e + 8.0 for e in exits)
        x += 0.2 if out else 0.0
        if odometry:
            tracker.on_odom(float(t), x, 0.0)
        if states:
            tracker.on_elevator_state(float(t), 'none' if out else 'inside')
    tracker.finish(float(tr.t[-1]))
    return tracker


@pytest.mark.parametrize('evidence', ['odometry', 'elevator_state', 'barometer'])
def test_trips_match_the_exits_of_a_trace_with_intermediate_stops(evidence: str) -> None:
    tr = _trace_with_stops(3)
    tracker = _run(tr, odometry=evidence == 'odometry', states=evidence == 'elevator_state')
    assert tracker.car_stops == len(tr.stops)  # the estimator found every stop of the car
    truth = tr.trips
    assert len(tracker.trips) == len(truth)
    for got, want in zip(tracker.trips, truth, strict=True):
        n_stops = sum(1 for s in tr.stops if want.t_start <= s.t_start and s.t_stop < want.t_stop)
        assert len(got.stops) == n_stops
        assert abs(got.t_start - want.t_start) < 5.0
        assert got.t_exit >= want.t_stop
        assert got.evidence == (evidence if got is not tracker.trips[-1] else got.evidence)
        dz = got.to_floor - got.from_floor
        assert np.sign(dz) == np.sign(want.to_floor - want.from_floor)


def _ride(t0: float, t1: float, a: int, b: int) -> RideEvent:
    return RideEvent(t0, t1, a, b, f'L{a}', f'L{b}', 3.0 * (b - a), -36.0 * (b - a), 0.9)


def test_odometry_outranks_a_long_stop_and_states_need_to_hold() -> None:
    tracker = TripTracker(TripParams(max_stop_s=10.0, outside_hold_s=2.0))
    tracker.on_ride(_ride(0.0, 10.0, 0, 1))
    for t in np.arange(10.0, 60.0, 0.5):  # parked 50 s in the car, robot not moving
        tracker.on_odom(float(t), 5.0, 5.0)
        tracker.on_time(float(t))
    assert tracker.trips == []  # odometry says it stayed in, however long the stop
    tracker.on_ride(_ride(60.0, 70.0, 1, 3))
    for t in np.arange(70.0, 75.0, 0.5):
        tracker.on_elevator_state(float(t), 'none' if t < 71.0 else 'inside')
    assert tracker.trips == []  # 'none' for 1 s is not an exit
    for t in np.arange(75.0, 78.0, 0.5):
        tracker.on_elevator_state(float(t), 'approaching')
    assert len(tracker.trips) == 1
    trip = tracker.trips[0]
    assert (trip.from_floor, trip.to_floor, trip.evidence) == (0, 3, 'elevator_state')
    assert [s.floor for s in trip.stops] == [1]
    assert trip.to_dict()['stops'][0]['label'] == 'L1'


def test_odometry_before_the_ride_is_reported_sets_the_stand() -> None:
    tracker = TripTracker()
    tracker.on_ride(_ride(0.0, 10.0, 0, 2))
    tracker.on_odom(9.0, 0.0, 0.0)
    tracker.on_ride(_ride(20.0, 30.0, 2, 4))  # the stop at 2 had no exit: the robot stood
    for t, x in ((30.5, 0.0), (31.0, 0.6), (31.5, 1.2)):  # it drives out before the report
        tracker.on_odom(t, x, 0.0)
    assert len(tracker.trips) == 1
    assert tracker.trips[0].t_exit == 31.5 and tracker.trips[0].evidence == 'odometry'
    assert tracker.finish(40.0) == tracker.trips


@pytest.mark.parametrize('bad', [{'max_stop_s': 0.0}, {'exit_distance_m': float('nan')}])
def test_bad_trip_params_are_refused(bad: dict) -> None:
    with pytest.raises(ConfigError):
        TripParams(**bad)


def test_a_ride_that_supersedes_the_last_one_replaces_it_even_after_an_exit() -> None:
    tracker = TripTracker()
    tracker.on_ride(_ride(0.0, 10.0, 0, 2))
    tracker.on_odom(10.5, 0.0, 0.0)
    tracker.on_odom(12.0, 1.5, 0.0)  # odometry: out at 2
    assert len(tracker.trips) == 1
    tracker.on_ride(_ride(0.0, 30.0, 0, 4))  # the estimator: the stop at 2 was a pause
    assert tracker.car_stops == 1 and len(tracker.trips) == 1
    trip = tracker.trips[0]  # one trip 0 -> 4; the drive counts from the end of that ride
    assert (trip.from_floor, trip.to_floor, trip.stops, trip.t_exit) == (0, 4, [], 30.0)
    assert tracker.finish(40.0) == [trip]


def test_a_drive_while_the_barometer_says_riding_is_an_exit_at_the_late_stop() -> None:
    tracker = TripTracker()
    tracker.on_ride(_ride(0.0, 10.0, 0, 2))
    tracker.on_odom(10.5, 0.0, 0.0)
    tracker.on_riding(True)  # the car leaves again at 20 s ...
    for t in np.arange(20.0, 40.0, 0.5):  # ... stops at 30, the robot drives out at 32-36
        tracker.on_odom(float(t), 0.0 if t < 32.0 else min(2.0, (t - 32.0) / 2), 0.0)
    assert tracker.trips == []  # the estimator has not ended the ride yet (slow at 1 Hz)
    tracker.on_ride(_ride(20.0, 38.0, 2, 3))  # ended late, at 38 s
    trip = tracker.trips[0]
    assert (trip.to_floor, [s.floor for s in trip.stops], trip.evidence) == (3, [2], 'odometry')
    assert trip.t_exit == 38.0
