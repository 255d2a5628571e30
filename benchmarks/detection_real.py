"""Elevator detector on real photos it never trained on, noise, and held-back synthetic scenes.

Run from the repository root::

    PYTHONPATH=$PWD python benchmarks/detection_real.py [--model models/elevator_yolo.pt]
        [--out report.json] [--data ../shared/data] [--limit N]

Needs the real data of ``../shared/data`` (see its README); without it the script says so and
exits 0. Only the held-back splits are read: the panels ``valid`` split and the ordinary-doors
``test`` split (the training recipe reads the other splits).

Rows:

- **real panels** (``elevator-panels/valid``): ground-truth panel boxes are the union of a photo's
  button boxes plus a margin, grouped into panels and given a kind (car operating / hall call)
  from the button names, exactly as the training data is made
  (:func:`multifloor_slam.elevators.panels.panels_from_buttons`). Any panel class of the model
  counts as a panel (the old model's ``elevator_panel`` too). Recall and precision at IoU >= 0.5
  (one-to-one, by confidence), the share of photos where some panel was found, and the panel-kind
  accuracy on matched panels of known kind (``elevator_panel`` is read as a hall call panel, as
  the state machine reads it);
- **ordinary doors** (``ordinary-doors/test``, no elevator anywhere): the share of photos with an
  elevator-door (open/closed) or car-interior false alarm, and with any elevator detection;
- **noise**: detections on ``--noise`` random images (uniform, Gaussian, blotchy; 320x240,
  320x320, 640x480; seeded);
- **synthetic**: AP50 per class on ``--synthetic`` scenes of
  :func:`multifloor_slam.sim.elevator_scenes.render_scene` at seed 9001 (never used in training),
  computed here at confidence >= 0.001 (a model's classes are matched by name; ``any panel``
  merges the panel classes so an old one-panel-class model is comparable);
- **synthetic on photos**: the same on ``--on-photo`` landing scenes composited off-axis (up to
  80 deg) into the held-back ordinary-door photos
  (:func:`~multifloor_slam.sim.elevator_scenes.render_on_photo`, seed 9001), the kind of scene
  the training mix makes from the other door photos;
- **speed**: CPU median milliseconds and frames/s of ``detect()`` per available backend on the
  real panel photos (one thread count for all: ``--threads``).

The detection rows use the detector's own defaults (``conf`` 0.35, ``imgsz`` 320) so they
describe what the node does; ``--conf`` scores another threshold (``--synthetic 0 --on-photo 0``
for a quick sweep point).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault('YOLO_OFFLINE', '1')
os.environ.setdefault('YOLO_CONFIG_DIR', tempfile.mkdtemp(prefix='yolo_cfg_'))

import cv2
import numpy as np

from multifloor_slam.elevators.classes import CLASS_NAMES, LEGACY_PANEL
from multifloor_slam.elevators.detector import Detection, DetectorParams, ElevatorDetector

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / 'shared' / 'data'
SYNTH_SEED = 9001
NOISE_SEED = 9001
PANEL_CLASSES = {'hall_call_panel': 'hall', 'car_operating_panel': 'car', LEGACY_PANEL: 'hall'}
DOOR_ALARM_CLASSES = {'elevator_door_closed', 'elevator_door_open', 'elevator_interior'}
IMAGE_EXT = ('.jpg', '.jpeg', '.png', '.bmp')


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of boxes ``a`` (n, 4) against ``b`` (m, 4), xyxy."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-12)


def match(pred: np.ndarray, conf: np.ndarray, gt: np.ndarray, thr: float = 0.5) -> list[int]:
    """Greedy one-to-one matching by confidence; for each prediction the gt index or -1."""
    out = [-1] * len(pred)
    if len(pred) == 0 or len(gt) == 0:
        return out
    ious = iou(pred, gt)
    used: set[int] = set()
    for i in np.argsort(-conf, kind='stable'):
        cand = [(ious[i, j], j) for j in range(len(gt)) if j not in used and ious[i, j] >= thr]
        if cand:
            j = max(cand)[1]
            used.add(j)
            out[i] = j
    return out


def _images(folder: Path, limit: int) -> list[Path]:
    files = sorted(p for p in (folder / 'images').iterdir() if p.suffix.lower() in IMAGE_EXT)
    return files[:limit] if limit else files


def _boxes(dets: list[Detection], names: set[str] | dict[str, str]) -> tuple[np.ndarray, ...]:
    keep = [d for d in dets if d.class_name in names]
    box = np.array([d.box_xyxy for d in keep], float).reshape(-1, 4)
    conf = np.array([d.confidence for d in keep], float)
    return box, conf, np.array([d.class_name for d in keep], object)


def bench_panels(det: ElevatorDetector, data: Path, limit: int) -> dict:
    """Panel recall/precision/kind on the panels ``valid`` split."""
    from multifloor_slam.elevators.panels import panels_from_buttons, read_names, read_yolo_labels

    root = data / 'elevator-panels'
    names = read_names(root / 'data.yaml')
    n_gt = n_pred = n_tp = kind_ok = kind_n = photos = photos_found = 0
    by_kind = {'car': [0, 0], 'hall': [0, 0], 'unknown': [0, 0]}
    confusion: dict[str, int] = {}
    for path in _images(root / 'valid', limit):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            continue
        h, w = image.shape[:2]
        classes, boxes = read_yolo_labels(root / 'valid' / 'labels' / f'{path.stem}.txt')
        panels = panels_from_buttons(classes, boxes, names)
        if not panels:
            continue
        photos += 1
        gt = np.array([p.box for p in panels], float) * [w, h, w, h]
        box, conf, cls = _boxes(det.detect(image), PANEL_CLASSES)
        m = match(box, conf, gt)
        n_gt += len(gt)
        n_pred += len(box)
        n_tp += sum(j >= 0 for j in m)
        photos_found += any(j >= 0 for j in m)
        hit = {j for j in m if j >= 0}
        for j, p in enumerate(panels):
            by_kind[p.kind][0] += 1
            by_kind[p.kind][1] += j in hit
        for i, j in enumerate(m):
            if j < 0 or panels[j].kind == 'unknown':
                continue
            kind_n += 1
            said = PANEL_CLASSES[cls[i]]
            kind_ok += said == panels[j].kind
            key = f'{panels[j].kind}->{said}'
            confusion[key] = confusion.get(key, 0) + 1
    return {
        'photos': photos,
        'panels': n_gt,
        'predicted': n_pred,
        'matched': n_tp,
        'recall': n_tp / max(n_gt, 1),
        'precision': n_tp / max(n_pred, 1),
        'photos_with_a_panel_found': photos_found / max(photos, 1),
        'kind_accuracy': kind_ok / max(kind_n, 1),
        'kind_matched': kind_n,
        'kind_confusion': confusion,
        'recall_by_kind': {k: v[1] / max(v[0], 1) for k, v in by_kind.items() if v[0]},
        'panels_by_kind': {k: v[0] for k, v in by_kind.items()},
    }


def bench_doors(det: ElevatorDetector, data: Path, limit: int) -> dict:
    """False alarms on the ordinary-doors ``test`` split (no elevators there)."""
    files = _images(data / 'ordinary-doors' / 'test', limit)
    door = anything = n = 0
    counts: dict[str, int] = {}
    for path in files:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            continue
        n += 1
        dets = det.detect(image)
        for d in dets:
            counts[d.class_name] = counts.get(d.class_name, 0) + 1
        door += any(d.class_name in DOOR_ALARM_CLASSES for d in dets)
        anything += bool(dets)
    return {
        'images': n,
        'door_or_interior_alarm': door / max(n, 1),
        'any_elevator_detection': anything / max(n, 1),
        'detections_by_class': counts,
    }


def noise_images(n: int, seed: int = NOISE_SEED) -> list[np.ndarray]:
    """Uniform, Gaussian and blotchy (upscaled coarse) noise at 320x240, 320x320 and 640x480.

    Noise at the network's own resolution matters most: a larger image is averaged down by the
    letterbox, which smooths per-pixel noise away.
    """
    rng = np.random.default_rng(seed)
    sizes = ((240, 320), (320, 320), (480, 640))
    out = []
    for i in range(n):
        h, w = sizes[i % 3]
        kind = (i // 3) % 3
        if kind == 0:
            img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        elif kind == 1:
            img = np.clip(rng.normal(128, 50, (h, w, 3)), 0, 255).astype(np.uint8)
        else:
            small = rng.integers(0, 256, (h // 16, w // 16, 3), dtype=np.uint8)
            img = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
        out.append(img)
    return out


def bench_noise(det: ElevatorDetector, n: int) -> dict:
    """Detections on random-noise images."""
    dets = [det.detect(im) for im in noise_images(n)]
    conf = [d.confidence for ds in dets for d in ds]
    return {
        'images': n,
        'detections': len(conf),
        'images_with_detections': sum(bool(ds) for ds in dets),
        'max_confidence': max(conf, default=0.0),
    }


def average_precision(tp: np.ndarray, conf: np.ndarray, n_gt: int) -> float:
    """AP from per-prediction hits, Ultralytics' interpolation (COCO 101 points)."""
    from ultralytics.utils.metrics import compute_ap

    if n_gt == 0:
        return float('nan')
    if len(tp) == 0:
        return 0.0
    order = np.argsort(-conf, kind='stable')
    hits = np.cumsum(tp[order])
    recall = hits / n_gt
    precision = hits / np.arange(1, len(hits) + 1)
    return float(compute_ap(recall, precision)[0])


