"""The floor table re-fitted to all rides at once (multifloor_slam.floors.ride_graph)."""

from __future__ import annotations

import numpy as np
import pytest

from multifloor_slam.floors.batch import estimate_floors
from multifloor_slam.floors.floor_table import FloorTable
from multifloor_slam.floors.ride_graph import RideGraph
from multifloor_slam.sim.pressure import BarometerNoise, ElevatorKinematics
from multifloor_slam.sim.rides import random_building, simulate_rides


def _table(*floors: tuple[int, float]) -> FloorTable:
    table = FloorTable(reference_index=0)
    for index, z in floors:
        table.add(index, z)
    return table


def test_a_chained_error_is_spread_over_the_loop_that_reveals_it() -> None:
    # 0 -> 1 measured 0.6 m long; 1 -> 2 right; the direct 0 -> 2 rides say where 2 is.
    table = _table((0, 0.0), (1, 3.6), (2, 7.6))
    graph = RideGraph()
    graph.add(0, 1, 3.6, 0.05)
    graph.add(1, 2, 4.0, 0.05)
    for _ in range(3):
        graph.add(0, 2, 7.0, 0.05)
        graph.add(2, 1, -4.0, 0.05)
    assert graph.fit(table, min_storey_m=2.0)
    assert table.elevation(0) == 0.0  # the reference never moves
    assert table.elevation(2) == pytest.approx(7.0, abs=0.15)
    assert 3.0 <= table.elevation(1) <= 3.3  # not the 3.6 the first ride chained


def test_one_ride_a_metre_off_does_not_pull_well_measured_floors() -> None:
    table = _table((0, 0.0), (1, 3.0), (2, 6.0))
    graph = RideGraph()
    for _ in range(4):
        graph.add(0, 1, 3.0, 0.05)
        graph.add(1, 2, 3.0, 0.05)
        graph.add(2, 0, -6.0, 0.05)
    graph.add(0, 2, 7.2, 0.05)  # a door step inside a short stop
    graph.fit(table, min_storey_m=2.0)
    assert table.elevation(1) == pytest.approx(3.0, abs=0.1)
    assert table.elevation(2) == pytest.approx(6.0, abs=0.1)


def test_seeded_floors_stay_and_a_fit_that_breaks_the_order_is_refused() -> None:
    table = FloorTable.from_seed('0:0,1:3.0')
    table.add(2, 6.0)
    graph = RideGraph()
    graph.add(1, 2, 3.2, 0.05)
    graph.add(0, 1, 4.0, 0.05)  # disagrees with the seed: the seed wins
    assert graph.fit(table, min_storey_m=2.0)
    assert table.elevation(1) == 3.0
    assert table.elevation(2) == pytest.approx(6.2, abs=0.05)
    # rides that would put floor 2 below floor 1: not applied
    graph = RideGraph()
    for _ in range(3):
        graph.add(1, 2, -1.0, 0.05)
    before = table.elevation(2)
    assert not graph.fit(table, min_storey_m=2.0)
    assert table.elevation(2) == before


def test_renumbering_and_removal_follow_the_table() -> None:
    graph = RideGraph()
    graph.add(0, 1, 3.0, 0.1)
    graph.add(1, 2, 3.0, 0.1)
    graph.add(2, 2, 0.0, 0.1)  # no ride: ignored
    graph.renumber({1: 2, 2: 3})
    assert [(e.frm, e.to) for e in graph.edges] == [(0, 2), (2, 3)]
    graph.drop(3)
    assert [(e.frm, e.to) for e in graph.edges] == [(0, 2)]
    # rides of floors that are not in the table are not fitted
    table = _table((0, 0.0), (1, 3.0))
    assert not graph.fit(table, min_storey_m=2.0)


def test_the_estimator_table_ends_near_the_truth_on_a_drifting_tour() -> None:
    rng = np.random.default_rng(5)
    building = random_building(rng)
    floors = [0, 3, 1, 4, 0, 2, 4, 1, 3, 0, 4, 2, 0]
    floors = [f for f in floors if f in building.floors]
    kin = ElevatorKinematics(v_max=1.6, a_max=0.8, j_max=1.5)
    noise = BarometerNoise(rate_hz=10.0, white_pa=1.0, drift_pa_per_h=150.0)
    sc = simulate_rides(building, floors, [20.0] * len(floors), kin, noise, rng)
    _trace, events, table = estimate_floors(sc.t, sc.pressure_pa)
    assert events
    truth = {f: building.z(f) for f in building.floors}
    # every learned floor sits within half a metre of one true floor (scale: 20 C assumed)
    scale = (273.15 + 20.0) / (273.15 + noise.temperature_c)
    for floor in table:
        err = min(abs(floor.elevation_m - scale * z) for z in truth.values())
        assert err < 0.5, (floor.index, floor.elevation_m, truth)
