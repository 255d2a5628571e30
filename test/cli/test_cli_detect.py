from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import cv2
import pytest

os.environ.setdefault('YOLO_CONFIG_DIR', tempfile.mkdtemp(prefix='yolo_cfg_'))

from multifloor_slam.cli.main import main
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
        assert d['class'].startswith('elevator_')
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
    assert main(['detect', str(good), str(bad), str(missing)]) == 1
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(lines) == 3
    assert 'detections' in lines[0]
    assert lines[1]['error'] and lines[2]['error']


def test_missing_model_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(['detect', str(tmp_path), '--model', str(tmp_path / 'none.pt')]) == 1
    assert 'not found' in capsys.readouterr().err
