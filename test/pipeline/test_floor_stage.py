"""The floor stage: units, temperature, elevator-state timing, outputs and the start floor."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pytest
import yaml
from numpy.typing import NDArray

from multifloor_slam.errors import ConfigError, MapFileError
from multifloor_slam.floors.estimator import RideEvent, scale_height_m
from multifloor_slam.floors.floor_table import FloorTable
from multifloor_slam.floors.params import FloorEstimatorParams
from multifloor_slam.io.records import (
    BoolRecord,
    ElevatorStateRecord,
    FloorRecord,
    FloorTableRecord,
    PressureRecord,
    Record,
    TemperatureRecord,
    ValueRecord,
)
from multifloor_slam.pipeline.floor_stage import (
    FloorOutput,
    FloorStage,
    FloorStageParams,
    floor_outputs,
    start_table,
)
from multifloor_slam.sim.pressure import (
    BarometerNoise,
    ElevatorKinematics,
    ride_profile,
    sample_barometer,
)

T0 = 1_700_000_000.0
DT = 0.02


class Trace:
    """A barometer trace (Pa, 20 Hz, 20 C air) of flat stretches and elevator rides."""

    def __init__(self, rides: Sequence[float], flat_s: float = 70.0, seed: int = 1) -> None:
        z_parts = [np.zeros(round(40.0 / DT))]
        self.ride_starts: list[float] = []
        for dz in rides:
            z0 = z_parts[-1][-1]
            self.ride_starts.append(T0 + sum(len(p) for p in z_parts) * DT)
            z_parts.append(z0 + ride_profile(dz, ElevatorKinematics(), DT))
            z_parts.append(np.full(round(flat_s / DT), z0 + dz))
        z = np.concatenate(z_parts)
        t = T0 + np.arange(z.size) * DT
        noise = BarometerNoise(rate_hz=20.0, white_pa=0.3, wander_pa=0.0)
        self.t, self.p = sample_barometer(t, z, noise, np.random.default_rng(seed))

    def records(self, scale: float = 1.0) -> list[PressureRecord]:
        return [
            PressureRecord(float(t), float(p) * scale) for t, p in zip(self.t, self.p, strict=True)
        ]


@pytest.fixture(scope='module')
def one_ride() -> Trace:
    return Trace([4.0])


@pytest.fixture(scope='module')
def three_rides() -> Trace:
    return Trace([4.0, 4.0, -8.0])


def run(
    stage: FloorStage, pressure: Iterable[PressureRecord], others: Iterable[Record] = ()
) -> list[FloorOutput]:
    """Feed records in stamp order (others before a pressure sample of the same stamp)."""
    merged = sorted(
        [(r.t, 0, i, r) for i, r in enumerate(others)]
        + [(r.t, 1, i, r) for i, r in enumerate(pressure)],
        key=lambda x: x[:3],
    )
    outs = []
    for _, _, _, rec in merged:
        out = stage.feed('x', rec)
        if out is not None:
            outs.append(out)
    return outs


def altitudes(outs: list[FloorOutput]) -> NDArray[np.float64]:
    return np.array([o.altitude_m for o in outs])


def floors(outs: list[FloorOutput]) -> list[int | None]:
    return [o.floor for o in outs]


def rides(stage: FloorStage) -> list[tuple[int, int, str]]:
    return [(r.from_floor, r.to_floor, r.source) for r in stage.rides]


# ---------------------------------------------------------------------------- (a) temperature
def temperatures(trace: Trace, c: float, every_s: float = 5.0) -> list[TemperatureRecord]:
    return [TemperatureRecord(t, c) for t in np.arange(trace.t[0], trace.t[-1], every_s)]


def test_temperature_reaches_the_estimator(one_ride: Trace) -> None:
    recs = one_ride.records()
    cold_stage, hot_stage, none_stage = FloorStage(), FloorStage(), FloorStage()
    cold = run(cold_stage, recs, temperatures(one_ride, -10.0))
    hot = run(hot_stage, recs, temperatures(one_ride, 35.0))
    default = run(none_stage, recs)
    # The same decisions, one ride to a new floor, in every run.
    assert rides(cold_stage) == rides(hot_stage) == rides(none_stage) == [(0, 1, 'ride')]
    assert floors(cold) == floors(hot) == floors(default)
    # Every height is the scale height times a pressure ratio: they scale with T (kelvin).
    a_cold, a_hot, a_def = altitudes(cold), altitudes(hot), altitudes(default)
    ratio_cold = scale_height_m(-10.0) / scale_height_m(35.0)
    ratio_def = scale_height_m(20.0) / scale_height_m(35.0)
    assert ratio_cold == pytest.approx(263.15 / 308.15)
    assert np.allclose(a_cold, ratio_cold * a_hot, rtol=1e-9, atol=1e-9)
    assert np.allclose(a_def, ratio_def * a_hot, rtol=1e-9, atol=1e-9)
    assert a_hot.max() - a_cold.max() > 0.5  # 4 m: about 0.6 m apart
    dz = [s.rides[0].dz_m for s in (cold_stage, hot_stage, none_stage)]
    assert dz[0] == pytest.approx(ratio_cold * dz[1], rel=1e-9)
    assert dz[2] == pytest.approx(4.0, abs=0.3)  # the trace was made at 20 C
    assert cold_stage.table.elevation(1) == pytest.approx(
        ratio_cold * hot_stage.table.elevation(1), rel=1e-9
    )


def test_no_temperature_means_the_estimators_default(one_ride: Trace) -> None:
    recs = one_ride.records()
    cold = altitudes(run(FloorStage(), recs, temperatures(one_ride, -10.0)))
    params = FloorEstimatorParams(default_temperature_c=-10.0)
    default_cold = altitudes(run(FloorStage(estimator_params=params), recs))
    assert np.allclose(default_cold, cold, rtol=1e-12, atol=1e-12)


def test_a_stale_temperature_is_not_used(one_ride: Trace) -> None:
    recs = one_ride.records()
    params = FloorStageParams(temperature_max_age_s=30.0)
    first = float(one_ride.t[0])
    default = altitudes(run(FloorStage(params), recs))
    cold = altitudes(run(FloorStage(params), recs, temperatures(one_ride, -10.0)))
    stale = altitudes(run(FloorStage(params), recs, [TemperatureRecord(first - 31.0, -10.0)]))
    fresh = altitudes(run(FloorStage(params), recs, [TemperatureRecord(first - 29.0, -10.0)]))
    assert np.array_equal(stale, default)
    assert np.allclose(fresh, cold, rtol=1e-12, atol=1e-12)  # used, and the estimator keeps it
    assert not np.allclose(fresh, default, rtol=1e-3)


def test_a_temperature_in_the_pressure_record_wins(one_ride: Trace) -> None:
    recs = one_ride.records()
    hot = altitudes(run(FloorStage(), recs, temperatures(one_ride, 35.0)))
    own = [PressureRecord(r.t, r.pressure_pa, 35.0) for r in recs]
    mixed = altitudes(run(FloorStage(), own, temperatures(one_ride, -10.0)))
    assert np.allclose(mixed, hot, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------- (b) units
@pytest.mark.parametrize(('unit', 'scale'), [('Pa', 1.0), ('hPa', 0.01), ('kPa', 0.001)])
def test_auto_unit_gives_the_same_floors_in_pa_hpa_and_kpa(
    three_rides: Trace, unit: str, scale: float
) -> None:
    ref_stage = FloorStage(FloorStageParams(pressure_unit='Pa'))
    ref = run(ref_stage, three_rides.records())
    assert rides(ref_stage) == [(0, 1, 'ride'), (1, 2, 'ride'), (2, 0, 'ride')]
    for params in (FloorStageParams(), FloorStageParams(pressure_unit=unit)):
        stage = FloorStage(params)
        assert stage.unit_guess == ''
        outs = run(stage, three_rides.records(scale))
        assert stage.unit_guess == (unit if params.pressure_unit == 'auto' else '')
        assert floors(outs) == floors(ref)
        assert [o.riding for o in outs] == [o.riding for o in ref]
        assert rides(stage) == rides(ref_stage)
        assert [r.dz_m for r in stage.rides] == pytest.approx(
            [r.dz_m for r in ref_stage.rides], abs=1e-6
        )
        assert np.allclose(altitudes(outs), altitudes(ref), atol=1e-6)


def test_auto_unit_is_decided_by_the_first_plausible_sample(three_rides: Trace) -> None:
    recs = three_rides.records(0.01)
    t0 = recs[0].t
    junk = [PressureRecord(t0 - 0.2, 0.0), PressureRecord(t0 - 0.1, float('nan'))]
    stage = FloorStage()
    run(stage, junk)
    assert stage.unit_guess == ''  # nothing plausible yet: rejected and counted
    assert (stage.stats['out_of_range'], stage.stats['not_finite']) == (1, 1)
    # Once decided the unit stays: a Pa-sized value in an hPa stream is not rescaled.
    outs = run(stage, [*recs[:100], PressureRecord(recs[100].t - 0.01, 101325.0), *recs[100:]])
    assert stage.unit_guess == 'hPa'
    assert stage.stats['out_of_range'] == 2  # 101325 hPa
    assert [r[:2] for r in rides(stage)] == [(0, 1), (1, 2), (2, 0)]
    assert max(abs(a) for a in altitudes(outs)) < 10.0


def test_an_explicit_wrong_unit_is_used_as_told(three_rides: Trace) -> None:
    stage = FloorStage(FloorStageParams(pressure_unit='Pa'))
    run(stage, three_rides.records(0.01))  # hPa read as Pa: 1013 Pa is absurd
    assert stage.rides == [] and stage.stats['accepted'] == 0
    assert stage.stats['out_of_range'] == len(three_rides.t)


@pytest.mark.parametrize('unit', ['pa', 'mbar', 'psi', 'PA', ''])
def test_an_unknown_unit_name_raises_config_error(unit: str) -> None:
    with pytest.raises(ConfigError, match='pressure unit'):
        FloorStageParams(pressure_unit=unit)


# ---------------------------------------------------------------------------- (c) elevator state
@pytest.fixture(scope='module')
def short_ride() -> Trace:
    """1.8 m: below min_step_m (2 m), above it times elevator_step_factor (1.6 m)."""
    return Trace([1.8], flat_s=70.0)


def _ride_count(trace: Trace, state: ElevatorStateRecord | None, at: float) -> FloorStage:
    """Feed ``state`` right after the last pressure sample before ``at``."""
    recs = trace.records()
    k = int(np.searchsorted(trace.t, at))
    stage = FloorStage()
    run(stage, recs[:k])
    if state is not None:
        stage.on_elevator_state(state)
    run(stage, recs[k:])
    return stage


def test_elevator_state_without_stamp_is_timed_at_the_newest_pressure(short_ride: Trace) -> None:
    start = short_ride.ride_starts[0]
    assert _ride_count(short_ride, None, start - 5.0).rides == []  # too small without the camera
    # Received on another clock (5 s since boot): without a stamp the newest pressure stamp
    # times it, so the car seen 5 s before the ride makes the 1.8 m step a ride.
    unstamped = ElevatorStateRecord(5.0, 'inside', 0.9)
    stage = _ride_count(short_ride, unstamped, start - 5.0)
    assert [r[:2] for r in rides(stage)] == [(0, 1)]
    # The same state seen long before the ride (older than elevator_state_timeout_s) does not.
    stage = _ride_count(short_ride, unstamped, start - 40.0)
    assert stage.rides == []


def test_elevator_state_with_a_stamp_is_timed_at_that_stamp(short_ride: Trace) -> None:
    start = short_ride.ride_starts[0]
    # Delivered late (40 s after the frame), but stamped 5 s before the ride: it counts.
    late = ElevatorStateRecord(5.0, 'inside', 0.9, stamp=start - 5.0)
    assert [r[:2] for r in rides(_ride_count(short_ride, late, start - 5.0))] == [(0, 1)]
    # Delivered just before the ride, but its frame was 40 s older: too old to count.
    old = ElevatorStateRecord(5.0, 'inside', 0.9, stamp=start - 45.0)
    assert _ride_count(short_ride, old, start - 5.0).rides == []


def test_elevator_state_before_any_pressure_uses_its_receive_time(short_ride: Trace) -> None:
    start = short_ride.ride_starts[0]
    stage = FloorStage()
    stage.on_elevator_state(ElevatorStateRecord(start - 5.0, 'doors_open', 0.9))
    run(stage, short_ride.records())
    assert [r[:2] for r in rides(stage)] == [(0, 1)]


# ---------------------------------------------------------------------------- (d) outputs
def test_floor_outputs_order_and_unchanged_fields() -> None:
    event = RideEvent(1.0, 9.0, 0, 1, 'L0', 'L1', 4.0, -48.0, 0.9)
    full = FloorOutput(10.0, 4.0, floor=1, riding=False, event=event, table={'floors': []})
    recs = floor_outputs(full)
    assert recs == [
        ('floor_table', FloorTableRecord(10.0, {'floors': []})),
        ('floor', FloorRecord(10.0, 1)),
        ('riding', BoolRecord(10.0, False)),
        ('altitude', ValueRecord(10.0, 4.0)),
    ]
    assert floor_outputs(FloorOutput(11.0, 4.25)) == [('altitude', ValueRecord(11.0, 4.25))]
    assert floor_outputs(FloorOutput(12.0, 0.0, riding=True)) == [
        ('riding', BoolRecord(12.0, True)),
        ('altitude', ValueRecord(12.0, 0.0)),
    ]


def test_stage_reports_changes_only_and_the_table_whenever_it_changed(
    three_rides: Trace,
) -> None:
    stage = FloorStage()
    first = stage.initial()
    assert (first.floor, first.riding, first.event) == (0, False, None)
    assert first.table == stage.table.to_dict() and first.altitude_m == 0.0
    outs = run(stage, three_rides.records())
    assert len(outs) == len(three_rides.t)
    changes = [o for o in outs if o.floor is not None]
    assert [o.floor for o in changes] == [1, 2, 0]
    riding = [o.riding for o in outs if o.riding is not None]
    assert riding == [True, False] * 3  # alternates: only changes are reported
    # Nothing is repeated: between two reported floors the floor did not change.
    assert outs[0].floor is None and outs[0].riding is None
    with_table = [o for o in outs if o.table is not None]
    with_event = [o for o in outs if o.event is not None]
    assert len(with_event) == len(stage.rides) >= 3
    # Every ride and every floor change carries the table, with the new floor as current.
    for o in outs:
        if o.event is not None or o.floor is not None:
            assert o.table is not None
            assert o.table['current_floor'] == o.floor
            assert o.floor in [f['index'] for f in o.table['floors']]
    # Refinements after a ride (the post-ride windows) are published too, each table new:
    # what the map manager saves is always the estimator's table as it is now.
    assert len(with_table) > len(with_event)
    tables = [first.table] + [o.table for o in with_table]
    assert all(a != b for a, b in itertools.pairwise(tables))
    assert with_table[-1].table == stage.table.to_dict()
    kinds = [[k for k, _ in floor_outputs(o)] for o in with_table]
    assert all(k[0] == 'floor_table' and k[-1] == 'altitude' for k in kinds)


def test_first_sample_reports_the_floor_when_initial_was_not_called(one_ride: Trace) -> None:
    stage = FloorStage(FloorStageParams(initial_floor=3))
    out = stage.on_pressure(one_ride.records()[0])
    assert (out.floor, out.riding, out.table) == (3, False, None)
    assert [k for k, _ in floor_outputs(out)] == ['floor', 'riding', 'altitude']


# ---------------------------------------------------------------------------- (e) start floor
def _table(current: int | None = None, reference: int = 0) -> FloorTable:
    table = FloorTable(reference_index=reference, current_floor=current)
    for i, z in ((-1, -3.0), (0, 0.0), (1, 3.5), (2, 7.0)):
        table.add(i, z)
    return table


def test_start_floor_rule() -> None:
    saved = _table(current=2)
    assert saved.start_floor(1) == 2  # resume wins
    assert saved.start_floor(None) == 2
    assert saved.start_floor(1, resume=False) == 1
    assert saved.start_floor(None, resume=False) == 0  # the reference floor
    assert _table(current=None, reference=1).start_floor(None) == 1
    assert _table(current=7).start_floor(-1) == -1  # a saved floor not in the table: ignored
    assert FloorTable().start_floor(5) == 5  # an empty table takes any floor
    assert FloorTable().start_floor(None) == 0
    with pytest.raises(ConfigError, match='not in the floor table'):
        _table(current=None).start_floor(4)
    with pytest.raises(ConfigError, match='not in the floor table'):
        saved.start_floor(4, resume=False)
    assert saved.start_floor(4) == 2  # resuming, the request is not looked at


def test_floor_stage_starts_by_the_rule() -> None:
    assert FloorStage(FloorStageParams(initial_floor=1), table=_table(2)).estimator.floor == 2
    no_resume = FloorStageParams(initial_floor=1, resume_floor=False)
    assert FloorStage(no_resume, table=_table(2)).estimator.floor == 1
    assert FloorStage(FloorStageParams(initial_floor=-1)).estimator.floor == -1
    assert FloorStage(table=_table(2), initial_floor=-1).estimator.floor == -1  # explicit
    stage = FloorStage(no_resume, table=_table(2))
    assert stage.initial().floor == 1 and stage.initial().altitude_m == 3.5
    with pytest.raises(ConfigError):
        FloorStage(FloorStageParams(initial_floor=5, resume_floor=False), table=_table(2))
    with pytest.raises(ConfigError):
        FloorStage(table=_table(2), initial_floor=5)


def test_start_table_rule(tmp_path: Path) -> None:
    """floor_table_file if it exists, else the building's table, else the seed, else none."""
    table_file = tmp_path / 'floors.yaml'
    _table(current=1).save(table_file)
    building = tmp_path / 'building'
    building.mkdir()
    data = {'format': 'x', 'floors': [], 'floor_table': _table(current=2).to_dict()}
    (building / 'building.yaml').write_text(yaml.safe_dump(data))
    seed = '0:0,1:4.0'

    table, source = start_table(table_file, building, seed)
    assert table is not None and table.current_floor == 1 and 'floor_table_file' in source
    # The table file does not exist (yet): the building's table, with its floor.
    for where in (building, building / 'building.yaml'):
        table, source = start_table(tmp_path / 'none.yaml', where, seed)
        assert table is not None and table.current_floor == 2 and 'building_file' in source
        assert FloorStage(table=table).estimator.floor == 2  # resumes on the saved floor
    # No building (or one without a table): the seed; nothing at all: no table.
    table, source = start_table('', tmp_path / 'missing', seed)
    assert table is not None and table.indices == [0, 1] and source == 'floor_table_seed'
    (building / 'building.yaml').write_text(yaml.safe_dump({'floors': []}))
    assert start_table(None, building, seed)[1] == 'floor_table_seed'
    assert start_table(None, None, '') == (None, 'new building')


