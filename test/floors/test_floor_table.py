from __future__ import annotations

from pathlib import Path

import pytest

from multifloor_slam.errors import ConfigError, MapFileError
from multifloor_slam.floors.floor_table import FloorTable, floor_label


def test_floor_labels_name_basements_and_upper_floors() -> None:
    assert [floor_label(i) for i in (-2, -1, 0, 1, 12)] == ['B2', 'B1', 'L0', 'L1', 'L12']


def test_table_round_trips_through_yaml_atomically(tmp_path: Path) -> None:
    table = FloorTable.from_seed('-1:-3.2:Garage, 0:0, 1:5.5:Lobby, 2:8.6')
    table.observe(2, 8.8)
    table.current_floor = 1
    path = tmp_path / 'sub' / 'floors.yaml'
    table.save(path)
    assert [p.name for p in path.parent.iterdir()] == ['floors.yaml']  # no temp file left
    loaded = FloorTable.load(path)
    assert loaded.to_dict() == table.to_dict()
    assert loaded.label(-1) == 'Garage' and loaded.label(1) == 'Lobby' and loaded.label(2) == 'L2'
    assert loaded.current_floor == 1 and loaded.reference_index == 0
    assert loaded[2].elevation_m == pytest.approx(8.7)  # median of seed and observation
    assert FloorTable.from_dict(loaded.to_dict()).to_dict() == loaded.to_dict()


def test_reference_floor_never_moves_and_others_take_the_running_median() -> None:
    table = FloorTable(max_observations=3)
    table.add(0, 0.0)
    table.add(1, 3.0)
    table.observe(0, 0.4)
    assert table.elevation(0) == 0.0
    for z in (3.2, 9.0):  # one wild value does not drag the floor away
        table.observe(1, z)
    assert table.elevation(1) == pytest.approx(3.2)
    table.observe(1, 3.3)  # only the last three are kept: 3.2, 9.0, 3.3
    assert table.elevation(1) == pytest.approx(3.3)
    assert table[1].observations == [3.2, 9.0, 3.3]


def test_new_floor_indices_stay_ordered_by_elevation() -> None:
    table = FloorTable()
    table.add(0, 0.0)
    assert table.index_for_new_floor(3.3, 3.5) == 1
    assert table.index_for_new_floor(7.0, 3.5) == 2  # two storeys' worth: skip one index
    assert table.index_for_new_floor(-2.9, 3.5) == -1
    table.add(2, 7.0)
    assert table.index_for_new_floor(3.4, 3.5) == 1  # the floor the express ride skipped
    table.add(1, 3.4)
    assert table.index_for_new_floor(5.2, 3.5) == 2  # none free: L2 and above move up
    assert table.index_fits(3, 9.8) and not table.index_fits(3, 5.0)


def test_bad_seed_and_bad_files_raise_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match='index:elevation'):
        FloorTable.from_seed('0:0, 1')
    with pytest.raises(ConfigError, match='grow with elevation'):
        FloorTable.from_seed('0:0, 1:-3')
    with pytest.raises(ConfigError, match='twice'):
        FloorTable.from_seed('0:0, 0:3')
    with pytest.raises(MapFileError, match='cannot read'):
        FloorTable.load(tmp_path / 'missing.yaml')
    bad = tmp_path / 'bad.yaml'
    bad.write_text('floors: [{index: 0}]\n')
    with pytest.raises(MapFileError, match='malformed'):
        FloorTable.load(bad)
    bad.write_text('floors: [\n')
    with pytest.raises(MapFileError, match='not valid YAML'):
        FloorTable.load(bad)
