"""A building folder is replaced as one generation.

A crash at any instant leaves the old or the new building, never a mix; stale files of a larger
building and a killed save's temporaries go away; one floor that cannot be encoded does not stop
the others.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from multifloor_slam.errors import MapFileError
from multifloor_slam.io import building_files
from multifloor_slam.io.building_files import (
    PartialSaveError,
    decode_pgm,
    encode_pgm,
    load_building,
    nav2_map_yaml,
    save_building,
    trinary_image,
)
from multifloor_slam.maps.building import Building, ElevatorLink, FloorLayer
from multifloor_slam.maps.occupancy_layer import LayerParams, OccupancyLayer

FORMAT_1 = 'multifloor_slam/building 1'


def _building(seed: int, n_floors: int, name: str = 'building') -> Building:
    """A small synthetic building: random free / unknown / occupied cells on every floor."""
    rng = np.random.default_rng(seed)
    params = LayerParams()
    floors = {}
    for i in range(n_floors):
        layer = OccupancyLayer(params)
        shape = (30 + 5 * i + seed, 40 + 3 * i)
        grid = rng.choice(np.array([-2.0, 0.0, 3.5], np.float32), size=shape)
        layer.load_grid(grid, (int(rng.integers(-9, 9)), int(rng.integers(-9, 9))))
        floors[i] = FloorLayer(i, layer, 4.0 * i + seed / 10.0, True)
    link = ElevatorLink(seed, rides=n_floors)
    for i in range(n_floors):
        link.observe(i, (1.0 + seed, 2.0 - i / 10.0))
    table = {'floors': [{'index': i, 'pressure_pa': 101325.0 - 48.0 * i} for i in range(n_floors)]}
    return Building(floors, [link], floor_table=table, name=name, layer_params=params)


def _fingerprint(b: Building) -> tuple[Any, ...]:
    floors = sorted(
        (i, fl.layer.cell_offset, fl.layer.logodds.tobytes(), round(fl.elevation_m, 4))
        for i, fl in b.floors.items()
    )
    links = [(link.id, sorted(link.positions.items()), link.rides) for link in b.links]
    return floors, links, b.floor_table, b.name


def _save_format_1(b: Building, folder: Path) -> None:
    """The layout the previous version wrote: fixed names, no manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    floors = []
    for index, fl in sorted(b.floors.items()):
        (folder / f'{fl.label}.pgm').write_bytes(encode_pgm(trinary_image(fl.layer)))
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            logodds=fl.layer.logodds,
            cell_offset=np.asarray(fl.layer.cell_offset, np.int64),
            resolution=np.float64(fl.layer.resolution),
        )
        (folder / f'{fl.label}.npz').write_bytes(buf.getvalue())
        meta = nav2_map_yaml(f'{fl.label}.pgm', fl.layer)
        (folder / f'{fl.label}.yaml').write_text(yaml.safe_dump(meta, sort_keys=False))
        (folder / f'{b.name}_{fl.label}.png').write_bytes(b'png')
        floors.append(
            {
                'label': fl.label,
                'index': index,
                'elevation_m': round(fl.elevation_m, 4),
                'elevation_measured': True,
                'map': f'{fl.label}.yaml',
                'layer': f'{fl.label}.npz',
            }
        )
    rmf = {'levels': {fl.label: {'drawing': {'filename': f'{b.name}_{fl.label}.png'}}
                      for fl in b.floors.values()}}  # fmt: skip
    (folder / f'{b.name}.building.yaml').write_text(yaml.safe_dump(rmf))
    (folder / f'{b.name}.png').write_bytes(b'png')
    links = [
        {
            'id': link.id,
            'rides': link.rides,
            'stops': [
                {'floor': f, 'x': x, 'y': y} for f, (x, y) in sorted(link.positions.items())
            ],
        }
        for link in b.links
    ]
    data = {
        'format': FORMAT_1,
        'name': b.name,
        'resolution': b.resolution,
        'floors': floors,
        'elevator_links': links,
        'open_rmf': f'{b.name}.building.yaml',
        'picture': f'{b.name}.png',
        'floor_table': b.floor_table,
    }
    (folder / 'building.yaml').write_text(yaml.safe_dump(data, sort_keys=False))


