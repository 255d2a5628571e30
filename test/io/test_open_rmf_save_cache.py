"""Cheap saves: staging poses and nav graphs reused while a floor's map is unchanged, and the
Open-RMF export's fast writer reading back to the same structure."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import yaml
from route_building import make_building

from multifloor_slam.io.building_files import save_building
from multifloor_slam.io.building_render import Canvas
from multifloor_slam.io.open_rmf import dump_open_rmf, open_rmf_building
from multifloor_slam.maps.building import Building
from multifloor_slam.navigation.derived_cache import DERIVED, DerivedCache, grid_digest
from multifloor_slam.navigation.staging import StagingParams, with_staging

RES = 0.1


def _building() -> Building:
    """Two corridor floors (a box on floor 1 tells them apart), cars at x 4 and 16 on both;
    staging found from the maps."""
    shafts = {0: (4.0, (0, 1)), 1: (16.0, (0, 1))}
    return make_building(shafts, floors=2, blocks={1: [(20.0, 1.0, 20.5, 1.5)]}, staging=False)


def _block(building: Building, floor: int, x0: float, x1: float) -> None:
    """Wall off the corridor between x0 and x1 on one floor (the map changed there)."""
    layer = building.floors[floor].layer
    g = layer.logodds.copy()
    g[round(0.5 / RES) : round(4.5 / RES), round(x0 / RES) : round(x1 / RES)] = 3.5
    layer.load_grid(g, layer.cell_offset)


def _export(building: Building, cache: DerivedCache | None) -> dict:
    view = dataclasses.replace(building, links=with_staging(building, cache=cache))
    return open_rmf_building(view, Canvas(view), cache=cache)


def test_unchanged_floors_reuse_their_staging_and_graph_and_a_changed_floor_is_redone() -> None:
    building = _building()
    cache = DerivedCache()
    first = _export(building, cache)
    stops = sum(len(link.floors) for link in building.links)
    assert cache.misses == stops + len(building.floors)  # a pose per stop, a graph per level
    assert first == _export(building, None)  # the cache changes nothing
    before = cache.misses
    assert _export(building, cache) == first
    assert cache.misses == before  # nothing changed: nothing recomputed
    # A wall across floor 1's corridor beside the car at x 4: that floor's poses and graph
    # are recomputed (and differ), floor 0's come from the cache.
    digest0, digest1 = grid_digest(building.floors[0]), grid_digest(building.floors[1])
    _block(building, 1, 5.5, 6.0)
    assert grid_digest(building.floors[0]) == digest0
    assert grid_digest(building.floors[1]) != digest1
    hits = cache.hits
    again = _export(building, cache)
    assert cache.misses == before + 2 + 1  # floor 1: two stops and its graph
    assert cache.hits == hits + 2 + 1  # floor 0: the same
    assert again == _export(building, None)
    assert again['levels']['L0'] == first['levels']['L0']
    assert again['levels']['L1']['lanes'] != first['levels']['L1']['lanes']


def test_staging_params_and_car_moves_are_part_of_the_key() -> None:
    building = _building()
    cache = DerivedCache()
    near = with_staging(building, StagingParams(distance_m=0.6), cache=cache)
    far = with_staging(building, StagingParams(distance_m=1.2), cache=cache)
    assert near[0].staging[0][1] > far[0].staging[0][1]  # further from the car (south)
    link = building.links[0]
    link.positions[0] = (link.positions[0][0] + 0.3, link.positions[0][1])
    moved = with_staging(building, StagingParams(distance_m=1.2), cache=cache)
    assert moved[0].staging[0][0] != far[0].staging[0][0]


def test_fast_writer_reads_back_to_the_export() -> None:
    building = _building()
    export = _export(building, None)
    export['levels']['L1']['lanes'] = []  # an empty list is written as such
    text = dump_open_rmf(export)
    assert yaml.safe_load(text) == export
    assert yaml.safe_load(yaml.safe_dump(export)) == yaml.safe_load(text)
    lanes = export['levels']['L0']['lanes']
    assert len(lanes) > 10 and text.count(b'\n') < 200 + len(lanes) * 2  # a row per line


def test_a_second_save_of_the_same_building_writes_the_same_files(tmp_path: Path) -> None:
    building = _building()
    DERIVED.clear()
    path = save_building(building, tmp_path)
    rmf = (tmp_path / 'corridors.building.yaml').read_bytes()
    yaml_text = path.read_bytes()
    misses = DERIVED.misses
    save_building(building, tmp_path)
    assert DERIVED.misses == misses and DERIVED.hits >= misses
    assert (tmp_path / 'corridors.building.yaml').read_bytes() == rmf
    assert path.read_bytes() == yaml_text
    staged = yaml.safe_load(yaml_text)['elevator_links'][0]['stops'][0]['staging']
    assert math.isfinite(staged['x']) and staged['method'] == 'door'
    assert np.isfinite(yaml.safe_load(rmf)['levels']['L0']['vertices'][2][0])