def test_a_broken_building_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / 'building.yaml'
    path.write_text('floors: [\n')
    with pytest.raises(MapFileError, match=r'building\.yaml is not valid YAML'):
        start_table(None, path)
    path.write_text(yaml.safe_dump({'floor_table': {'floors': [{'index': 'x'}]}}))
    with pytest.raises(MapFileError, match=r'building\.yaml.*floor table'):
        start_table(None, path)


def test_absurd_floor_indices_are_refused_from_configuration(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match='beyond'):
        FloorStageParams(initial_floor=2**31 - 1)
    with pytest.raises(ConfigError, match='beyond'):
        FloorTable.from_seed('0:0,500:1500')
    data = _table(current=None).to_dict()
    data['current_floor'] = 2**31 - 1
    with pytest.raises(MapFileError, match='beyond'):
        FloorTable.from_dict(data)


def test_a_floor_found_between_consecutive_indices_is_reported_as_a_renumbering() -> None:
    # Up 6.4 m (one tall storey: L1), down 3.2 m: the floor found in between becomes L1, the
    # floor above L2; the stage says so once, with the table.
    trace = Trace([6.4, -3.2, 3.2])
    stage = FloorStage()
    outs = [stage.on_pressure(rec) for rec in trace.records()]
    renumbered = [o for o in outs if o.renumbered]
    assert len(renumbered) == 1 and renumbered[0].renumbered == {1: 2}
    assert renumbered[0].table is not None
    assert [f['index'] for f in renumbered[0].table['floors']] == [0, 1, 2]
    assert [(e.from_floor, e.to_floor) for e in stage.rides] == [(0, 1), (2, 1), (1, 2)]
    assert stage.estimator.floor == 2 and stage.stats['renumbered'] == 1