def bench_synthetic(
    model: str, imgsz: int, n: int, backend: str, backgrounds: list[np.ndarray] | None = None
) -> dict:
    """AP50 per class on held-back synthetic scenes (seed 9001).

    With ``backgrounds``: landing elevators composited off-axis into those real photos
    (:func:`~multifloor_slam.sim.elevator_scenes.render_on_photo`), else :func:`render_scene`.
    """
    from multifloor_slam.sim.elevator_scenes import CLASSES, render_on_photo, render_scene

    det = ElevatorDetector(
        DetectorParams(model_path=model, imgsz=imgsz, conf=0.001, max_det=100, backend=backend)
    )
    groups = {c: {c} for c in CLASSES if c in det.names.values()}
    panel_names = {'hall_call_panel', 'car_operating_panel', LEGACY_PANEL}
    groups['any panel'] = panel_names
    per: dict[str, dict] = {g: {'tp': [], 'conf': [], 'n_gt': 0} for g in groups}
    for i in range(n):
        if backgrounds:
            scene = render_on_photo(SYNTH_SEED, i, backgrounds[i % len(backgrounds)])
        else:
            scene = render_scene(SYNTH_SEED, i)
        gt_names = np.array([CLASSES[int(c)] for c in scene.classes], object)
        dets = det.detect(scene.image)
        for g, members in groups.items():
            gt = (
                scene.boxes[np.isin(gt_names, list(members))]
                if len(gt_names)
                else np.zeros((0, 4))
            )
            box, conf, _ = _boxes(dets, members)
            m = match(box, conf, gt)
            acc = per[g]
            acc['n_gt'] += len(gt)
            acc['tp'].extend(j >= 0 for j in m)
            acc['conf'].extend(conf.tolist())
    ap = {
        g: average_precision(np.array(v['tp'], float), np.array(v['conf']), v['n_gt'])
        for g, v in per.items()
    }
    doors = [ap[c] for c in ('elevator_door_closed', 'elevator_door_open') if c in ap]
    return {
        'scenes': n,
        'kind': 'render_on_photo (ordinary-doors test photos)' if backgrounds else 'render_scene',
        'seed': SYNTH_SEED,
        'ap50': ap,
        'gt_boxes': {g: v['n_gt'] for g, v in per.items()},
        'door_map50': float(np.mean(doors)) if doors else float('nan'),
    }


