from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest

os.environ.setdefault('YOLO_CONFIG_DIR', tempfile.mkdtemp(prefix='yolo_cfg_'))

from cli_helpers import cli

from multifloor_slam.cli.main import main
from multifloor_slam.elevators.backends import CACHE_ENV
from multifloor_slam.elevators.image_files import read_image
from multifloor_slam.errors import EXIT_PARTIAL
from multifloor_slam.sim.elevator_scenes import SceneParams, render_scene

SEED = 781


def _scene_with_detections() -> np.ndarray:
    from multifloor_slam.elevators.detector import DetectorParams, ElevatorDetector

    det = ElevatorDetector(DetectorParams(device='cpu', backend='pytorch'))
    params = SceneParams(height=240, p_inside=0.0, p_negative=0.0)
    scenes = (render_scene(SEED, i, params).image for i in range(30))
    return next(im for im in scenes if det.detect(im))


def test_backend_option_exports_quietly_and_matches_pytorch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos = tmp_path / 'photos'
    photos.mkdir()
    for i in range(3):
        cv2.imwrite(str(photos / f'scene_{i}.png'), render_scene(SEED, i).image)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / 'fresh_cache'))  # the export runs in the call
    runs = {b: cli('detect', photos, '--backend', b) for b in ('pytorch', 'onnx')}
    for res in runs.values():
        assert res.rc == 0, res.err
        assert 'Traceback' not in res.err
    # stdout is JSON lines only, even while the model is exported
    lines = {b: [json.loads(x) for x in r.out.splitlines()] for b, r in runs.items()}
    assert [x['file'] for x in lines['onnx']] == [x['file'] for x in lines['pytorch']]
    for a, b in zip(lines['onnx'], lines['pytorch'], strict=True):
        assert [d['class'] for d in a['detections']] == [d['class'] for d in b['detections']]
        for da, db in zip(a['detections'], b['detections'], strict=True):
            assert np.allclose(da['box'], db['box'], atol=0.5)
    assert any((tmp_path / 'fresh_cache' / 'exports').iterdir())


def test_unknown_backend_is_refused(tmp_path: Path) -> None:
    res = cli('detect', tmp_path, '--backend', 'tensorrt')
    assert res.rc == 2 and 'tensorrt' in res.err


def test_huge_jpeg_is_decoded_reduced_and_boxes_are_in_file_pixels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = _scene_with_detections()  # 320x240
    small = tmp_path / 'small.png'
    cv2.imwrite(str(small), image)
    huge = tmp_path / 'huge.jpg'
    cv2.imwrite(
        str(huge),
        cv2.resize(image, (8000, 6000), interpolation=cv2.INTER_NEAREST),
        [cv2.IMWRITE_JPEG_QUALITY, 95],
    )
    loaded = read_image(huge, 1280)
    assert (loaded.width, loaded.height, loaded.reduction) == (8000, 6000, 4)
    assert loaded.image.shape == (1500, 2000, 3)  # 12 MB decoded instead of 144 MB
    assert main(['detect', str(small), str(huge), '--backend', 'pytorch']) == 0
    ref, got = (json.loads(x) for x in capsys.readouterr().out.splitlines())
    assert ref['detections']
    assert [d['class'] for d in got['detections']] == [d['class'] for d in ref['detections']]
    for dg, dr in zip(got['detections'], ref['detections'], strict=True):
        assert np.allclose(dg['box'], np.array(dr['box']) * 25.0, atol=60.0)


def test_files_that_are_not_images_and_empty_folders_are_reported(tmp_path: Path) -> None:
    folder = tmp_path / 'photos'
    folder.mkdir()
    (folder / 'photo.jpg').write_bytes(b'\xff\xd8\xff' + os.urandom(3000))  # JPEG magic, junk
    (folder / 'notes.png').write_text('a text file named like an image')
    empty = tmp_path / 'empty'
    empty.mkdir()
    res = cli('detect', folder, '--backend', 'pytorch')
    assert res.rc == 2, res.err  # no image could be read
    lines = [json.loads(x) for x in res.out.splitlines()]
    assert [x['error'] for x in lines] == ['cannot read image', 'cannot read image']
    assert 'none of the 2 images could be read' in res.err
    assert 'Traceback' not in res.err
    res = cli('detect', empty)
    assert res.rc == 2 and f'{empty} holds no image (it is empty' in res.err
    cv2.imwrite(str(folder / 'good.png'), render_scene(SEED, 0).image)
    res = cli('detect', folder, empty, '--backend', 'pytorch')
    assert res.rc == EXIT_PARTIAL, res.err
    assert f'{empty} holds no image' in res.err
    assert 'partial input: 2 of 3 images could not be read, 1 folders without images' in res.err
