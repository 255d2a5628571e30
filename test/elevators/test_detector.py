from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault('YOLO_CONFIG_DIR', tempfile.mkdtemp(prefix='yolo_cfg_'))

from multifloor_slam.elevators.detector import (
    DetectorParams,
    ElevatorDetector,
    default_model_path,
    draw_detections,
)
from multifloor_slam.errors import ConfigError, InputDataError, ModelError
from multifloor_slam.sim.elevator_scenes import (
    CLASSES,
    SceneParams,
    render_scene,
    write_dataset,
)

#: Never used in training (the shipped model was trained on seed 0).
FRESH_SEED = 424242
#: mAP50 floor on fresh generated scenes: measured 0.592 for the 5-class model trained on the
#: real/synthetic mix (0.742 for the old model trained on generated scenes only; printed with -s).
MAP50_FLOOR = 0.55


@pytest.fixture(scope='module')
def detector() -> ElevatorDetector:
    return ElevatorDetector(DetectorParams(device='cpu'))


def test_shipped_model_is_found_and_small() -> None:
    path = default_model_path()
    assert path.is_file()
    assert path.stat().st_size < 8 * 1024 * 1024


def test_missing_model_raises_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match='not found'):
        ElevatorDetector(DetectorParams(model_path=str(tmp_path / 'nope.pt')))


def test_corrupt_model_raises_model_error(tmp_path: Path) -> None:
    bad = tmp_path / 'corrupt.pt'
    bad.write_bytes(os.urandom(2048))
    with pytest.raises(ModelError, match='cannot load'):
        ElevatorDetector(DetectorParams(model_path=str(bad)))
    truncated = tmp_path / 'truncated.pt'
    truncated.write_bytes(default_model_path().read_bytes()[:5000])
    with pytest.raises(ModelError, match='cannot load'):
        ElevatorDetector(DetectorParams(model_path=str(truncated)))


def test_invalid_parameters_raise_config_error() -> None:
    with pytest.raises(ConfigError, match='imgsz'):
        DetectorParams(imgsz=300)
    with pytest.raises(ConfigError, match='device'):
        DetectorParams(device='gpu')
    with pytest.raises(ConfigError, match='conf'):
        DetectorParams(conf=1.5)
    with pytest.raises(ConfigError, match='min_contrast'):
        DetectorParams(min_contrast=-1.0)


def test_cuda_request_without_gpu_falls_back_to_cpu() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip('a GPU is present')
    det = ElevatorDetector(DetectorParams(device='cuda:0', half=True))
    assert det.device == 'cpu'
    assert det.half is False
    assert ElevatorDetector(DetectorParams(device='auto')).device == 'cpu'


def test_fast_path_matches_ultralytics_predict() -> None:
    detector = ElevatorDetector(DetectorParams(device='cpu', conf=0.1))
    compared = 0
    for i in range(8):
        image = render_scene(FRESH_SEED, i).image
        fast = sorted(detector.detect(image), key=lambda d: -d.confidence)
        ref = sorted(detector.predict_reference(image), key=lambda d: -d.confidence)
        assert len(fast) == len(ref)
        for a, b in zip(fast, ref, strict=True):
            assert a.class_name == b.class_name
            assert a.confidence == pytest.approx(b.confidence, abs=0.02)
            assert np.allclose(a.box_xyxy, b.box_xyxy, atol=2.0)
            compared += 1
    assert compared > 0


def test_batch_of_same_size_frames_matches_single_frames(detector: ElevatorDetector) -> None:
    params = SceneParams(height=240)
    images = [render_scene(FRESH_SEED, i, params).image for i in range(20, 24)]
    batch = detector.detect_batch(images)
    assert len(batch) == 4
    for image, dets in zip(images, batch, strict=True):
        single = detector.detect(image)
        assert [d.class_name for d in dets] == [d.class_name for d in single]
        for a, b in zip(dets, single, strict=True):
            assert np.allclose(a.box_xyxy, b.box_xyxy, atol=1.0)
    mixed = [images[0], np.ascontiguousarray(images[1][:180])]
    for image, dets in zip(mixed, detector.detect_batch(mixed), strict=True):
        for d in dets:
            assert d.box_xyxy[2] <= image.shape[1] + 1 and d.box_xyxy[3] <= image.shape[0] + 1
    assert detector.detect_batch([]) == []


def test_grey_and_bgra_images_are_accepted_and_bad_images_rejected(
    detector: ElevatorDetector,
) -> None:
    image = render_scene(FRESH_SEED, 30).image
    grey = image[..., 0].copy()
    bgra = np.dstack([image, np.full(image.shape[:2], 255, np.uint8)])
    assert isinstance(detector.detect(grey), list)
    assert isinstance(detector.detect(bgra), list)
    with pytest.raises(InputDataError):
        detector.detect(np.zeros((0, 0, 3), np.uint8))
    with pytest.raises(InputDataError):
        detector.detect(image.astype(np.float32))
    with pytest.raises(InputDataError):
        detector.detect(np.zeros((10, 10, 2), np.uint8))


