"""Elevator detection with an Ultralytics YOLO model, on CPU or GPU, without ROS.

The detector calls the network directly rather than through ``YOLO.predict()``: letterbox, one
tensor upload, the forward pass and Ultralytics' own NMS. That is the same arithmetic as
``predict()`` (the tests compare the two) without its per-call set-up, which dominates at batch
size 1 on a GPU and costs several milliseconds on a CPU. On CUDA the network runs in FP16 when
``half`` is set; ``detect_batch`` runs several frames in one forward pass. On a CPU the forward
pass can run in an exported OpenVINO or ONNX model instead (``backend``, see
:mod:`~multifloor_slam.elevators.backends`): the same letterboxed tensor goes in, the same NMS
runs on what comes out.

Photos far larger than the network input (an 8000x6000 phone photo at ``imgsz`` 320) are first
shrunk with area averaging to the letterbox size: the linear resize inside the letterbox would
sample a few pixels out of every 25x25 block, and every later copy stays small.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from multifloor_slam.elevators import backends
from multifloor_slam.elevators.yolo_import import import_yolo
from multifloor_slam.errors import ConfigError, InputDataError, ModelError

LOG = logging.getLogger(__name__)

MODEL_FILE = 'elevator_yolo.pt'
#: Images whose long side exceeds this many times ``imgsz`` are shrunk (area averaging) first.
LARGE_IMAGE_FACTOR = 4


def default_model_path() -> Path:
    """The shipped model: the package share when installed, else ``models/`` of the source tree."""
    try:
        from ament_index_python.packages import get_package_share_directory

        share = Path(get_package_share_directory('multifloor_slam')) / 'models' / MODEL_FILE
        if share.is_file():
            return share
    except Exception:
        pass
    return Path(__file__).resolve().parents[2] / 'models' / MODEL_FILE


def resolve_device(device: str) -> str:
    """``'auto'`` -> ``'cuda:0'`` when CUDA works, else ``'cpu'``; CUDA without a GPU -> CPU."""
    import torch

    if device == 'auto':
        return 'cuda:0' if torch.cuda.is_available() else 'cpu'
    if device.startswith('cuda') and not torch.cuda.is_available():
        LOG.warning('device %r asked for but CUDA is not available: running on the CPU', device)
        return 'cpu'
    return device


@dataclass(frozen=True)
class DetectorParams:
    """Detector settings.

    Attributes:
        model_path: YOLO ``.pt`` file; empty = the shipped model (:func:`default_model_path`).
        device: ``'auto'`` (CUDA when available, else CPU), ``'cpu'``, ``'cuda:0'``, ...
        half: FP16 inference on CUDA (ignored on the CPU).
        imgsz: network input size (long side, pixels; a multiple of 32).
        conf: minimum detection confidence.
        iou: NMS IoU threshold.
        max_det: most detections kept per image.
        cpu_threads: torch CPU threads (process-wide); 0 = Ultralytics' choice, one less than
            the cores (max 8), which leaves a core to ROS and avoids OpenMP oversubscription.
            Also the thread count of the OpenVINO and ONNX backends.
        backend: ``'auto'`` (PyTorch on CUDA, else OpenVINO, else ONNX Runtime, else PyTorch),
            ``'pytorch'``, ``'openvino'`` or ``'onnx'`` (both run on the CPU).
        min_contrast: grey-level standard deviation below which a frame shows nothing (lens
            cap, black or washed-out frame) and gets no detections: the network, trained on
            photos, reads a featureless frame as a car interior.
    """

    model_path: str = ''
    device: str = 'auto'
    half: bool = True
    imgsz: int = 320
    conf: float = 0.35
    iou: float = 0.5
    max_det: int = 20
    cpu_threads: int = 0
    backend: str = 'auto'
    min_contrast: float = 2.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_contrast < 128.0:
            raise ConfigError(f'min_contrast must lie in [0, 128), got {self.min_contrast}')
        if self.backend not in backends.BACKENDS:
            msg = f'backend must be one of {", ".join(backends.BACKENDS)}, got {self.backend!r}'
            raise ConfigError(msg)
        if not (self.device in ('auto', 'cpu') or self.device.startswith(('cuda', 'mps'))):
            raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {self.device!r}")
        if self.imgsz < 32 or self.imgsz % 32:
            raise ConfigError(f'imgsz must be a positive multiple of 32, got {self.imgsz}')
        if not 0.0 < self.conf < 1.0 or not 0.0 < self.iou < 1.0:
            raise ConfigError(f'conf and iou must lie in (0, 1), got {self.conf}, {self.iou}')
        if self.max_det < 1:
            raise ConfigError(f'max_det must be >= 1, got {self.max_det}')
        if self.cpu_threads < 0:
            raise ConfigError(f'cpu_threads must be >= 0, got {self.cpu_threads}')


def _featureless(bgr: np.ndarray, min_contrast: float) -> bool:
    """True when the frame's grey levels vary less than ``min_contrast`` (std)."""
    if min_contrast <= 0.0:
        return False
    _, std = cv2.meanStdDev(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
    return float(std[0, 0]) < min_contrast


@dataclass(frozen=True)
class Detection:
    """One detected object.

    Attributes:
        class_name: model class name (e.g. ``'elevator_door_open'``).
        class_id: model class index.
        confidence: score in [0, 1].
        box_xyxy: ``(x1, y1, x2, y2)`` in pixels of the input image.
    """

    class_name: str
    class_id: int
    confidence: float
    box_xyxy: tuple[float, float, float, float]

    def area_fraction(self, image_shape: tuple[int, ...]) -> float:
        """Share of the image area covered by the box."""
        x1, y1, x2, y2 = self.box_xyxy
        h, w = image_shape[:2]
        return max(x2 - x1, 0.0) * max(y2 - y1, 0.0) / max(float(h * w), 1.0)


def _box(xyxy: Any) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    return x1, y1, x2, y2


def _checked(image: Any) -> np.ndarray:
    """``image`` if it is a non-empty uint8 image with 1, 3 or 4 channels (1 channel -> 2-D)."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise InputDataError('image must be a uint8 numpy array')
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or image.shape[0] == 0 or image.shape[1] == 0:
        raise InputDataError(f'image has an unusable shape {image.shape}')
    if image.ndim == 3 and image.shape[2] not in (3, 4):
        raise InputDataError(f'image has {image.shape[2]} channels (1, 3 or 4 expected)')
    return image


def shrink(image: np.ndarray, imgsz: int) -> tuple[np.ndarray, float, float]:
    """``image`` shrunk to long side ``imgsz`` if it is over ``LARGE_IMAGE_FACTOR * imgsz``.

    Returns:
        The image (itself when small enough) and the x and y factors from its pixels back to the
        input's.
    """
    h, w = image.shape[:2]
    if max(h, w) <= LARGE_IMAGE_FACTOR * imgsz:
        return image, 1.0, 1.0
    s = imgsz / max(h, w)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    small = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA)
    return small, w / nw, h / nh


def as_bgr(image: Any) -> np.ndarray:
    """Validate an image and return it as 3-channel uint8 BGR (grey and BGRA accepted).

    Raises:
        InputDataError: not a non-empty uint8 image with 1, 3 or 4 channels.
    """
    image = _checked(image)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


class ElevatorDetector:
    """YOLO elevator detector (doors closed/open, panels, car interior).

    Args:
        params: detector settings.

    Raises:
        ModelError: the model file is missing, corrupt or not a detection model.
    """

    def __init__(self, params: DetectorParams | None = None) -> None:
        self.params = params or DetectorParams()
        path = Path(self.params.model_path) if self.params.model_path else default_model_path()
        if not path.is_file():
            msg = f'elevator model not found: {path} (set model_path to a YOLO .pt file)'
            raise ModelError(msg)
        import torch

        YOLO = import_yolo()  # noqa: N806 - the class, as Ultralytics names it

        try:
            yolo = YOLO(str(path), task='detect')
            task = yolo.task
            names = dict(yolo.names)
            net: Any = yolo.model  # Any: fuse()/half() return types torch cannot express
            if not isinstance(yolo.model, torch.nn.Module):
                raise TypeError('not a PyTorch model')
        except Exception as err:
            msg = f'cannot load elevator model {path}: {type(err).__name__}: {err}'
            raise ModelError(msg) from err
        if task != 'detect':
            raise ModelError(f'{path} is a {task!r} model, a detection model is needed')
        self.model_path = path
        self.device = resolve_device(self.params.device)
        from ultralytics.utils import NUM_THREADS

        threads = self.params.cpu_threads or NUM_THREADS
        self.backend = backends.resolve_backend(self.params.backend, self.device)
        self._runner: backends.Runner | None = None
        if self.backend != 'pytorch':
            self._runner = backends.load_runner(path, self.backend, self.params.imgsz, threads)
            self.backend = self._runner.name if self._runner else 'pytorch'
        if self._runner is not None and self.device != 'cpu':
            LOG.info('the %s backend runs on the CPU, not %s', self.backend, self.device)
            self.device = 'cpu'
        self.half = bool(self.params.half and self.device.startswith('cuda'))
        if self.device == 'cpu':
            torch.set_num_threads(threads)
        self.names: dict[int, str] = {int(k): str(v) for k, v in names.items()}
        self._torch = torch
        self._yolo = yolo
        net = net.fuse(verbose=False) if hasattr(net, 'fuse') else net
        net = net.to(self.device).eval()
        self._net = net.half() if self.half else net.float()
        self.stride = max(int(self._net.stride.max()), 32) if hasattr(self._net, 'stride') else 32
        self._end2end = bool(getattr(self._net, 'end2end', False))
        from ultralytics.data.augment import LetterBox
        from ultralytics.utils import nms, ops

        self._letterbox_cls = LetterBox
        self._nms = nms.non_max_suppression
        self._scale_boxes = ops.scale_boxes
        for shape in ((480, 640, 3), (self.params.imgsz, self.params.imgsz, 3)):
            self.detect(np.zeros(shape, np.uint8))  # warm-up: allocations and kernel choice

    def _letterboxed(self, images: list[np.ndarray]) -> np.ndarray:
        """NHWC uint8 batch; one shape: the smallest stride-multiple rectangle, else square."""
        same = len({im.shape for im in images}) == 1
        letterbox = self._letterbox_cls(
            (self.params.imgsz, self.params.imgsz), auto=same, stride=self.stride
        )
        boxed = [np.asarray(letterbox(image=im)) for im in images]
        return boxed[0][None] if len(boxed) == 1 else np.stack(boxed)

    def _prepare(self, images: list[np.ndarray]) -> Any:
        """The network input tensor (PyTorch backend): NCHW RGB in [0, 1] on the device."""
        arr = self._letterboxed(images)
        x = self._torch.from_numpy(arr).to(self.device, non_blocking=True)
        x = x.permute(0, 3, 1, 2).flip(1).contiguous()
        return (x.half() if self.half else x.float()).div_(255.0)

    def detect_batch(self, images: list[np.ndarray]) -> list[list[Detection]]:
        """Detect in several images with one forward pass.

        Args:
            images: BGR uint8 images (grey and BGRA accepted), any sizes.

        Returns:
            One list of detections per image, boxes in that image's pixels.

        Raises:
            InputDataError: an image is empty or not uint8 with 1, 3 or 4 channels.
        """
        if not images:
            return []
        shrunk_all = [shrink(_checked(im), self.params.imgsz) for im in images]
        bgr_all = [as_bgr(im) for im, _, _ in shrunk_all]
        # A featureless frame shows nothing: it gets no detections and no forward pass.
        keep = [
            i for i, im in enumerate(bgr_all) if not _featureless(im, self.params.min_contrast)
        ]
        results: list[list[Detection]] = [[] for _ in images]
        if not keep:
            return results
        shrunk = [shrunk_all[i] for i in keep]
        bgr = [bgr_all[i] for i in keep]
        with self._torch.inference_mode():
            if self._runner is not None:
                arr = self._letterboxed(bgr)
                x = np.ascontiguousarray(arr[..., ::-1].transpose(0, 3, 1, 2), np.float32)
                x /= 255.0
                preds = self._torch.from_numpy(self._runner(x))
            else:
                x = self._prepare(bgr)
                preds = self._net(x)
            out = self._nms(
                preds,
                self.params.conf,
                self.params.iou,
                max_det=self.params.max_det,
                end2end=self._end2end,
            )
            rows_per_image = []
            for det, im, (_, fx, fy) in zip(out, bgr, shrunk, strict=True):
                det = det[:, :6]
                if len(det):
                    det[:, :4] = self._scale_boxes(x.shape[2:], det[:, :4], im.shape)
                rows = det.float().cpu().numpy()
                rows[:, [0, 2]] *= fx
                rows[:, [1, 3]] *= fy
                rows_per_image.append(rows)
        for i, rows in zip(keep, rows_per_image, strict=True):
            results[i] = [
                Detection(
                    class_name=self.names.get(int(c), str(int(c))),
                    class_id=int(c),
                    confidence=float(s),
                    box_xyxy=(float(x1), float(y1), float(x2), float(y2)),
                )
                for x1, y1, x2, y2, s, c in rows
            ]
        return results

    def detect(self, bgr: np.ndarray) -> list[Detection]:
        """Detect in one image (BGR uint8; grey and BGRA accepted); boxes in its pixels."""
        return self.detect_batch([bgr])[0]

    def predict_reference(self, bgr: np.ndarray) -> list[Detection]:
        """The same detection through Ultralytics ``predict()`` (for checks)."""
        res = self._yolo.predict(
            as_bgr(bgr),
            imgsz=self.params.imgsz,
            conf=self.params.conf,
            iou=self.params.iou,
            max_det=self.params.max_det,
            device=self.device,
            verbose=False,
            **({'half': True} if self.half else {}),
        )[0]
        boxes = res.boxes
        return [
            Detection(self.names[int(c)], int(c), float(s), _box(b))
            for b, s, c in zip(
                boxes.xyxy.cpu().numpy(),
                boxes.conf.cpu().numpy(),
                boxes.cls.cpu().numpy(),
                strict=True,
            )
        ]


def draw_detections(bgr: np.ndarray, detections: list[Detection], title: str = '') -> np.ndarray:
    """A copy of ``bgr`` with the boxes, class names and an optional title drawn on it."""
    img = as_bgr(bgr).copy()
    palette = ((0, 0, 255), (0, 200, 0), (255, 128, 0), (0, 200, 255), (200, 0, 200))
    thick = max(1, round(max(img.shape[:2]) / 320))
    for d in detections:
        color = palette[d.class_id % len(palette)]
        x1, y1, x2, y2 = (round(v) for v in d.box_xyxy)
        cv2.rectangle(img, (x1, y1), (x2, y2), color, thick)
        label = f'{d.class_name.removeprefix("elevator_")} {d.confidence:.2f}'
        cv2.putText(
            img,
            label,
            (x1 + 2, max(y1 - 3, 10)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.4 * thick,
            color,
            thick,
        )
    if title:
        cv2.putText(
            img,
            title,
            (5, 18 * thick),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.55 * thick,
            (255, 255, 255),
            thick + 1,
        )
        cv2.putText(
            img, title, (5, 18 * thick), cv2.FONT_HERSHEY_SIMPLEX, 0.55 * thick, (0, 0, 0), thick
        )
    return img


__all__ = [
    'Detection',
    'DetectorParams',
    'ElevatorDetector',
    'as_bgr',
    'default_model_path',
    'draw_detections',
    'resolve_device',
    'shrink',
]