def bench_speed(model: str, imgsz: int, images: list[np.ndarray], threads: int) -> dict:
    """CPU ``detect()`` median ms and frames/s per backend that loads."""
    out = {}
    for backend in ('pytorch', 'openvino', 'onnx'):
        det = ElevatorDetector(
            DetectorParams(
                model_path=model, imgsz=imgsz, device='cpu', backend=backend, cpu_threads=threads
            )
        )
        if det.backend != backend:
            out[backend] = {'available': False}
            continue
        for im in images[:5]:
            det.detect(im)
        ms = []
        for im in images:
            t0 = time.perf_counter()
            det.detect(im)
            ms.append(1e3 * (time.perf_counter() - t0))
        med = statistics.median(ms)
        out[backend] = {'available': True, 'median_ms': med, 'fps': 1e3 / med, 'frames': len(ms)}
    return out


def _pct(v: float) -> str:
    return f'{100 * v:5.1f} %'


def print_table(rep: dict) -> None:
    """The human-readable table."""
    p, d, z, s = rep['panels'], rep['doors'], rep['noise'], rep['synthetic']
    print(
        f'\nelevator detector on real photos: {rep["model"]} (imgsz {rep["imgsz"]}, conf '
        f'{rep["conf"]}, classes {", ".join(rep["classes"])})'
    )
    print('| what | value | target |')
    print('|---|---:|---:|')
    print(
        f'| real panels ({p["photos"]} photos, {p["panels"]} panels): recall IoU>=0.5 '
        f'| {_pct(p["recall"])} | >= 90 % |'
    )
    print(
        f'| real panels: precision IoU>=0.5 ({p["predicted"]} panel boxes) '
        f'| {_pct(p["precision"])} | >= 90 % |'
    )
    print(
        f'| real panels: kind right on matched panels ({p["kind_matched"]}) '
        f'| {_pct(p["kind_accuracy"])} | >= 90 % |'
    )
    print(f'| real panels: photos with a panel found | {_pct(p["photos_with_a_panel_found"])} | |')
    print(
        f'| ordinary doors ({d["images"]} photos): elevator-door/interior false alarm '
        f'| {_pct(d["door_or_interior_alarm"])} | <= 3 % |'
    )
    print(f'| ordinary doors: any elevator detection | {_pct(d["any_elevator_detection"])} | |')
    print(
        f'| noise ({z["images"]} images): detections (max conf {z["max_confidence"]:.2f}) '
        f'| {z["detections"]} | 0 |'
    )
    for syn, label in ((s, 'synthetic'), (rep['synthetic_on_photo'], 'synthetic on photos')):
        for g, v in syn['ap50'].items():
            if not syn['gt_boxes'][g]:
                continue
            target = '>= 0.8' if g in ('elevator_door_closed', 'elevator_door_open') else ''
            print(
                f'| {label} seed {syn["seed"]} ({syn["scenes"]} scenes): AP50 {g} '
                f'({syn["gt_boxes"][g]} boxes) | {v:.3f} | {target} |'
            )
    for b, v in rep['speed'].items():
        if v.get('available'):
            print(
                f'| CPU detect() {b} ({rep["threads"]} threads) | {v["median_ms"]:.1f} ms, '
                f'{v["fps"]:.1f} fps | |'
            )
        else:
            print(f'| CPU detect() {b} | not available | |')
    print(
        f'\nkind confusion (truth->said): {p["kind_confusion"]}; recall by kind: '
        f'{ {k: round(v, 3) for k, v in p["recall_by_kind"].items()} }'
    )
    print(f'door-photo detections by class: {d["detections_by_class"]}')


