"""Floor numbering: one storey per floor visited in order, renumbered when a floor turns up."""

from __future__ import annotations

import numpy as np
import pytest

from multifloor_slam.errors import ConfigError
from multifloor_slam.floors.batch import estimate_floors
from multifloor_slam.floors.floor_table import FloorTable, compose_renumberings
from multifloor_slam.sim.pressure import BarometerNoise, ElevatorKinematics
from multifloor_slam.sim.rides import Building, simulate_rides


def test_a_tall_storey_is_one_floor_and_an_express_ride_skips_by_the_learned_storey() -> None:
    table = FloorTable()
    table.add(0, 0.0)
    assert table.index_for_new_floor(5.5, 3.5, 7.5) == 1  # a tall lobby
    table.add(1, 5.5)
    assert table.index_for_new_floor(5.5 + 6.8, 3.5, 7.5) == 2  # a mechanical storey
    assert table.index_for_new_floor(5.5 + 9.0, 3.5, 7.5) == 4  # 9 m at 3.5 m: 3 storeys
    table.add(2, 8.5)
    table.add(3, 11.5)
    assert table.typical_storey(3.5) == pytest.approx(3.0)  # learned from L1-L3
    assert table.index_for_new_floor(11.5 + 9.0, 3.5, 7.5) == 6  # 9 m at 3 m: 3 storeys
    assert table.index_for_new_floor(-8.0, 3.5, 7.5) == -3  # below the bottom too
    assert table.index_for_new_floor(-3.0, 3.5, 7.5) == -1


def test_a_floor_between_consecutive_indices_renumbers_the_floors_beyond_it() -> None:
    table = FloorTable()
    table.add(0, 0.0)
    table.add(1, 6.4)  # an express ride past one 3.2 m storey, numbered as one tall storey
    table.add(2, 9.6, label='Roof')
    table.current_floor = 2
    assert table.index_for_new_floor(3.2, 3.5, 7.5) == 1  # in use: room is made
    version = table.version
    assert table.add_new_floor(1, 3.2) == {1: 2, 2: 3}
    assert [(f.index, f.label, f.elevation_m) for f in table] == [
        (0, 'L0', 0.0),
        (1, 'L1', 3.2),
        (2, 'L2', 6.4),  # a default label follows its floor's number
        (3, 'Roof', 9.6),  # a given label stays
    ]
    assert table.current_floor == 3 and table.version > version
    # Below the reference floor the floors further down move.
    assert table.add_new_floor(-1, -6.0) == {}
    assert table.index_for_new_floor(-3.0, 3.5, 7.5) == -1
    assert table.add_new_floor(-1, -3.0) == {-1: -2}
    assert table.indices == [-2, -1, 0, 1, 2, 3]
    # A new floor found wrong: removing it undoes the room it made.
    assert table.remove(-1) == {-2: -1}
    assert table.remove(1) == {2: 1, 3: 2}
    assert [(f.index, f.label) for f in table] == [(-1, 'B1'), (0, 'L0'), (1, 'L1'), (2, 'Roof')]


def test_no_floor_is_squeezed_closer_than_a_storey_to_a_neighbour() -> None:
    table = FloorTable()
    table.add(0, 0.0)
    table.add(1, 4.2)
    # 1.9 m above L0 and 2.3 m below L1: a ride measured a metre off, not a skipped floor.
    assert table.index_for_new_floor(1.9, 3.5, 7.5, min_storey_m=2.0) is None
    assert table.index_for_new_floor(1.9, 3.5, 7.5) == 1


def test_seeded_floors_are_never_renumbered() -> None:
    table = FloorTable.from_seed('0:0, 1:3.5, 2:7.0')
    assert table.index_for_new_floor(5.2, 3.5, 7.5) is None  # the survey fixed the numbers
    with pytest.raises(ConfigError, match='never renumbered'):
        table.add_new_floor(2, 5.2)