def _check_nav2_maps(folder: Path) -> None:
    """Every Nav2 map YAML in the folder names an image that exists and decodes."""
    for path in folder.glob('*.yaml'):
        meta = yaml.safe_load(path.read_text())
        if isinstance(meta, dict) and 'image' in meta:
            img = decode_pgm((folder / meta['image']).read_bytes())
            assert img.size > 0, path.name


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


class _Killed(BaseException):
    """The process 'dies': not an Exception, so no handler of the code under test catches it."""


@contextlib.contextmanager
def _dies_after(k: int) -> Iterator[dict[str, int]]:
    """Every file-system change after the k-th raises _Killed, and so does every later one."""
    count = {'n': 0}
    real = {name: getattr(os, name) for name in ('open', 'replace', 'rename', 'unlink', 'remove')}

    def guard(name: str) -> Any:
        fn = real[name]

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if name == 'open':
                flags = args[1] if len(args) > 1 else kwargs.get('flags', 0)
                if not flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                    return fn(*args, **kwargs)  # reading changes nothing
            count['n'] += 1
            if count['n'] > k:
                raise _Killed
            return fn(*args, **kwargs)

        return wrapped

    with pytest.MonkeyPatch.context() as mp:
        for name in real:
            mp.setattr(os, name, guard(name))
        yield count


@pytest.mark.parametrize('previous_format', [1, 2])
def test_a_crash_at_any_step_leaves_the_old_or_the_new_building(
    tmp_path: Path, previous_format: int
) -> None:
    old, new = _building(1, 3), _building(2, 2)  # the new building has one floor less
    fp_old, fp_new = _fingerprint(old), _fingerprint(new)
    reference = tmp_path / 'reference'
    save_building(new, reference)
    expected = _files(reference)
    assert not any(name.startswith('L2') for name in expected)
    start = tmp_path / 'start'
    if previous_format == 1:
        _save_format_1(old, start)
    else:
        save_building(old, start)
    (start / '.L0.pgm.abcd1234.tmp').write_bytes(b'left by an earlier killed save')
    (start / 'notes.txt').write_text("the user's own file")
    assert _fingerprint(load_building(start)) == fp_old
    seen = {'old': 0, 'new': 0}
    k = 0
    while True:
        folder = tmp_path / f'k{k}'
        folder.mkdir()
        for name, data in _files(start).items():
            (folder / name).write_bytes(data)
        finished = False
        with _dies_after(k) as count:
            try:
                save_building(new, folder)
                finished = True
            except _Killed:
                pass
        got = _fingerprint(load_building(folder))
        assert got in (fp_old, fp_new), f'killed after {k} changes: a mix of two buildings'
        seen['new' if got == fp_new else 'old'] += 1
        _check_nav2_maps(folder)
        assert (folder / 'notes.txt').is_file()
        # The next save cleans up whatever the killed one left.
        save_building(new, folder)
        left = _files(folder)
        assert left.pop('notes.txt') == b"the user's own file"
        assert left == expected, f'killed after {k} changes'
        if finished:
            assert count['n'] == k
            break
        k += 1
    assert k > 10 and seen['old'] > 3 and seen['new'] > 3, (k, seen)