def main() -> int:
    """Run every row and print the table (and write --out)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--model', default='', help='weights (default: the shipped model)')
    ap.add_argument('--data', type=Path, default=DEFAULT_DATA, help='the shared real data folder')
    ap.add_argument('--out', type=Path, help='write the report as JSON here')
    ap.add_argument('--imgsz', type=int, default=320)
    ap.add_argument('--backend', default='auto', help='backend of the accuracy rows')
    ap.add_argument(
        '--conf', type=float, default=DetectorParams.conf, help='confidence of the detection rows'
    )
    ap.add_argument('--limit', type=int, default=0, help='at most this many photos per split')
    ap.add_argument('--noise', type=int, default=60, help='random-noise images')
    ap.add_argument('--synthetic', type=int, default=200, help='held-back synthetic scenes')
    ap.add_argument(
        '--on-photo', type=int, default=165, help='synthetic elevators on held-back door photos'
    )
    ap.add_argument('--speed-frames', type=int, default=60, help='photos timed per backend')
    ap.add_argument('--threads', type=int, default=0, help='CPU threads (0 = cores - 1)')
    args = ap.parse_args()
    if not (args.data / 'elevator-panels').is_dir() or not (args.data / 'ordinary-doors').is_dir():
        print(
            f'skipped: the real data folder {args.data} is absent (elevator-panels/, '
            'ordinary-doors/); see ../shared/data/README.md'
        )
        return 0
    params = DetectorParams(
        model_path=args.model, imgsz=args.imgsz, backend=args.backend, conf=args.conf
    )
    det = ElevatorDetector(params)
    t0 = time.perf_counter()
    rep: dict = {
        'model': str(det.model_path),
        'classes': list(det.names.values()),
        'imgsz': args.imgsz,
        'conf': params.conf,
        'backend': det.backend,
        'panels': bench_panels(det, args.data, args.limit),
        'doors': bench_doors(det, args.data, args.limit),
        'noise': bench_noise(det, args.noise),
        'synthetic': bench_synthetic(args.model, args.imgsz, args.synthetic, args.backend),
    }
    backgrounds = [
        cv2.imread(str(p), cv2.IMREAD_COLOR)
        for p in _images(args.data / 'ordinary-doors' / 'test', args.limit)
    ]
    rep['synthetic_on_photo'] = bench_synthetic(
        args.model,
        args.imgsz,
        args.on_photo,
        args.backend,
        [b for b in backgrounds if b is not None],
    )
    photos = [
        cv2.imread(str(p), cv2.IMREAD_COLOR)
        for p in _images(args.data / 'elevator-panels' / 'valid', args.speed_frames)
    ]
    import torch

    rep['speed'] = bench_speed(args.model, args.imgsz, photos, args.threads)
    rep['threads'] = torch.get_num_threads()
    rep['seconds'] = time.perf_counter() - t0
    rep['new_model_classes'] = set(CLASS_NAMES) <= set(rep['classes'])
    print_table(rep)
    if args.out:
        args.out.write_text(json.dumps(rep, indent=2, default=str))
        print(f'report: {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
