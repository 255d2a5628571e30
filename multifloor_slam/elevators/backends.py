"""Inference backends of the elevator detector: exported OpenVINO and ONNX models, cached.

The detector's PyTorch weights are exported once per weights file (Ultralytics ``export``, FP32,
dynamic input shape so that the same letterboxed tensor as PyTorch's goes in and the boxes agree)
into a user cache folder, keyed by the weights' content hash and the library versions: the
package's share folder is read-only once installed, and a new model or library gets a new export.
The export is written into a temporary folder beside the cache entry and renamed into place, so a
crash or a second process never leaves or reads half an export.

On this repository's 2-core CPU the exported graphs run the network 1.6-2.5x faster than the
PyTorch forward pass (``benchmarks/detector_speed.py``). A backend whose library is missing, or
whose export fails, is replaced by PyTorch with one warning per process.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import logging
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np

LOG = logging.getLogger(__name__)

#: Values of ``DetectorParams.backend``.
BACKENDS = ('auto', 'pytorch', 'openvino', 'onnx')
#: Exported backends in the order ``auto`` tries them on a CPU.
CPU_PREFERENCE = ('openvino', 'onnx')
#: Environment variable naming the export cache folder (overrides the XDG default).
CACHE_ENV = 'MULTIFLOOR_SLAM_CACHE_DIR'

_LIBRARY = {'openvino': 'openvino', 'onnx': 'onnxruntime'}
_WARNED: set[str] = set()


class Runner(Protocol):
    """An exported network: float32 NCHW in [0, 1] -> the raw head output (N, 4 + classes, A)."""

    name: str

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Run the network on one batch."""
        ...


def warn_once(key: str, text: str) -> None:
    """Log ``text`` as a warning the first time ``key`` is seen in this process."""
    if key not in _WARNED:
        _WARNED.add(key)
        LOG.warning(text)


def library_version(backend: str) -> str | None:
    """Version of the backend's runtime library, or None when it cannot be imported."""
    if backend not in _LIBRARY:
        return None
    try:
        module = _optional(_LIBRARY[backend])
    except Exception:  # a broken install is as good as none
        return None
    return str(module.__version__).split('-')[0]


def _optional(name: str) -> Any:
    """Import an optional runtime library (no type information: OpenVINO, ONNX Runtime)."""
    return importlib.import_module(name)


def resolve_backend(backend: str, device: str) -> str:
    """The backend to use: ``auto`` -> PyTorch on CUDA (FP16), else the first importable export.

    An explicit backend whose library is missing becomes ``pytorch`` with one warning.
    """
    if backend == 'pytorch':
        return backend
    if backend == 'auto':
        if device.startswith(('cuda', 'mps')):
            return 'pytorch'
        for name in CPU_PREFERENCE:
            if library_version(name) is not None:
                return name
        return 'pytorch'
    if library_version(backend) is None:
        warn_once(
            f'missing:{backend}',
            f'backend {backend!r} asked for but {_LIBRARY[backend]} cannot be imported: '
            f'running the detector with PyTorch (pip install {_LIBRARY[backend]})',
        )
        return 'pytorch'
    return backend


def cache_root() -> Path:
    """``$MULTIFLOOR_SLAM_CACHE_DIR``, else ``$XDG_CACHE_HOME/multifloor_slam`` (``~/.cache``)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get('XDG_CACHE_HOME') or str(Path.home() / '.cache')
    return Path(base) / 'multifloor_slam'


def weights_digest(path: Path) -> str:
    """First 16 hex digits of the SHA-256 of the weights file."""
    h = hashlib.sha256()
    with open(path, 'rb') as fh:
        for block in iter(lambda: fh.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()[:16]


def export_dir(weights: Path, backend: str) -> Path:
    """Cache folder of one export: weights hash, backend, library and Ultralytics versions."""
    import ultralytics

    lib = library_version(backend) or 'none'
    key = f'{weights.stem}-{weights_digest(weights)}-{backend}{lib}-ul{ultralytics.__version__}'
    return cache_root() / 'exports' / key


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Keep Ultralytics' export log and tracer warnings off stdout (``detect`` prints JSON)."""
    from ultralytics.utils import LOGGER

    level = LOGGER.level
    LOGGER.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
            warnings.simplefilter('ignore')
            yield
    finally:
        LOGGER.setLevel(level)


