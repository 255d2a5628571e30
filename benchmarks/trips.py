"""Car stops against robot exits: how well ``report.json``'s trips tell them apart.

Run from the repository root::

    PYTHONPATH=$PWD python benchmarks/trips.py [--seeds 9101 9102 ...] [--traces 60]

On the independent physics generator (:mod:`multifloor_slam.sim.pressure_physics`: trips with
0-2 intermediate stops where the doors open 3-12 s while the robot stays in, rides of the same
car again after 4-10 s, parking of 10-90 s), the floor estimator's rides go into
:class:`~multifloor_slam.floors.trips.TripTracker` with one kind of evidence at a time:

- ``barometer``: nothing else (a stop over ``max_stop_s`` is an exit);
- ``odometry``: the robot drives out at 2 m/s 3-8 s after every stop where it leaves the car.

Each true car stop is matched to the detected ride overlapping it most; it is right when the
tracker called it an exit exactly when the robot left there (a missed ride is wrong). A trip is
right when its stops and its exit are all right. Prints one row per seed and evidence.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from multifloor_slam.floors.estimator import FloorEstimator, RideEvent
from multifloor_slam.floors.params import FloorEstimatorParams
from multifloor_slam.floors.trips import Trip, TripTracker
from multifloor_slam.sim import pressure_physics as phys


def run_trace(tr: phys.PhysicsTrace, odometry: bool) -> tuple[list[RideEvent], set[float]]:
    """Rides found, and the end times of those the tracker called exits."""
    est = FloorEstimator(FloorEstimatorParams(), None, tr.start_floor)
    tracker = TripTracker()
    exits = np.array([s.t_stop for s in tr.stops if s.exit])
    rides: list[RideEvent] = []
    x = 0.0
    for t, p in zip(tr.t.tolist(), tr.pressure_pa.tolist(), strict=True):
        st = est.update(t, p)
        if st.event is not None:
            if rides and rides[-1].t_start == st.event.t_start:
                rides.pop()  # superseded: that stop was a pause of this ride
            rides.append(st.event)
            tracker.on_ride(st.event)
        tracker.on_riding(st.riding)
        tracker.on_time(t)
        if odometry:
            d = t - exits
            x += 0.2 * float(np.any((d >= 3.0) & (d <= 8.0)))
            tracker.on_odom(t, x, 0.0)
    trips = tracker.finish(float(tr.t[-1]))
    return rides, _exit_ends(trips, rides)


def _exit_ends(trips: list[Trip], rides: list[RideEvent]) -> set[float]:
    """End times of the rides that closed a trip (the last ride before each exit)."""
    ends = set()
    for trip in trips:
        before = [r.t_end for r in rides if r.t_end <= trip.t_exit]
        if before:
            ends.add(max(before))
    return ends


def score(tr: phys.PhysicsTrace, rides: list[RideEvent], exit_ends: set[float]) -> tuple:
    """(stops right, stops, trips right, trips)."""
    right = []
    for s in tr.stops:
        overlap = [min(s.t_stop, r.t_end) - max(s.t_start, r.t_start) for r in rides]
        j = int(np.argmax(overlap)) if rides else -1
        if j < 0 or overlap[j] <= 0:
            right.append(False)
            continue
        right.append((rides[j].t_end in exit_ends) == s.exit)
    trips_right = trips = 0
    ok = True
    for s, r in zip(tr.stops, right, strict=True):
        ok &= r
        if s.exit:
            trips += 1
            trips_right += ok
            ok = True
    return sum(right), len(right), trips_right, trips


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seeds', type=int, nargs='+', default=[9101, 9102, 9103, 9104, 9105])
    ap.add_argument('--traces', type=int, default=60, help='traces per seed')
    args = ap.parse_args()
    print('| seed | evidence | car stops right | trips right | stops stayed in (truth) |')
    print('|---|---|---|---|---|')
    t0 = time.perf_counter()
    for seed in args.seeds:
        rng = np.random.default_rng(seed)
        traces = [
            phys.generate_trace(rng, trips=8, conditions=phys.random_conditions(rng, k))
            for k in range(args.traces)
        ]
        stayed = sum(not s.exit for tr in traces for s in tr.stops)
        for evidence in ('barometer', 'odometry'):
            tot = np.zeros(4, int)
            for tr in traces:
                rides, ends = run_trace(tr, evidence == 'odometry')
                tot += score(tr, rides, ends)
            print(
                f'| {seed} | {evidence} | {100 * tot[0] / tot[1]:.2f} % ({tot[0]}/{tot[1]}) '
                f'| {100 * tot[2] / tot[3]:.2f} % ({tot[2]}/{tot[3]}) | {stayed} |'
            )
    print(f'\n{time.perf_counter() - t0:.0f} s')


if __name__ == '__main__':
    main()
