"""Staging poses in building.yaml: saved, read back, computed for old files, manual ones kept."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from mapping_tour import feed, make_tour

from multifloor_slam.errors import ConfigError, MapFileError
from multifloor_slam.io.building_files import load_building, save_building
from multifloor_slam.maps.building import Building
from multifloor_slam.maps.mapper import BuildingMapper
from multifloor_slam.pipeline.map_stage import MapStage, MapStageParams


@pytest.fixture(scope='module')
def mapper() -> BuildingMapper:
    m = BuildingMapper()
    feed(m, make_tour(scan_rate_hz=4.0, speed_mps=2.0, seed=5))
    m.flush()
    return m


@pytest.fixture(scope='module')
def building(mapper: BuildingMapper) -> Building:
    return mapper.building


def _stops(path: Path) -> list[dict]:
    data = yaml.safe_load(path.read_text())
    return [stop for link in data['elevator_links'] for stop in link['stops']]


def _edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text())
    for link in data['elevator_links']:
        for stop in link['stops']:
            change(stop)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_every_stop_is_saved_with_its_staging_pose_and_read_back(
    building: Building, tmp_path: Path
) -> None:
    path = save_building(building, tmp_path)
    assert all(link.staging == {} for link in building.links)  # the mapper's links untouched
    stops = _stops(path)
    assert len(stops) == 4
    for stop in stops:
        assert set(stop['staging']) == {'x', 'y', 'yaw', 'method'}
        assert stop['staging']['method'] == 'door'
    back = load_building(path)
    for link in back.links:
        for f in link.floors:
            stop = next(
                s for s in stops if s['floor'] == f and abs(s['x'] - link.positions[f][0]) < 1e-3
            )
            st = stop['staging']
            assert link.staging[f] == pytest.approx((st['x'], st['y'], st['yaw']))
            assert link.staging_method[f] == 'door'


def test_a_building_saved_without_staging_gets_it_on_load(
    building: Building, tmp_path: Path
) -> None:
    path = save_building(building, tmp_path)
    saved = {(s['floor'], round(s['x'], 3)): s['staging'] for s in _stops(path)}
    _edit(path, lambda stop: stop.pop('staging'))
    assert all('staging' not in s for s in _stops(path))
    back = load_building(path)
    for link in back.links:
        for f in link.floors:
            st = saved[(f, round(link.positions[f][0], 3))]
            assert link.staging[f] == pytest.approx((st['x'], st['y'], st['yaw']), abs=1e-3)
            assert link.staging_method[f] == 'door'


def test_a_pose_set_by_hand_survives_load_and_save(building: Building, tmp_path: Path) -> None:
    path = save_building(building, tmp_path)

    def by_hand(stop: dict) -> None:
        if stop['floor'] == 0:
            stop['staging'] = {'x': 1.5, 'y': 7.0, 'yaw': 0.25}  # no method: set by hand

    _edit(path, by_hand)
    back = load_building(path)
    link = next(link for link in back.links if 0 in link.staging)
    assert link.staging[0] == (1.5, 7.0, 0.25) and link.staging_method[0] == 'manual'
    again = load_building(save_building(back, tmp_path / 'again'))
    link = next(link for link in again.links if 0 in link.staging)
    assert link.staging[0] == (1.5, 7.0, 0.25) and link.staging_method[0] == 'manual'
    assert link.staging_method[1] == 'door'


def test_a_malformed_staging_pose_is_named(building: Building, tmp_path: Path) -> None:
    path = save_building(building, tmp_path)
    _edit(path, lambda stop: stop.update(staging={'x': 1.0}))
    with pytest.raises(MapFileError, match='elevator link 0 is malformed'):
        load_building(path)


def test_the_map_stage_saves_with_its_staging_parameters(
    mapper: BuildingMapper, tmp_path: Path
) -> None:
    """floor_map_manager's staging_distance_m / staging_robot_radius_m (MapStageParams), and
    ``process --staging-distance / --robot-radius``, reach the saved poses."""
    near = _stops(MapStage(mapper, MapStageParams(staging_distance_m=0.8)).save(tmp_path / 'a'))
    far = _stops(MapStage(mapper, MapStageParams(staging_distance_m=1.6)).save(tmp_path / 'b'))
    for a, b in zip(near, far, strict=True):
        da = math.hypot(a['staging']['x'] - a['x'], a['staging']['y'] - a['y'])
        db = math.hypot(b['staging']['x'] - b['x'], b['staging']['y'] - b['y'])
        assert db - da == pytest.approx(0.8, abs=0.15)
    with pytest.raises(ConfigError, match='distance_m'):
        MapStageParams(staging_distance_m=0.0)
    with pytest.raises(ConfigError, match='robot_radius_m'):
        MapStageParams(staging_robot_radius_m=-0.1)
