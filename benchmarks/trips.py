"""Car stops against robot exits: how well ``report.json``'s trips tell them apart.

Run from the repository root::

    PYTHONPATH=$PWD python benchmarks/trips.py [--seeds 9101 9102 ...] [--traces 60]

On the independent physics generator (:mod:`multifloor_slam.sim.pressure_physics`: trips with
0-2 intermediate stops where the doors open 3-12 s while the robot stays in, rides of the same
car again after 4-10 s, parking of 10-90 s), the floor estimator's rides go into
:class:`~multifloor_slam.floors.trips.TripTracker` with one kind of evidence at a time:

- ``barometer``: nothing else (a stop over ``max_stop_s`` is an exit);
- ``odometry``: the robot drives out at 2 m/s 3-8 s after every stop where it leaves the car.

Each true car stop is matched to the ride the estimator ended nearest after it. Printed per seed
and evidence: the share of true exits the tracker called exits; of the stops where the robot
stayed in, the share reported as a stop and kept in the trip (told apart), merged by the
estimator into one ride with the next (the car moved on within ``merge_window_s`` after a
pause shorter than ``stop_report_min_s``: the trip is right, the stop is not reported), or
taken for an exit.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from multifloor_slam.floors.estimator import FloorEstimator, RideEvent
from multifloor_slam.floors.params import FloorEstimatorParams
from multifloor_slam.floors.trips import Trip, TripTracker, append_ride
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
            append_ride(rides, st.event)
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


def score(tr: phys.PhysicsTrace, rides: list[RideEvent], exit_ends: set[float]) -> list[int]:
    """[exits right, exits, stays right, stays merged, stays called exits, stays].

    Each ride the estimator found belongs to the true stop its end is nearest to (within 15 s);
    a stay that no ride belongs to was merged into the next ride (not reported apart).
    """
    stops = np.array([s.t_stop for s in tr.stops])
    owner: dict[int, tuple[float, int]] = {}  # true stop -> (distance, ride)
    for j, r in enumerate(rides):
        k = int(np.argmin(np.abs(stops - r.t_end))) if len(stops) else -1
        d = abs(stops[k] - r.t_end) if k >= 0 else np.inf
        if d <= 15.0 and (k not in owner or d < owner[k][0]):
            owner[k] = (d, j)
    out = [0] * 6
    for k, s in enumerate(tr.stops):
        j = owner.get(k, (0.0, -1))[1]
        said_exit = j >= 0 and rides[j].t_end in exit_ends
        if s.exit:
            out[0] += said_exit
            out[1] += 1
        else:
            out[5] += 1
            if j < 0:
                out[3] += 1
            elif said_exit:
                out[4] += 1
            else:
                out[2] += 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seeds', type=int, nargs='+', default=[9101, 9102, 9103, 9104, 9105])
    ap.add_argument('--traces', type=int, default=60, help='traces per seed')
    args = ap.parse_args()
    head = ('seed', 'evidence', 'exits found', 'stays told apart', 'stays merged', 'stays exited')
    print('| ' + ' | '.join(head) + ' |')
    print('|---|---|---|---|---|---|')
    t0 = time.perf_counter()
    for seed in args.seeds:
        rng = np.random.default_rng(seed)
        traces = [
            phys.generate_trace(rng, trips=8, conditions=phys.random_conditions(rng, k))
            for k in range(args.traces)
        ]
        for evidence in ('barometer', 'odometry'):
            tot = np.zeros(6, int)
            for tr in traces:
                rides, ends = run_trace(tr, evidence == 'odometry')
                tot += score(tr, rides, ends)
            n = max(int(tot[5]), 1)
            print(
                f'| {seed} | {evidence} | {100 * tot[0] / tot[1]:.1f} % ({tot[0]}/{tot[1]}) '
                f'| {100 * tot[2] / n:.1f} % ({tot[2]}/{n}) | {100 * tot[3] / n:.1f} % '
                f'| {100 * tot[4] / n:.1f} % |'
            )
    print(f'\n{time.perf_counter() - t0:.0f} s')


if __name__ == '__main__':
    main()