def test_renumberings_compose() -> None:
    assert compose_renumberings({2: 1, 3: 2}, {1: 2, 2: 3}) == {}
    assert compose_renumberings({}, {1: 2}) == {1: 2}
    assert compose_renumberings({3: 2}, {1: 2, 2: 4}) == {1: 2, 3: 4}


def _ride(storeys: list[float], visits: list[int], seed: int = 3) -> tuple:
    building = Building.from_storeys(storeys)
    noise = BarometerNoise(10.0, 1.0, drift_pa_per_h=50.0)
    sc = simulate_rides(
        building,
        visits,
        25.0,
        ElevatorKinematics(1.6, 1.0, 2.0),
        noise,
        np.random.default_rng(seed),
    )
    return building, sc, estimate_floors(sc.t, sc.pressure_pa)


def test_floors_visited_bottom_up_get_consecutive_numbers_despite_tall_storeys() -> None:
    # The mapping simulator's 6-floor building: a 5.2 m lobby and a 6.9 m mechanical storey
    # came out as L0-L2, L4-L6 (3.5 m storeys rounded the mechanical storey to two).
    building, _, (trace, events, table) = _ride([5.2, 3.8, 6.9, 3.0, 3.8], [0, 1, 2, 3, 4, 5])
    assert table.indices == [0, 1, 2, 3, 4, 5]
    assert [table.label(i) for i in table.indices] == ['L0', 'L1', 'L2', 'L3', 'L4', 'L5']
    for i in table.indices:
        assert table.elevation(i) == pytest.approx(building.z(i), abs=0.5)
    assert [e.to_floor for e in events if e.source == 'ride'] == [1, 2, 3, 4, 5]
    assert trace.stats['renumbered'] == 0


def test_a_skipped_floor_visited_later_renumbers_the_table_and_the_offline_trace() -> None:
    # 0 -> 2 (6.4 m, taken for one storey) -> 1 -> 2: the floor found in between is L1.
    building, sc, (trace, events, table) = _ride([3.2, 3.2, 3.4], [0, 2, 1, 2, 3])
    assert table.indices == [0, 1, 2, 3]
    assert trace.stats['renumbered'] >= 1 and trace.stats['ambiguous_steps'] == 0
    for i in table.indices:
        assert table.elevation(i) == pytest.approx(building.z(i), abs=0.5)
    # Offline the whole trace and the rides are in the final numbering: the truth exactly.
    ends = [int(trace.floor[np.searchsorted(trace.t, r.t_stop + 20.0)]) for r in sc.rides]
    assert ends == [r.to_floor for r in sc.rides]
    assert [(e.from_floor, e.to_floor) for e in events if e.source == 'ride'] == [
        (r.from_floor, r.to_floor) for r in sc.rides
    ]


def test_the_mapping_simulators_six_floor_tour_numbers_every_floor_as_the_truth() -> None:
    # benchmarks/routes.py and map_quality.py --sim: this building has a 6.0 m mechanical
    # storey between L2 and L3; the tour visits L0..L5 in order, then revisits.
    from multifloor_slam.sim.building import make_building
    from multifloor_slam.sim.sensors import barometer
    from multifloor_slam.sim.simulator import SimConfig
    from multifloor_slam.sim.tour import plan_tour

    cfg = SimConfig(floors=6, seed=0, camera=False)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(cfg.seed).spawn(6)]
    building = make_building(cfg.building)
    traj = plan_tour(building, cfg.tour, rngs[0])
    noise = BarometerNoise(
        rate_hz=cfg.baro_rate_hz,
        white_pa=cfg.baro_white_pa,
        drift_pa_per_h=cfg.baro_drift_pa_per_h,
        door_steps_per_h=cfg.baro_door_steps_per_h,
    )
    t, p = barometer(traj, noise, rngs[3])
    _trace, _events, table = estimate_floors(t, p)
    storeys = np.diff([f.elevation for f in building.floors])
    assert storeys.max() > 5.8  # the case that was numbered as two storeys
    assert [table.label(i) for i in table.indices] == [f.label for f in building.floors]
    for f in building.floors:
        assert table.elevation(f.index) == pytest.approx(f.elevation, abs=0.5)
