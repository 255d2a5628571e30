"""A car that stops for its doors and moves on soon: one measurement, the stop still reported."""

from __future__ import annotations

import numpy as np
import pytest

from multifloor_slam.floors.barometric import scale_height_m
from multifloor_slam.floors.estimator import FloorEstimator
from multifloor_slam.floors.outputs import RideEvent
from multifloor_slam.floors.params import FloorEstimatorParams
from multifloor_slam.floors.trips import TripTracker
from multifloor_slam.sim.pressure_physics import s_curve

DT = 0.01


def _trace(pause_s: float) -> tuple[np.ndarray, np.ndarray]:
    """10 Hz, 0.3 Pa: 60 s parked, up 3.5 m, ``pause_s`` flat, up 3.5 m more, 80 s parked.

    The car accelerates gently (0.5 m/s2): moving on soon after the stop continues the ride.
    """
    leg = s_curve(3.5, 1.5, 0.5, 0.8, DT)
    z = np.concatenate(
        [np.zeros(6000), leg, np.full(round(pause_s / DT), 3.5), 3.5 + leg, np.full(8000, 7.0)]
    )
    t_true = np.arange(z.size) * DT
    t = np.arange(0.0, t_true[-1], 0.1)
    p = 100000.0 * np.exp(-np.interp(t, t_true, z) / scale_height_m(20.0))
    return t, p + np.random.default_rng(5).normal(0.0, 0.3, t.size)


def _run(pause_s: float) -> tuple[list[RideEvent], TripTracker, FloorEstimator]:
    t, p = _trace(pause_s)
    est = FloorEstimator(FloorEstimatorParams(), None, 0)
    tracker = TripTracker()
    events = []
    for ti, pi in zip(t.tolist(), p.tolist(), strict=True):
        st = est.update(ti, pi)
        if st.event is not None:
            events.append(st.event)
            tracker.on_ride(st.event)
        tracker.on_riding(st.riding)
        tracker.on_time(ti)
    tracker.finish(float(t[-1]))
    return events, tracker, est


def test_a_door_stop_merged_into_the_ride_is_still_reported_as_a_stop() -> None:
    events, tracker, est = _run(3.0)  # merged: moves on within merge_window_s of the stop
    assert [(e.from_floor, e.to_floor) for e in events] == [(0, 1), (1, 2)], events
    first, second = events
    assert second.t_start > first.t_end + 3.0  # starts where the car moved on: no supersede
    assert abs(est.table.elevation(2) - 7.0) < 0.3
    assert est.stats['rides'] == 2
    [trip] = tracker.trips
    assert (trip.from_floor, trip.to_floor, [s.floor for s in trip.stops]) == (0, 2, [1])


@pytest.mark.parametrize('pause_s', [0.5, 3.0])
def test_a_pause_shorter_than_stop_report_min_s_stays_one_ride(pause_s: float) -> None:
    t, p = _trace(pause_s)
    est = FloorEstimator(FloorEstimatorParams(stop_report_min_s=8.0), None, 0)
    events = [e for ti, pi in zip(t, p, strict=True) if (e := est.update(ti, pi).event)]
    # the pause's event is superseded by the whole ride from its start (the same t_start)
    assert len(events) == 2 and events[-1].t_start == events[0].t_start
    assert events[-1].from_floor == 0
    assert abs(est.table.elevation(events[-1].to_floor) - 7.0) < 0.3
    assert len(est.table.indices) == 2  # the pause left no floor behind