def test_boxes_lie_in_the_input_image_pixels(detector: ElevatorDetector) -> None:
    image = render_scene(FRESH_SEED, 40).image
    big = np.ascontiguousarray(np.repeat(np.repeat(image, 2, 0), 2, 1))
    small_dets = detector.detect(image)
    big_dets = detector.detect(big)
    assert len(small_dets) == len(big_dets)
    for d in big_dets:
        x1, y1, x2, y2 = d.box_xyxy
        assert 0 <= x1 < x2 <= big.shape[1] + 1
        assert 0 <= y1 < y2 <= big.shape[0] + 1
    drawn = draw_detections(big, big_dets, 'approaching')
    assert drawn.shape == big.shape and not np.array_equal(drawn, big)


def test_featureless_frames_get_no_detections(detector: ElevatorDetector) -> None:
    rng = np.random.default_rng(3)
    flat = [np.full((240, 320, 3), v, np.uint8) for v in (0, 128, 255)]
    grain = np.clip(128 + rng.normal(0, 1.0, (240, 320, 3)), 0, 255).astype(np.uint8)
    scene = render_scene(FRESH_SEED, 40).image
    found = detector.detect_batch([*flat, grain, scene])
    assert found[:4] == [[], [], [], []]
    assert found[4], 'a scene with structure is still detected'


def test_shipped_model_finds_elevators_in_unseen_scenes(tmp_path: Path) -> None:
    from ultralytics import YOLO

    names = tuple(YOLO(str(default_model_path())).names.values())
    if names != tuple(CLASSES):
        # The generator labels by index into CLASSES: a model with other classes cannot be
        # scored by Ultralytics' val (issue 11 moved to 5 classes before the weights landed).
        pytest.skip(f'shipped model classes {names} are not the generator classes {CLASSES}')
    data = write_dataset(tmp_path / 'fresh', 40, seed=FRESH_SEED, val_fraction=0.0)
    metrics = YOLO(str(default_model_path())).val(
        data=str(data),
        imgsz=320,
        batch=8,
        device='cpu',
        plots=False,
        verbose=False,
        project=str(tmp_path / 'runs'),
        name='val',
    )
    map50 = float(metrics.box.map50)
    per_class = dict(zip(CLASSES, (float(v) for v in metrics.box.ap50), strict=False))
    print(f'\nmAP50 on 40 fresh scenes (seed {FRESH_SEED}): {map50:.3f}; per class {per_class}')
    assert map50 >= MAP50_FLOOR


def test_default_model_path_prefers_the_installed_share(tmp_path: Path) -> None:
    import subprocess
    import sys

    prefix = tmp_path / 'install'
    index = prefix / 'share' / 'ament_index' / 'resource_index' / 'packages'
    index.mkdir(parents=True)
    (index / 'multifloor_slam').write_text('')
    models = prefix / 'share' / 'multifloor_slam' / 'models'
    models.mkdir(parents=True)
    (models / 'elevator_yolo.pt').write_bytes(b'x')
    probe = 'from multifloor_slam.elevators.detector import default_model_path as p; print(p())'
    env = {**os.environ, 'AMENT_PREFIX_PATH': str(prefix)}
    env['PYTHONPATH'] = str(Path(__file__).resolve().parents[2])
    out = subprocess.run([sys.executable, '-c', probe], env=env, capture_output=True, text=True)
    assert Path(out.stdout.strip()) == models / 'elevator_yolo.pt', out.stderr
    env['AMENT_PREFIX_PATH'] = str(tmp_path / 'elsewhere')
    out = subprocess.run([sys.executable, '-c', probe], env=env, capture_output=True, text=True)
    assert Path(out.stdout.strip()) == default_model_path(), out.stderr


def test_huge_photo_is_shrunk_before_the_letterbox_and_boxes_stay_in_its_pixels(
    detector: ElevatorDetector,
) -> None:
    import cv2

    from multifloor_slam.elevators.detector import LARGE_IMAGE_FACTOR, shrink

    scenes = (render_scene(FRESH_SEED, i, SceneParams(height=240)).image for i in range(50, 80))
    image = next(im for im in scenes if detector.detect(im))
    huge = cv2.resize(image, (8000, 6000), interpolation=cv2.INTER_NEAREST)
    small, fx, fy = shrink(huge, 320)
    assert small.shape == (240, 320, 3) and fx == fy == 25.0
    assert np.array_equal(small, image)  # area averaging of 25x25 blocks of one colour
    edge = LARGE_IMAGE_FACTOR * 320
    same = np.zeros((edge, edge // 2, 3), np.uint8)
    assert shrink(same, 320)[0] is same
    ref = detector.detect(image)
    got = detector.detect(huge)
    assert ref and [d.class_name for d in got] == [d.class_name for d in ref]
    for a, b in zip(got, ref, strict=True):
        assert np.allclose(a.box_xyxy, np.array(b.box_xyxy) * 25.0, atol=1.0)
