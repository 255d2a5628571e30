"""A slow (1 Hz) sensor shows a known floor before its stop test ends the ride."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from multifloor_slam.errors import ConfigError
from multifloor_slam.floors.batch import estimate_floors
from multifloor_slam.floors.floor_table import FloorTable
from multifloor_slam.floors.params import FloorEstimatorParams
from multifloor_slam.sim.pressure import BarometerNoise, ElevatorKinematics
from multifloor_slam.sim.rides import Building, Scenario, simulate_rides

TOWER = Building.from_storeys([3.0, 2.8, 5.6, 3.1, 7.0, 2.9])
VISITS = [0, 3, 1, 5, 2, 0, 4, 1]


def _delays(sc: Scenario, t: np.ndarray, floor: np.ndarray) -> list[float]:
    """Car stop to the last floor change before the next ride (simulated time, s)."""
    out = []
    for i, ride in enumerate(sc.rides):
        t_next = sc.rides[i + 1].t_start if i + 1 < len(sc.rides) else t[-1] + 1.0
        sel = (t >= ride.t_start) & (t < t_next - 0.5)
        changes = np.nonzero(np.diff(floor[sel]))[0]
        out.append(float(t[sel][changes[-1] + 1] - ride.t_stop) if changes.size else np.inf)
    return out


@pytest.mark.parametrize('seed', [1, 2])
def test_a_phone_shows_known_floors_sooner_and_ends_on_the_same_floors(seed: int) -> None:
    noise = BarometerNoise(1.0, 1.5, wander_pa=1.0, drift_pa_per_h=100.0)
    kin = ElevatorKinematics(1.6, 1.0, 2.0)
    sc = simulate_rides(TOWER, VISITS, 30.0, kin, noise, np.random.default_rng(seed))
    seed_text = ','.join(f'{f}:{TOWER.z(f):.2f}' for f in TOWER.floors)
    runs = {}
    for early in (2, 0):
        params = FloorEstimatorParams(early_stop_samples=early)
        trace, events, _ = estimate_floors(
            sc.t, sc.pressure_pa, table=FloorTable.from_seed(seed_text), params=params
        )
        runs[early] = (_delays(sc, trace.t, trace.floor), events, trace)
    (fast, events, trace), (slow, _, slow_trace) = runs[2], runs[0]
    for i, ride in enumerate(sc.rides):  # the same floor right before every next ride
        t_next = sc.rides[i + 1].t_start if i + 1 < len(sc.rides) else sc.t[-1] + 1.0
        k = int(np.searchsorted(trace.t, t_next - 0.5)) - 1
        assert trace.floor[k] == slow_trace.floor[k] == ride.to_floor
    assert np.median(fast) <= 3.0 < np.median(slow), (fast, slow)
    # The events still tell one change per ride, each from the floor the last one reached.
    rides = [e for e in events if e.from_floor != e.to_floor]
    assert [e.to_floor for e in rides][-len(sc.rides) :] == [r.to_floor for r in sc.rides]
    assert all(a.to_floor == b.from_floor for a, b in itertools.pairwise(rides))


def test_one_early_sample_is_refused() -> None:
    with pytest.raises(ConfigError, match='early_stop_samples'):
        FloorEstimatorParams(early_stop_samples=1)


def _two_spikes_at_1hz() -> tuple[np.ndarray, np.ndarray]:
    """Two spikes in a row pass the 3-sample median as one 200 Pa jump (17 m up)."""
    rng = np.random.default_rng(0)
    t = np.arange(0.0, 400.0, 1.0)
    p = 101325.0 + rng.normal(0.0, 1.0, t.size)
    p[200:202] -= 200.0
    return t, p


def test_an_early_new_floor_taken_back_is_told() -> None:
    """The full stop test takes a shown new floor back; the events must say so."""
    t, p = _two_spikes_at_1hz()
    params = FloorEstimatorParams(early_max_speed_mps=1000.0)  # let the spikes through
    table = FloorTable.from_seed('0:0,1:3.0,2:6.0')
    trace, events, _ = estimate_floors(t, p, table=table, params=params)
    assert trace.floor[-1] == 0
    assert events, 'the spikes no longer show an early floor: this test needs a new trigger'
    shown, back = events[0], events[-1]
    assert (shown.from_floor, shown.new_floor) == (0, True)
    assert (back.from_floor, back.to_floor, back.source) == (shown.to_floor, 0, 'refined')
    assert back.from_label == shown.to_label
    assert back.dz_m == pytest.approx(-shown.dz_m, abs=1.0)


def test_no_early_floor_is_reached_faster_than_a_car() -> None:
    t, p = _two_spikes_at_1hz()
    table = FloorTable.from_seed('0:0,1:3.0,2:6.0')
    trace, events, _ = estimate_floors(t, p, table=table)
    assert events == []
    assert not trace.floor.any()