def test_saving_a_smaller_building_removes_the_larger_ones_files(tmp_path: Path) -> None:
    save_building(_building(1, 3, name='office'), tmp_path)
    save_building(_building(2, 2), tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert not [n for n in names if n.startswith(('L2', 'office'))], names
    assert (
        len(names) == 1 + 2 * 3 + 2 + 2
    )  # building.yaml; per floor yaml, pgm, npz; drawings; rmf, png
    _check_nav2_maps(tmp_path)
    # The same from a folder written by the previous version (fixed names).
    other = tmp_path / 'v1'
    _save_format_1(_building(1, 3, name='office'), other)
    save_building(_building(2, 2), other)
    assert sorted(p.name for p in other.iterdir()) == names


def test_format_1_buildings_still_load(tmp_path: Path) -> None:
    b = _building(3, 3)
    _save_format_1(b, tmp_path)
    assert _fingerprint(load_building(tmp_path)) == _fingerprint(b)


def test_an_unchanged_floor_is_not_rewritten(tmp_path: Path) -> None:
    b = _building(1, 3)
    save_building(b, tmp_path)
    data = yaml.safe_load((tmp_path / 'building.yaml').read_text())
    before = {name: (tmp_path / name).stat().st_ino for name in data['files']}
    b.floors[2].layer.logodds[0, 0] = -1.0
    save_building(b, tmp_path)
    again = yaml.safe_load((tmp_path / 'building.yaml').read_text())
    assert again['floors'][0] == data['floors'][0] and again['floors'][2] != data['floors'][2]
    kept = [n for n in again['files'] if n in before]
    assert kept and all((tmp_path / n).stat().st_ino == before[n] for n in kept)


def _fail_for_shape(monkeypatch: pytest.MonkeyPatch, shape: tuple[int, int]) -> None:
    """The first image of this shape cannot be encoded (a layer grown too large, say)."""
    real = building_files.encode_pgm
    calls = {'n': 0}

    def encode(img: np.ndarray) -> bytes:
        if img.shape == shape:
            calls['n'] += 1
        if calls['n'] == 1 and img.shape == shape:
            raise MemoryError('simulated: the layer is too large to encode')
        return real(img)

    monkeypatch.setattr(building_files, 'encode_pgm', encode)


def test_one_floor_that_cannot_be_encoded_does_not_stop_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = _building(4, 3)
    bad = b.floors[1].layer.shape
    _fail_for_shape(monkeypatch, bad)
    with pytest.raises(PartialSaveError, match=r'floor L1 \(MemoryError.*not saved\)') as info:
        save_building(b, tmp_path / 'first')
    assert info.value.failed == [
        'floor L1 (MemoryError: simulated: the layer is too large to encode; not saved)'
    ]
    back = load_building(tmp_path / 'first')
    assert sorted(back.floors) == [0, 2]
    for i in (0, 2):
        np.testing.assert_array_equal(back.floors[i].layer.logodds, b.floors[i].layer.logodds)
    assert not (tmp_path / 'first' / 'L1.yaml').exists()
    monkeypatch.undo()

    # With an earlier save in the folder, the floor keeps its previous map; the others move on.
    save_building(b, tmp_path / 'second')
    previous = b.floors[1].layer.logodds.copy()
    for fl in b.floors.values():
        fl.layer.logodds[:2, :2] = 3.5
    _fail_for_shape(monkeypatch, bad)
    with pytest.raises(PartialSaveError, match=r'floor L1 .*its previous save was kept'):
        save_building(b, tmp_path / 'second')
    monkeypatch.undo()
    back = load_building(tmp_path / 'second')
    np.testing.assert_array_equal(back.floors[1].layer.logodds, previous)
    for i in (0, 2):
        np.testing.assert_array_equal(back.floors[i].layer.logodds, b.floors[i].layer.logodds)
    _check_nav2_maps(tmp_path / 'second')


def test_a_failed_picture_does_not_stop_the_maps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = _building(5, 2)

    def broken(*args: Any, **kwargs: Any) -> np.ndarray:
        raise MapFileError('PNG encoding failed')

    monkeypatch.setattr(building_files, 'render_building', broken)
    with pytest.raises(PartialSaveError, match='the picture'):
        save_building(b, tmp_path)
    assert _fingerprint(load_building(tmp_path)) == _fingerprint(b)
    assert 'picture' not in yaml.safe_load((tmp_path / 'building.yaml').read_text())


_CHILD = textwrap.dedent(
    """
    import sys
    from multifloor_slam.io.building_files import load_building, save_building
    a, b = load_building(sys.argv[1]), load_building(sys.argv[2])
    print('ready', flush=True)
    while True:
        for x in (a, b):
            save_building(x, sys.argv[3])
    """
)


@pytest.mark.slow
def test_a_killed_process_leaves_the_old_or_the_new_building(tmp_path: Path) -> None:
    a, b = _building(6, 3), _building(7, 2)
    save_building(a, tmp_path / 'a')
    save_building(b, tmp_path / 'b')
    allowed = [_fingerprint(a), _fingerprint(b)]
    target = tmp_path / 'target'
    save_building(a, target)
    rng = random.Random(13)
    seen = []  # which building each kill left (the interleaving depends on the machine's load)
    for _ in range(6):
        child = subprocess.Popen(
            [sys.executable, '-c', _CHILD, str(tmp_path / 'a'), str(tmp_path / 'b'), str(target)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == 'ready'
            time.sleep(rng.uniform(0.05, 0.6))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        seen.append(allowed.index(_fingerprint(load_building(target))))
        _check_nav2_maps(target)
    save_building(b, target)
    assert sorted(p.name for p in target.iterdir()) == sorted(
        p.name for p in (tmp_path / 'b').iterdir()
    )
