"""``multifloor-slam render``: where the picture goes, and one-line errors for bad buildings."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from multifloor_slam.cli.main import main
from multifloor_slam.io.building_files import save_building
from multifloor_slam.maps.building import Building, ElevatorLink, FloorLayer
from multifloor_slam.maps.occupancy_layer import LayerParams, OccupancyLayer


def _building(n_floors: int = 2) -> Building:
    rng = np.random.default_rng(0)
    floors = {}
    for i in range(n_floors):
        layer = OccupancyLayer(LayerParams())
        layer.load_grid(rng.choice(np.array([-2.0, 0.0, 3.5], np.float32), (30, 40)), (0, 0))
        floors[i] = FloorLayer(i, layer, 4.0 * i, True)
    link = ElevatorLink(0)
    for i in range(n_floors):
        link.observe(i, (0.5, 0.5))
    return Building(floors, [link], name='office')


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    folder = tmp_path / 'office'
    save_building(_building(), folder)
    return folder


def _render(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    rc = main(['render', *map(str, argv)])
    out = capsys.readouterr()
    return rc, out.out, out.err


def _one_line_error(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> str:
    rc, _, err = _render(capsys, *argv)
    assert rc == 2, (rc, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('multifloor-slam render: error: '), err
    return lines[0]


def _edit(folder: Path, change: dict) -> None:
    data = yaml.safe_load((folder / 'building.yaml').read_text())
    data.update(change)
    (folder / 'building.yaml').write_text(yaml.safe_dump(data, sort_keys=False))


def test_render_a_folder_writes_the_picture_into_it(
    capsys: pytest.CaptureFixture[str], saved: Path
) -> None:
    old = os.umask(0o002)
    try:
        rc, out, err = _render(capsys, saved)
    finally:
        os.umask(old)
    assert rc == 0, err
    assert Path(out.strip()) == saved / 'building.png'
    assert not (saved.parent / 'building.png').exists()
    img = cv2.imread(str(saved / 'building.png'))
    assert img is not None and img.shape[1] > img.shape[0]
    assert stat.S_IMODE((saved / 'building.png').stat().st_mode) == 0o664  # not mkstemp's 0600
    # The building.yaml itself, and --out as a folder, give the same place.
    (saved / 'building.png').unlink()
    assert _render(capsys, saved / 'building.yaml')[0] == 0
    assert (saved / 'building.png').is_file()
    other = saved.parent / 'pictures'
    other.mkdir()
    assert _render(capsys, saved, '--out', other)[0] == 0
    assert (other / 'building.png').is_file()


def test_two_floors_with_one_index_are_refused(
    capsys: pytest.CaptureFixture[str], saved: Path
) -> None:
    data = yaml.safe_load((saved / 'building.yaml').read_text())
    data['floors'][1]['index'] = 0
    _edit(saved, {'floors': data['floors']})
    line = _one_line_error(capsys, saved)
    assert 'L0 and L1 both have index 0' in line and str(saved / 'building.yaml') in line
    assert not (saved / 'building.png').exists()


def test_a_missing_file_is_named(capsys: pytest.CaptureFixture[str], saved: Path) -> None:
    floor = yaml.safe_load((saved / 'building.yaml').read_text())['floors'][1]
    (saved / floor['layer']).unlink()
    assert f'{saved / floor["layer"]}: missing' in _one_line_error(capsys, saved)
    # Without a manifest (format 1) the Nav2 map stands in for the layer; its image is named.
    _edit(saved, {'files': None, 'format': 'multifloor_slam/building 1'})
    (saved / floor['image']).unlink()
    line = _one_line_error(capsys, saved)
    assert f'{saved / floor["image"]}: missing (the image of {saved / "L1.yaml"})' in line
    assert f'{saved / "nope.yaml"}: missing' in _one_line_error(capsys, saved / 'nope.yaml')


def test_a_floor_pointing_at_a_file_that_is_not_a_map(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = tmp_path / 'notes.txt'
    text.write_text('root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/bin/false\n')
    floors = [{'label': 'L0', 'index': 0, 'map': str(text)}]
    (tmp_path / 'building.yaml').write_text(yaml.safe_dump({'floors': floors}))
    assert f'{text} is not a Nav2 map YAML' in _one_line_error(capsys, tmp_path)
    if Path('/etc/passwd').is_file():
        floors[0]['map'] = '/etc/passwd'
        (tmp_path / 'building.yaml').write_text(yaml.safe_dump({'floors': floors}))
        assert '/etc/passwd is not a Nav2 map YAML' in _one_line_error(capsys, tmp_path)
    floors[0]['layer'] = str(text)  # not an NPZ either
    (tmp_path / 'building.yaml').write_text(yaml.safe_dump({'floors': floors}))
    assert f'{text} is not a readable floor layer' in _one_line_error(capsys, tmp_path)


def test_a_binary_building_yaml(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / 'building.yaml').write_bytes(bytes(range(256)) * 8)
    line = _one_line_error(capsys, tmp_path / 'building.yaml')
    assert f'{tmp_path / "building.yaml"} is not a building file' in line
    (tmp_path / 'building.yaml').write_text('floors: [ {index: 0\n  map: [\n')
    assert 'invalid YAML' in _one_line_error(capsys, tmp_path)


def test_a_truncated_layer(capsys: pytest.CaptureFixture[str], saved: Path) -> None:
    layer = saved / yaml.safe_load((saved / 'building.yaml').read_text())['floors'][0]['layer']
    layer.write_bytes(layer.read_bytes()[: layer.stat().st_size // 2])
    assert f'{layer} does not match' in _one_line_error(capsys, saved)  # the manifest sees it
    _edit(saved, {'files': None, 'format': 'multifloor_slam/building 1'})  # no manifest
    assert f'{layer} is not a readable floor layer' in _one_line_error(capsys, saved)
