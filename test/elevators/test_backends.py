from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault('YOLO_CONFIG_DIR', tempfile.mkdtemp(prefix='yolo_cfg_'))

from multifloor_slam.elevators import backends
from multifloor_slam.elevators.backends import CACHE_ENV, export_dir, resolve_backend
from multifloor_slam.elevators.detector import DetectorParams, ElevatorDetector, default_model_path
from multifloor_slam.errors import ConfigError
from multifloor_slam.sim.elevator_scenes import SceneParams, render_scene

FRESH_SEED = 636363


@pytest.fixture(scope='module')
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One export cache for the module (each export costs a few seconds)."""
    return tmp_path_factory.mktemp('export_cache')


@pytest.fixture(autouse=True)
def _cache_env(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(cache))
    monkeypatch.setattr(backends, '_WARNED', set())


@pytest.fixture(scope='module')
def reference() -> ElevatorDetector:
    return ElevatorDetector(DetectorParams(device='cpu', backend='pytorch', conf=0.1))


def _scenes() -> list[np.ndarray]:
    return [render_scene(FRESH_SEED, i).image for i in range(6)]


@pytest.mark.parametrize('backend', ['openvino', 'onnx'])
def test_exported_backend_gives_the_pytorch_detections(
    backend: str, reference: ElevatorDetector, cache: Path
) -> None:
    det = ElevatorDetector(DetectorParams(device='cpu', backend=backend, conf=0.1))
    assert det.backend == backend
    compared = 0
    for image in _scenes():
        ref = sorted(reference.detect(image), key=lambda d: -d.confidence)
        got = sorted(det.detect(image), key=lambda d: -d.confidence)
        assert [d.class_name for d in got] == [d.class_name for d in ref]
        for a, b in zip(got, ref, strict=True):
            assert a.confidence == pytest.approx(b.confidence, abs=2e-3)
            assert np.allclose(a.box_xyxy, b.box_xyxy, atol=0.5)
            compared += 1
    assert compared > 0
    # Exported once, into the cache, keyed by the weights' content; no temporary folder left.
    entries = sorted(p.name for p in (cache / 'exports').iterdir())
    assert export_dir(default_model_path(), backend).name in entries
    assert not [n for n in entries if n.startswith('.tmp')]


def test_exported_backend_batches_like_single_frames(cache: Path) -> None:
    det = ElevatorDetector(DetectorParams(device='cpu', backend='onnx', conf=0.1))
    images = [render_scene(FRESH_SEED, i, SceneParams(height=240)).image for i in range(10, 13)]
    for image, dets in zip(images, det.detect_batch(images), strict=True):
        single = det.detect(image)
        assert [d.class_name for d in dets] == [d.class_name for d in single]
        for a, b in zip(dets, single, strict=True):
            assert np.allclose(a.box_xyxy, b.box_xyxy, atol=1.0)


def test_cache_key_follows_the_weights_content(tmp_path: Path) -> None:
    a, b = tmp_path / 'a' / 'model.pt', tmp_path / 'b' / 'model.pt'
    for path, data in ((a, b'one'), (b, b'two')):
        path.parent.mkdir()
        path.write_bytes(data)
    assert export_dir(a, 'onnx') != export_dir(b, 'onnx')
    b.write_bytes(b'one')
    assert export_dir(a, 'onnx') == export_dir(b, 'onnx')
    assert export_dir(a, 'onnx') != export_dir(a, 'openvino')


def test_damaged_cache_entry_is_exported_again(cache: Path) -> None:
    ElevatorDetector(DetectorParams(device='cpu', backend='onnx'))
    entry = export_dir(default_model_path(), 'onnx')
    (entry / 'model.onnx').write_bytes(b'not a model')
    det = ElevatorDetector(DetectorParams(device='cpu', backend='onnx'))
    assert det.backend == 'onnx'
    assert (entry / 'model.onnx').stat().st_size > 100_000


def test_missing_library_falls_back_to_pytorch_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, 'openvino', None)  # `import openvino` now fails
    with caplog.at_level(logging.WARNING, logger='multifloor_slam.elevators.backends'):
        first = ElevatorDetector(DetectorParams(device='cpu', backend='openvino'))
        second = ElevatorDetector(DetectorParams(device='cpu', backend='openvino'))
    assert first.backend == second.backend == 'pytorch'
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "'openvino'" in warnings[0].getMessage() and 'PyTorch' in warnings[0].getMessage()
    # auto skips what is missing without a word
    assert resolve_backend('auto', 'cpu') == 'onnx'


def test_unwritable_cache_falls_back_to_pytorch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / 'a_file'
    blocker.write_text('not a folder')
    monkeypatch.setenv(CACHE_ENV, str(blocker / 'cache'))
    with caplog.at_level(logging.WARNING, logger='multifloor_slam.elevators.backends'):
        det = ElevatorDetector(DetectorParams(device='cpu', backend='onnx'))
    assert det.backend == 'pytorch'
    assert 'onnx backend unavailable' in caplog.text
    assert det.detect(render_scene(FRESH_SEED, 0).image) is not None


def test_auto_backend_choice_and_bad_names() -> None:
    assert resolve_backend('auto', 'cuda:0') == 'pytorch'
    assert resolve_backend('auto', 'cpu') == 'openvino'
    assert resolve_backend('pytorch', 'cpu') == 'pytorch'
    with pytest.raises(ConfigError, match='backend'):
        DetectorParams(backend='tensorrt')


def test_onnx_export_without_the_onnx_package_says_so_and_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / 'cache'))  # nothing exported yet
    monkeypatch.setitem(sys.modules, 'onnx', None)
    with caplog.at_level(logging.WARNING, logger='multifloor_slam.elevators.backends'):
        det = ElevatorDetector(DetectorParams(device='cpu', backend='onnx'))
    assert det.backend == 'pytorch'
    assert 'needs the onnx package' in caplog.text
    assert not list((tmp_path / 'cache').rglob('*.onnx'))