def _export(weights: Path, backend: str, imgsz: int, target: Path) -> None:
    """Export ``weights`` into the folder ``target`` (atomically: temp folder, then rename)."""
    from multifloor_slam.elevators.yolo_import import import_yolo

    if backend == 'onnx' and not _importable('onnx'):
        # Ultralytics would try to pip-install it (and fail offline) without a clear message.
        raise ImportError('the ONNX export needs the onnx package (pip install onnx)')
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix='.tmp-', dir=target.parent))
    try:
        shutil.copyfile(weights, tmp / 'model.pt')
        yolo = import_yolo()(str(tmp / 'model.pt'), task='detect')
        kwargs: dict[str, Any] = {'imgsz': imgsz, 'dynamic': True, 'device': 'cpu'}  # FP32
        if backend == 'onnx':
            kwargs['simplify'] = _importable('onnxslim')
        with _quiet():
            out = Path(str(yolo.export(format=backend, verbose=False, **kwargs)))
        if backend == 'onnx':
            (tmp / 'pkg').mkdir()
            out.rename(tmp / 'pkg' / 'model.onnx')
            out = tmp / 'pkg'
        try:
            out.rename(target)
        except OSError:
            if not target.is_dir():  # else another process finished the same export first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _importable(module: str) -> bool:
    try:
        _optional(module)
    except Exception:
        return False
    return True


class OpenVinoRunner:
    """An OpenVINO IR model compiled for the CPU with the latency hint."""

    name = 'openvino'

    def __init__(self, folder: Path, threads: int) -> None:
        ov = _optional('openvino')
        xml = next(folder.glob('*.xml'))
        # f32: on CPUs with bf16 units OpenVINO would otherwise pick bf16, which moves scores by
        # about 0.01 and was not faster here (6.9 ms f32 against 7.9 ms bf16, imgsz 320).
        config: dict[str, Any] = {'PERFORMANCE_HINT': 'LATENCY', 'INFERENCE_PRECISION_HINT': 'f32'}
        if threads > 0:
            config['INFERENCE_NUM_THREADS'] = threads
        self._model = ov.Core().compile_model(str(xml), 'CPU', config)
        self._request = self._model.create_infer_request()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Run one batch (synchronously, on this thread)."""
        self._request.infer({0: x})
        return np.asarray(self._request.get_output_tensor(0).data).copy()


class OnnxRunner:
    """An ONNX model in onnxruntime's CPU execution provider."""

    name = 'onnx'

    def __init__(self, folder: Path, threads: int) -> None:
        ort = _optional('onnxruntime')
        opts = ort.SessionOptions()
        if threads > 0:
            opts.intra_op_num_threads = threads
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(folder / 'model.onnx'), opts, providers=['CPUExecutionProvider']
        )
        self._input = self._session.get_inputs()[0].name

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Run one batch."""
        return np.asarray(self._session.run(None, {self._input: x})[0])


_RUNNERS: dict[str, type[OpenVinoRunner] | type[OnnxRunner]] = {
    'openvino': OpenVinoRunner,
    'onnx': OnnxRunner,
}


def load_runner(weights: Path, backend: str, imgsz: int, threads: int) -> Runner | None:
    """The exported ``backend`` model of ``weights`` (exported on first use), or None on failure.

    A failure (unwritable cache, export or compile error) is logged once as a warning; the caller
    then runs PyTorch.
    """
    try:
        folder = export_dir(weights, backend)
        if folder.is_dir():
            try:
                return _RUNNERS[backend](folder, threads)
            except Exception as err:  # a damaged cache entry: export it again
                LOG.warning(
                    'cached %s export %s unusable (%s): exporting again', backend, folder, err
                )
                shutil.rmtree(folder, ignore_errors=True)
        LOG.info('exporting %s to %s into %s (once)', weights.name, backend, folder)
        _export(weights, backend, imgsz, folder)
        return _RUNNERS[backend](folder, threads)
    except Exception as err:
        warn_once(
            f'failed:{backend}',
            f'{backend} backend unavailable ({type(err).__name__}: {err}): running the detector '
            'with PyTorch',
        )
        return None


__all__ = [
    'BACKENDS',
    'CACHE_ENV',
    'CPU_PREFERENCE',
    'OnnxRunner',
    'OpenVinoRunner',
    'Runner',
    'cache_root',
    'export_dir',
    'library_version',
    'load_runner',
    'resolve_backend',
    'warn_once',
    'weights_digest',
]
