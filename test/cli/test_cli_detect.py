from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import cv2
import pytest

os.environ.setdefault('YOLO_CONFIG_DIR', tempfile.mkdtemp(prefix='yolo_cfg_'))

from cli_helpers import cli

from multifloor_slam.cli.main import main
from multifloor_slam.elevators.classes import CLASS_NAMES
from multifloor_slam.errors import EXIT_PARTIAL
from multifloor_slam.sim.elevator_scenes import SceneParams, render_scene


def test_detect_prints_one_json_line_per_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    params = SceneParams(p_inside=0.0, p_negative=0.0)
    for i in range(6):
        cv2.imwrite(str(tmp_path / f'scene_{i}.png'), render_scene(777, i, params).image)
    assert main(['detect', str(tmp_path), '--conf', '0.25']) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [Path(x['file']).name for x in lines] == [f'scene_{i}.png' for i in range(6)]
    found = [d for x in lines for d in x['detections']]
    assert found, lines
    for d in found:
        assert d['class'] in CLASS_NAMES
        assert 0.25 <= d['confidence'] <= 1.0
        x1, y1, x2, y2 = d['box']
        assert 0 <= x1 < x2 <= 321 and 0 <= y1 < y2 <= 321


def test_unreadable_images_give_an_error_line_and_nonzero_exit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / 'good.jpg'
    cv2.imwrite(str(good), render_scene(778, 0).image)
    bad = tmp_path / 'bad.jpg'
    bad.write_bytes(b'not an image')
    missing = tmp_path / 'missing.png'
    assert main(['detect', str(good), str(bad), str(missing)]) == EXIT_PARTIAL
    out = capsys.readouterr()
    lines = [json.loads(x) for x in out.out.splitlines()]
    assert len(lines) == 3
    assert 'detections' in lines[0]
    assert lines[1]['error'] == 'cannot read image' and lines[2]['error'] == 'no such file'
    assert 'partial input: 2 of 3 images could not be read' in out.err


def test_missing_model_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cv2.imwrite(str(tmp_path / 'a.png'), render_scene(779, 0).image)
    assert main(['detect', str(tmp_path), '--model', str(tmp_path / 'none.pt')]) == 2
    assert 'not found' in capsys.readouterr().err


def test_a_folder_without_images_says_so_before_loading_the_model(tmp_path: Path) -> None:
    empty = tmp_path / 'empty'
    empty.mkdir()
    line = cli('detect', empty).one_line_error('detect')
    assert f'{empty} holds no image (it is empty' in line
    (empty / 'notes.txt').write_text('not an image')
    res = cli('detect', empty, tmp_path / 'missing.png', '--model', tmp_path / 'no_model.pt')
    line = res.one_line_error('detect')  # not the missing model: the inputs are checked first
    assert 'nothing to detect in' in line and '1 other files' in line
    assert f'{tmp_path / "missing.png"} does not exist' in line
    assert 'notes.txt' in res.err


def test_files_that_are_not_images_are_named_and_skipped(tmp_path: Path) -> None:
    photos = tmp_path / 'photos'
    (photos / 'sub').mkdir(parents=True)
    cv2.imwrite(str(photos / 'sub' / 'door.jpg'), render_scene(780, 0).image)
    (photos / 'README.md').write_text('my photos')
    (photos / 'labels.yaml').write_text('x: 1')
    (photos / 'broken.png').write_bytes(b'\x89PNG but nothing more')
    res = cli('detect', photos, '--conf', '0.25')
    assert res.rc == EXIT_PARTIAL, res.err
    assert 'Traceback' not in res.err
    lines = [json.loads(x) for x in res.out.splitlines()]
    assert [Path(x['file']).name for x in lines] == ['broken.png', 'door.jpg']
    assert lines[0]['error'] == 'cannot read image' and 'detections' in lines[1]
    skipped = [x for x in res.err.splitlines() if 'not images' in x]
    assert len(skipped) == 1 and 'README.md' in skipped[0] and 'labels.yaml' in skipped[0]
    # Without the broken image all is well: exit 0, the other files still named.
    (photos / 'broken.png').unlink()
    res = cli('detect', photos, '--conf', '0.25')
    assert res.rc == 0, res.err
    assert len(res.out.splitlines()) == 1 and 'README.md' in res.err
