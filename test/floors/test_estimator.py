"""The floor estimator on simulated barometer data: rides, drift, doors, bad input, gaps."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from multifloor_slam.floors.batch import estimate_floors
from multifloor_slam.floors.estimator import (
    FloorEstimator,
    FloorEstimatorParams,
    RideEvent,
)
from multifloor_slam.floors.floor_table import FloorTable
from multifloor_slam.sim.pressure import BarometerNoise, ElevatorKinematics, sample_barometer
from multifloor_slam.sim.rides import Building, Scenario, simulate_rides

# Non-uniform: a tall lobby (5.6 m), a mechanical floor (7 m), two basements.
TOWER = Building.from_storeys([3.0, 2.8, 5.6, 3.1, 7.0, 2.9, 3.3], n_basements=2)
VISITS = [0, 3, -2, 4, 1, 5, -1, 2, 0]


def _floor_after_each_ride(sc: Scenario, t: np.ndarray, floor: np.ndarray) -> list[int]:
    """Estimated floor just before the next ride starts (or at the end)."""
    out = []
    for i in range(len(sc.rides)):
        t_next = sc.rides[i + 1].t_start if i + 1 < len(sc.rides) else t[-1] + 1.0
        out.append(int(floor[np.searchsorted(t, t_next - 0.5) - 1]))
    return out


def _assert_same_floors(sc: Scenario, est: list[int]) -> None:
    """One estimated floor per true floor and vice versa (labels may be numbered differently)."""
    truth = [r.to_floor for r in sc.rides]
    pairs = set(zip(est, truth, strict=True)) | {(0, sc.start_floor)}
    assert len({e for e, _ in pairs}) == len(pairs) == len({t for _, t in pairs}), (est, truth)


CASES = {
    'slow car 0.3 m/s, 25 Hz MEMS': (ElevatorKinematics(0.3, 0.6, 1.0), BarometerNoise(25.0, 0.5)),
    'fast car 6 m/s, 50 Hz noisy': (
        ElevatorKinematics(6.0, 1.2, 2.4),
        BarometerNoise(50.0, 5.0, wander_pa=1.0),
    ),
    'phone 1 Hz, 1.5 Pa': (ElevatorKinematics(1.6, 1.0, 2.0), BarometerNoise(1.0, 1.5, 1.0)),
    'storm drift 200 Pa/h, doors, spikes, 10 Hz': (
        ElevatorKinematics(2.5, 1.0, 2.0),
        BarometerNoise(
            10.0,
            1.0,
            drift_pa_per_h=-200.0,
            door_steps_per_h=20.0,
            spike_prob=0.003,
            temperature_c=24.0,
        ),
    ),
}


@pytest.mark.parametrize('case', list(CASES))
def test_floors_right_after_every_ride(case: str) -> None:
    kin, noise = CASES[case]
    sc = simulate_rides(TOWER, VISITS, 30.0, kin, noise, np.random.default_rng(11))
    trace, events, table = estimate_floors(sc.t, sc.pressure_pa)
    est = _floor_after_each_ride(sc, trace.t, trace.floor)
    _assert_same_floors(sc, est)
    assert len([e for e in events if e.source == 'ride']) >= len(sc.rides)  # recall
    assert len(table) == len(set(VISITS))
    assert all(0.0 <= e.confidence <= 1.0 for e in events)
    # Basements are below the start floor, upper floors above it.
    assert table.indices[0] < 0 < table.indices[-1]
    assert table.label(table.indices[0]).startswith('B')


def test_seeded_table_gives_the_true_floor_indices_and_is_refined() -> None:
    seed = ','.join(f'{f}:{TOWER.z(f) + 0.2:.2f}' for f in TOWER.floors)
    table = FloorTable.from_seed(seed)
    kin, noise = CASES['storm drift 200 Pa/h, doors, spikes, 10 Hz']
    sc = simulate_rides(TOWER, VISITS, 30.0, kin, noise, np.random.default_rng(2))
    temperature = np.full(sc.t.size, noise.temperature_c)
    trace, events, table = estimate_floors(sc.t, sc.pressure_pa, temperature, table=table)
    assert _floor_after_each_ride(sc, trace.t, trace.floor) == [r.to_floor for r in sc.rides]
    assert not any(e.new_floor for e in events)
    assert table.elevation(4) - table.elevation(0) == pytest.approx(TOWER.z(4), abs=0.3)
    assert len(table[4].observations) > 1  # refined by the rides


def test_temperature_makes_tall_rides_exact() -> None:
    building = Building.from_storeys([30.0])  # one 30 m express ride, hot day
    noise = BarometerNoise(25.0, 0.3, wander_pa=0.0, temperature_c=35.0)
    sc = simulate_rides(
        building, [0, 1], 30.0, ElevatorKinematics(4.0), noise, np.random.default_rng(1)
    )
    _, with_t, _ = estimate_floors(sc.t, sc.pressure_pa, np.full(sc.t.size, 35.0))
    _, without, _ = estimate_floors(sc.t, sc.pressure_pa)
    assert with_t[0].dz_m == pytest.approx(30.0, abs=0.15)
    assert without[0].dz_m == pytest.approx(30.0 * 293.15 / 308.15, abs=0.15)  # 20 C assumed


def test_eight_hours_parked_in_a_storm_with_doors_never_changes_floor() -> None:
    rng = np.random.default_rng(4)
    noise = BarometerNoise(
        2.0, 1.0, wander_pa=1.0, drift_pa_per_h=200.0, door_steps_per_h=30.0, spike_prob=0.002
    )
    t, p = sample_barometer(np.array([0.0, 8 * 3600.0]), np.zeros(2), noise, rng)
    trace, events, _ = estimate_floors(t, p)
    assert events == [] and set(trace.floor.tolist()) == {0}
    assert trace.stats['small_steps'] > 50  # the door steps were seen and rejected


@pytest.mark.parametrize(
    ('rate_hz', 'white_pa'), [(1.0, 2.0), (10.0, 1.0), (25.0, 0.5), (50.0, 5.0)]
)
@pytest.mark.parametrize('sign', [1.0, -1.0])
def test_two_overlapping_door_steps_never_change_the_floor(
    rate_hz: float, white_pa: float, sign: float
) -> None:
    """Two door steps in quick succession add up to a storey's pressure change (28 Pa).

    They form a staircase with a flat stretch half-way, then return: never a floor change,
    not even a transient one undone seconds later.
    """
    rng = np.random.default_rng(5)
    noise = BarometerNoise(rate_hz, white_pa, wander_pa=1.0, drift_pa_per_h=100.0)
    t, p = sample_barometer(np.array([0.0, 400.0]), np.zeros(2), noise, rng)
    for start, length, size in ((120.0, 40.0, 14.0), (128.0, 10.0, 14.0), (250.0, 20.0, 13.0)):
        p[(t >= start) & (t < start + length)] += sign * size
    p[(t >= 262.0) & (t < 266.0)] += sign * 15.0
    trace, events, _ = estimate_floors(t, p)
    assert events == [] and set(trace.floor.tolist()) == {0}
    assert trace.stats['small_steps'] >= 2


@pytest.mark.parametrize(
    ('case', 'max_delay_s'),
    [('fast car 6 m/s, 50 Hz noisy', 1.5), ('storm drift 200 Pa/h, doors, spikes, 10 Hz', 1.5)],
)
def test_a_fast_ride_is_published_soon_after_the_car_stops(case: str, max_delay_s: float) -> None:
    """The stop test scales with the ride's rate: a fast car is judged stopped sooner.

    Delays are in simulated time (car stop to the first floor change), not wall-clock time.
    """
    kin, noise = CASES[case]
    sc = simulate_rides(TOWER, VISITS, 30.0, kin, noise, np.random.default_rng(11))
    trace, _events, _ = estimate_floors(sc.t, sc.pressure_pa)
    delays = []
    for ride in sc.rides:
        i0 = int(np.searchsorted(trace.t, ride.t_start))
        changed = np.nonzero(trace.floor[i0:] != trace.floor[i0 - 1])[0]
        assert changed.size, ride
        delays.append(trace.t[i0 + changed[0]] - ride.t_stop)
    assert max(delays) <= max_delay_s, delays
    _assert_same_floors(sc, _floor_after_each_ride(sc, trace.t, trace.floor))


def test_bad_input_is_counted_and_never_changes_the_floor() -> None:
    kin, noise = CASES['slow car 0.3 m/s, 25 Hz MEMS']
    building = Building.from_storeys([3.2, 3.4])
    sc = simulate_rides(building, [0, 2, 1], 25.0, kin, noise, np.random.default_rng(5))
    t, p = sc.t.copy(), sc.pressure_pa.copy()
    rng = np.random.default_rng(6)
    idx = rng.choice(np.arange(100, t.size - 100), 60, replace=False)
    bad_values = [math.nan, math.inf, -math.inf, 0.0, -101325.0, 1013.25, 5e6]
    p[idx[:35]] = [bad_values[i % len(bad_values)] for i in range(35)]
    t[idx[35:45]] = t[idx[35:45] - 1]  # duplicated stamps
    t[idx[45:55]] = t[idx[45:55]] - 30.0  # stamps jumping back
    p[idx[55:]] += 500.0  # glitches
    # A burst: the driver delivers 20 samples within a millisecond.
    t = np.concatenate([t[:300], t[299] + np.linspace(1e-5, 5e-4, 20), t[300:]])
    p = np.concatenate([p[:300], np.full(20, p[299]), p[300:]])
    trace, events, _ = estimate_floors(t, p)
    s = trace.stats
    assert s['not_finite'] == 15 and s['out_of_range'] == 20
    assert s['duplicate_stamp'] >= 8 and s['backwards_stamp'] >= 8 and s['burst'] == 20
    assert s['spikes'] >= 4
    rides = [(e.from_floor, e.to_floor) for e in events]
    assert [r for r in rides if r[0] != r[1]] == [(0, 2), (2, 1)], events


def test_gaps_reset_but_do_not_invent_floors() -> None:
    """Silence while parked under drift: no change; silence across a ride: a 'gap' ride."""
    building = Building.from_storeys([3.5])
    kin = ElevatorKinematics(1.5)
    noise = BarometerNoise(10.0, 0.5, drift_pa_per_h=200.0)
    sc = simulate_rides(
        building, [0, 1, 0], [60.0, 60.0, 60.0], kin, noise, np.random.default_rng(8)
    )
    # 1) The sensor is silent for 2 h while parked: 400 Pa of drift, no floor change.
    t_first, p_first = sc.t[sc.t < 40.0], sc.pressure_pa[sc.t < 40.0]
    t_late = t_first + 7200.0 + 40.0
    p_late = p_first + 400.0
    trace, events, _ = estimate_floors(np.r_[t_first, t_late], np.r_[p_first, p_late])
    assert events == [] and trace.stats['gaps'] == 1 and set(trace.floor.tolist()) == {0}
    # 2) The sensor is silent during the first ride: the floor change is still found.
    ride = sc.rides[0]
    keep = (sc.t < ride.t_start - 5.0) | (sc.t > ride.t_stop + 5.0)
    trace, events, _ = estimate_floors(sc.t[keep], sc.pressure_pa[keep])
    assert [(e.from_floor, e.to_floor, e.source) for e in events[:2]] == [
        (0, 1, 'gap'),
        (1, 0, 'ride'),
    ]
    assert events[0].confidence < events[1].confidence


def test_camera_state_changes_how_sceptical_the_estimator_is() -> None:
    """A 2.3 m step: accepted by default, refused when the camera sees no elevator."""
    building = Building.from_storeys([2.3])
    noise = BarometerNoise(25.0, 0.3)
    sc = simulate_rides(
        building, [0, 1], 30.0, ElevatorKinematics(1.0), noise, np.random.default_rng(9)
    )

    def run(state: str | None) -> list[RideEvent]:
        est = FloorEstimator()
        events = []
        for ti, pi in zip(sc.t, sc.pressure_pa, strict=True):
            if state is not None and int(ti * 25) % 25 == 0:
                est.set_elevator_state(ti, state, 0.9)
            s = est.update(ti, pi)
            if s.event is not None:
                events.append(s.event)
        return events

    plain, inside, none = run(None), run('inside'), run('none')
    assert [e.to_floor for e in plain] == [1] and [e.to_floor for e in inside] == [1]
    assert none == []
    assert inside[0].confidence > plain[0].confidence
    est = FloorEstimator()
    est.set_elevator_state(0.0, 'flying', 1.0)
    assert est.stats['bad_elevator_state'] == 1


def test_restart_continues_with_the_learned_table(tmp_path) -> None:
    kin, noise = CASES['phone 1 Hz, 1.5 Pa']
    sc = simulate_rides(TOWER, VISITS, 30.0, kin, noise, np.random.default_rng(12))
    trace, _, table = estimate_floors(sc.t, sc.pressure_pa)
    est_of = dict(zip(VISITS[1:], _floor_after_each_ride(sc, trace.t, trace.floor), strict=True))
    table.save(tmp_path / 'floors.yaml')
    loaded = FloorTable.load(tmp_path / 'floors.yaml')
    later = [0, 4, -2, 0]
    sc2 = simulate_rides(TOWER, later, 30.0, kin, noise, np.random.default_rng(13))
    trace2, events, _ = estimate_floors(sc2.t, sc2.pressure_pa, table=loaded)
    assert not any(e.new_floor for e in events)
    assert _floor_after_each_ride(sc2, trace2.t, trace2.floor) == [est_of[f] for f in later[1:]]


def test_ride_event_json_is_one_line_with_the_promised_keys() -> None:
    e = RideEvent(1.0, 9.5, 0, 2, 'L0', 'L2', 7.123456, 84.2, 0.91234)
    line = e.to_json()
    assert '\n' not in line
    data = json.loads(line)
    for key in ('t_start', 't_end', 'from_floor', 'to_floor', 'from_label', 'to_label', 'dz_m'):
        assert key in data
    assert data['dz_m'] == 7.123 and data['confidence'] == 0.912


def test_estimate_floors_checks_its_inputs() -> None:
    from multifloor_slam.errors import ConfigError

    with pytest.raises(ConfigError):
        estimate_floors([0.0, 1.0], [101325.0])
    with pytest.raises(ConfigError):
        FloorEstimator(FloorEstimatorParams(), FloorTable.from_seed('0:0,1:3'), initial_floor=5)


def test_a_long_gap_that_may_hide_a_ride_makes_the_floor_unknown_until_the_next_ride() -> None:
    """10 min of silence hides a 1-storey ride (inside the drift bound): unknown, not L0."""
    building = Building.from_storeys([3.3, 3.4])
    noise = BarometerNoise(10.0, 0.5, drift_pa_per_h=100.0)
    sc = simulate_rides(
        building,
        [0, 1, 0, 2],
        [60.0, 400.0, 900.0, 60.0],
        ElevatorKinematics(1.5),
        noise,
        np.random.default_rng(4),
    )
    # The ride 1 -> 0 happens during a 10-minute silence.
    ride = sc.rides[1]
    keep = (sc.t < ride.t_start - 300.0) | (sc.t > ride.t_stop + 300.0)
    trace, _events, table = estimate_floors(sc.t[keep], sc.pressure_pa[keep])
    t = trace.t
    after_gap = (t > ride.t_stop + 330.0) & (t < sc.rides[2].t_start)
    assert trace.stats['unknown_floor'] == 1
    assert trace.riding[after_gap].all()  # nothing is mapped while the floor is unknown
    assert (trace.confidence[after_gap] == 0.0).all()
    # The next ride (0 -> 2, 6.7 m) re-identifies the floor from the table.
    top = table.nearest(6.7)
    assert top is not None and trace.floor[-1] == top.index
    assert not trace.riding[-1]
    assert abs(table.elevation(trace.floor[-1]) - 6.7) < 0.8
