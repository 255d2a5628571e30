"""A tour that rides past a floor first and visits it later: the map follows the renumbering.

The mapping tour's building with its floors stacked in another order: the lab at 7.0 m, the
offices at 4.0 m. The robot rides L0 -> lab (7.0 m: one storey, so the floor estimator numbers it
L1), then down to the offices (a floor between L0 and L1: the lab becomes L2, the offices L1),
back to the lab and down to L0. The barometer is simulated from that trajectory and goes through
the real floor stage; the map stage sees only its records (``floor/table`` among them), as live.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import yaml
from mapping_tour import BuildingPlan, Tour, default_plan, evaluate, make_tour, tour_records

from multifloor_slam.io.records import PressureRecord, Record
from multifloor_slam.maps.mapper import BuildingMapper
from multifloor_slam.pipeline.building_pipeline import BuildingPipeline
from multifloor_slam.pipeline.floor_stage import FloorStage, floor_outputs
from multifloor_slam.pipeline.map_stage import MapStage
from multifloor_slam.sim.pressure import (
    BarometerNoise,
    ElevatorKinematics,
    ride_profile,
    sample_barometer,
)

#: tour floor (plan index) -> the floor's number in the building's true order
TRUE_INDEX = {0: 0, 1: 2, 2: 1}


def _ride_past_plan() -> BuildingPlan:
    plan = default_plan()
    lobby, offices, lab = (plan.floors[i] for i in (0, 1, 2))
    return BuildingPlan({0: lobby, 1: lab, 2: offices}, plan.shafts, {0: 0.0, 1: 7.0, 2: 4.0})


def _truth(tour: Tour) -> Tour:
    """The same tour with floors numbered in their true order (to score the layers)."""
    plan = tour.plan
    floors = {TRUE_INDEX[i]: walls for i, walls in plan.floors.items()}
    elevations = {TRUE_INDEX[i]: z for i, z in plan.elevations.items()}
    scans = [dataclasses.replace(s, floor=TRUE_INDEX[s.floor]) for s in tour.scans]
    return dataclasses.replace(
        tour, plan=BuildingPlan(floors, plan.shafts, elevations), scans=scans
    )


def _pressure(tour: Tour, after_s: float = 70.0) -> list[PressureRecord]:
    """A 10 Hz barometer along the tour's true altitude (rides as jerk-limited profiles)."""
    kin = ElevatorKinematics(1.6, 1.0, 2.0)
    z_of = tour.plan.elevations
    ts, zs = [tour.scans[0].t - 5.0], [z_of[tour.rides[0][2]]]
    for start, _end, f_from, f_to, _sid in tour.rides:
        prof = ride_profile(z_of[f_to] - z_of[f_from], kin, dt=0.05)
        ts += list(start + 1.0 + 0.05 * np.arange(len(prof)))
        zs += list(z_of[f_from] + prof)
    ts.append(tour.scans[-1].t + after_s)
    zs.append(zs[-1])
    noise = BarometerNoise(rate_hz=10.0, white_pa=1.0, wander_pa=0.3)
    t, p = sample_barometer(np.asarray(ts), np.asarray(zs), noise, np.random.default_rng(1))
    return [PressureRecord(float(a), float(b)) for a, b in zip(t, p, strict=True)]


@pytest.fixture(scope='module')
def tour() -> Tour:
    return make_tour(_ride_past_plan(), scan_rate_hz=5.0, speed_mps=1.5, seed=3)


def _run(tour: Tour, table_last: bool) -> BuildingPipeline:
    pipe = BuildingPipeline(FloorStage(), MapStage(BuildingMapper()))
    # The tour's own floor events are replaced by what the floor stage makes of the barometer.
    laser = [(k, r) for k, r in tour_records(tour) if k in ('pose', 'scan', 'elevator_state')]
    baro: list[tuple[str, Record]] = [('pressure', r) for r in _pressure(tour)]
    for kind, rec in sorted(laser + baro, key=lambda kr: kr[1].t):
        if not (table_last and isinstance(rec, PressureRecord)):
            pipe.feed(kind, rec)
            continue
        # Live, floor/current, floor/riding and floor/table are topics of their own: here the
        # table that renumbers comes after the floor in the new numbering.
        outs = floor_outputs(pipe.floor_stage.on_pressure(rec))
        for out_kind, out in sorted(outs, key=lambda kr: kr[0] == 'floor_table'):
            pipe.map_stage.feed(out_kind, out)
    pipe.mapper.flush()
    return pipe


@pytest.fixture(scope='module', params=[False, True], ids=['table_first', 'table_last'])
def pipeline(tour: Tour, request: pytest.FixtureRequest) -> BuildingPipeline:
    return _run(tour, request.param)


def test_the_floor_estimator_renumbered_and_the_map_followed(
    tour: Tour, pipeline: BuildingPipeline
) -> None:
    table = pipeline.floor_stage.table
    assert table.indices == [0, 1, 2]
    assert [round(table.elevation(i)) for i in table.indices] == [0, 4, 7]
    assert pipeline.map_stage.counts['renumberings'] >= 1
    mapper = pipeline.mapper
    assert sorted(mapper.floors) == [0, 1, 2] and mapper.current_floor == 0
    # Each layer is its floor's plan (in the true order), none of another floor's walls in it.
    quality = evaluate(mapper, _truth(tour))
    for index, q in quality.items():
        assert q['occupied_iou'] >= 0.85, (index, q)
        assert q['contamination'] < 0.01, (index, q)
        assert q['link_error_m'] <= 0.3, (index, q)
    for index in table.indices:
        assert mapper.floors[index].elevation_m == pytest.approx(table.elevation(index), abs=0.3)
    assert mapper.stats['icp_rejected'] == 0 and not mapper.fragments


def test_the_saved_building_has_the_final_numbers(
    pipeline: BuildingPipeline, tmp_path: Path
) -> None:
    data = yaml.safe_load(pipeline.save(tmp_path).read_text(encoding='utf-8'))
    floors = [(f['index'], f['label'], round(f['elevation_m'])) for f in data['floors']]
    assert floors == [(0, 'L0', 0), (1, 'L1', 4), (2, 'L2', 7)]
    table = {f['index']: round(f['elevation_m']) for f in data['floor_table']['floors']}
    assert table == {0: 0, 1: 4, 2: 7}
    served = sorted(sorted(link['floors']) for link in data['elevator_links'])
    assert served == [[0, 2], [1, 2]]  # A: L0 - lab, B: lab - offices
