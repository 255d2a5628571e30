"""Building files: Nav2 maps, building.yaml, Open-RMF export, picture, atomic writes, reload."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import os
import stat
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from mapping_tour import feed, make_tour

from multifloor_slam.errors import MapFileError
from multifloor_slam.io import building_files
from multifloor_slam.io.building_files import decode_pgm, load_building, save_building
from multifloor_slam.maps.building import Building
from multifloor_slam.maps.mapper import BuildingMapper
from multifloor_slam.maps.occupancy_layer import OccupancyLayer

TABLE = {'floors': [{'index': 0, 'pressure_pa': 101325.0}, {'index': 1, 'pressure_pa': 101277.0}]}


@pytest.fixture(scope='module')
def mapper() -> BuildingMapper:
    m = BuildingMapper()
    feed(m, make_tour(scan_rate_hz=4.0, speed_mps=2.0, seed=5))
    return m


def _save(mapper: BuildingMapper, out_dir: Path, floor_table: dict | None = None) -> Path:
    mapper.flush()
    building = mapper.building
    if floor_table is not None:
        building.floor_table = floor_table
    return save_building(building, out_dir)


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_save_writes_nav2_maps_building_yaml_rmf_export_and_picture(
    mapper: BuildingMapper, tmp_path: Path
) -> None:
    path = _save(mapper, tmp_path / 'b', floor_table=TABLE)
    out = path.parent
    assert path.name == 'building.yaml'
    for label in ('L0', 'L1', 'L2'):
        meta = yaml.safe_load((out / f'{label}.yaml').read_text())
        assert set(meta) == {
            'image',
            'mode',
            'resolution',
            'origin',
            'negate',
            'occupied_thresh',
            'free_thresh',
        }
        assert meta['mode'] == 'trinary' and meta['negate'] == 0
        # 0.196, not 0.25: unknown pixels (205, occ 0.196) must not load as free in Nav2.
        assert (meta['occupied_thresh'], meta['free_thresh']) == (0.65, 0.196)
        occ = 1.0 - np.array([0, 205, 254]) / 255.0  # map_server's trinary rule
        assert occ[0] > meta['occupied_thresh']
        assert meta['free_thresh'] <= occ[1] <= meta['occupied_thresh']
        assert occ[2] < meta['free_thresh']
        assert len(meta['origin']) == 3 and meta['origin'][2] == 0.0
        img = decode_pgm((out / meta['image']).read_bytes())
        assert set(np.unique(img).tolist()) == {0, 205, 254}
        layer = mapper.floors[int(label[1:])].layer
        tri = layer.trinary()
        np.testing.assert_array_equal(img == 0, (tri == 100)[::-1])  # row 0 = top
        np.testing.assert_array_equal(img == 254, (tri == 0)[::-1])
        assert meta['origin'][:2] == pytest.approx(layer.origin_xy)
        cv_img = cv2.imread(str(out / meta['image']), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(cv_img, img)  # a standard PGM other readers agree on
    data = yaml.safe_load(path.read_text())
    assert [f['label'] for f in data['floors']] == ['L0', 'L1', 'L2']
    assert [f['elevation_m'] for f in data['floors']] == pytest.approx([0.0, 4.0, 7.5], abs=0.1)
    assert sorted(tuple(link['floors']) for link in data['elevator_links']) == [(0, 1), (1, 2)]
    assert data['floor_table'] == TABLE
    rmf = yaml.safe_load((out / data['open_rmf']).read_text())
    assert rmf['coordinate_system'] == 'reference_image'
    assert set(rmf['levels']) == {'L0', 'L1', 'L2'}
    for label, level in rmf['levels'].items():
        assert (out / level['drawing']['filename']).is_file()
        assert level['measurements'][0][2]['distance'][0] == 3
        assert level['elevation'] == pytest.approx(
            mapper.floors[int(label[1:])].elevation_m, abs=1e-3
        )
    assert len(rmf['lifts']) == 2
    for lift in rmf['lifts'].values():
        assert {'x', 'y', 'yaw', 'width', 'depth', 'reference_floor_name', 'level_doors'} <= set(
            lift
        )
        assert len(lift['level_doors']) == 2
    picture = cv2.imread(str(out / data['picture']))
    assert picture is not None and picture.shape[1] > picture.shape[0]
    assert not [p for p in out.iterdir() if p.name.endswith('.tmp')]
    # The manifest lists every data file with its sha256; the Nav2 maps keep their stable names.
    assert data['format'] == 'multifloor_slam/building 2'
    for name, digest in data['files'].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
        assert name.split('.')[-2] == digest[:16]
    for f in data['floors']:
        assert f['map'] == f'{f["label"]}.yaml'
        assert {f['image'], f['layer']} <= set(data['files'])


def test_load_reproduces_the_same_layers_links_and_table(
    mapper: BuildingMapper, tmp_path: Path
) -> None:
    _save(mapper, tmp_path, floor_table=TABLE)
    back = load_building(tmp_path / 'building.yaml')
    assert isinstance(back, Building)
    assert sorted(back.floors) == sorted(mapper.floors)
    for index, fl in mapper.floors.items():
        got = back.floors[index]
        np.testing.assert_array_equal(got.layer.logodds, fl.layer.logodds)
        assert got.layer.cell_offset == fl.layer.cell_offset
        assert got.elevation_m == pytest.approx(fl.elevation_m, abs=1e-4)
    assert len(back.links) == len(mapper.links)
    for a, b in zip(back.links, mapper.links, strict=True):
        assert a.floors == b.floors and a.rides == b.rides
        for f in a.floors:
            assert a.positions[f] == pytest.approx(b.positions[f], abs=1e-4)
    assert back.floor_table == TABLE
    # Saving the reloaded building gives identical files (nothing is lost on the way).
    again = save_building(back, tmp_path / 'again')
    names = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert sorted(p.name for p in again.parent.iterdir()) == names
    for name in names:
        assert (again.parent / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_load_falls_back_to_the_nav2_map_without_the_lossless_layer(
    mapper: BuildingMapper, tmp_path: Path
) -> None:
    _save(mapper, tmp_path)
    data = yaml.safe_load((tmp_path / 'building.yaml').read_text())
    npz = data['floors'][2].pop('layer')  # a hand-edited building: the floor names only its map
    del data['files'][npz]
    (tmp_path / npz).unlink()
    (tmp_path / 'building.yaml').write_text(yaml.safe_dump(data))
    back = load_building(tmp_path)
    np.testing.assert_array_equal(back.floors[2].layer.trinary(), mapper.floors[2].layer.trinary())
    assert back.floors[2].layer.cell_offset == mapper.floors[2].layer.cell_offset


def test_a_missing_or_changed_data_file_is_named(mapper: BuildingMapper, tmp_path: Path) -> None:
    _save(mapper, tmp_path)
    data = yaml.safe_load((tmp_path / 'building.yaml').read_text())
    npz, pgm = data['floors'][1]['layer'], data['floors'][2]['image']
    (tmp_path / pgm).write_bytes((tmp_path / pgm).read_bytes()[:-1] + b'\x00')
    with pytest.raises(MapFileError, match=f'{pgm} does not match .*building.yaml'):
        load_building(tmp_path)
    (tmp_path / npz).unlink()
    with pytest.raises(MapFileError, match=f'{npz}: missing'):
        load_building(tmp_path)


def test_a_failed_save_raises_map_file_error_and_keeps_the_old_files(
    mapper: BuildingMapper, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _save(mapper, tmp_path)
    before = _snapshot(tmp_path)
    changed = mapper.building
    changed.floors = {i: dataclasses.replace(fl) for i, fl in changed.floors.items()}
    changed.floors[0].layer = OccupancyLayer(changed.layer_params)  # changed since the last save
    real_fsync = os.fsync
    for n in (1, 2, 3, 4):  # the disk fills up at the n-th file written (4: building.yaml)
        calls = {'n': 0}

        def disk_full(fd: int, n: int = n, calls: dict[str, int] = calls) -> None:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                calls['n'] += 1
                if calls['n'] == n:
                    raise OSError(errno.ENOSPC, 'No space left on device')
            real_fsync(fd)

        monkeypatch.setattr(building_files.os, 'fsync', disk_full)
        with pytest.raises(MapFileError, match='No space left'):
            save_building(changed, tmp_path)
        monkeypatch.undo()
        assert calls['n'] == n
        assert _snapshot(tmp_path) == before  # old files intact, no temporaries left over
        assert load_building(tmp_path).floors[0].layer.occupied_mask().any()


def test_an_unwritable_directory_raises_map_file_error(
    mapper: BuildingMapper, tmp_path: Path
) -> None:
    blocker = tmp_path / 'not_a_dir'
    blocker.write_text('x')
    with pytest.raises(MapFileError):
        _save(mapper, blocker / 'building')
    if os.geteuid() != 0:  # root ignores permissions
        ro = tmp_path / 'ro'
        ro.mkdir()
        ro.chmod(0o555)
        with pytest.raises(MapFileError):
            _save(mapper, ro)
        assert list(ro.iterdir()) == []


def test_corrupt_building_files_raise_map_file_error(tmp_path: Path) -> None:
    (tmp_path / 'building.yaml').write_text('floors: [ {index: 0, map: missing.yaml} ]\n')
    with pytest.raises(MapFileError):
        load_building(tmp_path / 'building.yaml')
    (tmp_path / 'building.yaml').write_text(': not yaml [')
    with pytest.raises(MapFileError):
        load_building(tmp_path / 'building.yaml')
    with pytest.raises(MapFileError):
        load_building(tmp_path / 'nope.yaml')


def test_files_get_the_normal_mode_of_new_files(mapper: BuildingMapper, tmp_path: Path) -> None:
    from multifloor_slam.io.atomic_file import write_atomic

    old = os.umask(0o002)
    try:
        _save(mapper, tmp_path / 'b')
        write_atomic(tmp_path / 'report.json', b'{}')
    finally:
        os.umask(old)
    files = [*(tmp_path / 'b').iterdir(), tmp_path / 'report.json']
    assert len(files) > 10
    for p in files:  # 0o666 & ~umask, as for any new file (mkstemp would give 0o600)
        assert stat.S_IMODE(p.stat().st_mode) == 0o664, p.name
