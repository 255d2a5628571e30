"""``multifloor-slam detect``: run the elevator detector on image files, one JSON line each."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

COMMAND = 'detect'
HELP = 'detect elevators in images or directories of images; prints one JSON line per image'

IMAGE_SUFFIXES = {'.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp'}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's options."""
    parser.add_argument('inputs', nargs='+', metavar='IMAGE_OR_DIR', help='images or directories')
    parser.add_argument('--model', default='', help='YOLO .pt file (default: the shipped model)')
    parser.add_argument(
        '--conf', type=float, default=0.35, help='minimum confidence (default 0.35)'
    )
    parser.add_argument('--imgsz', type=int, default=320, help='network input size (default 320)')
    parser.add_argument('--device', default='auto', help="'auto', 'cpu' or 'cuda:0'")


def _files(inputs: list[str]) -> list[Path]:
    out: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob('*') if p.suffix.lower() in IMAGE_SUFFIXES))
        else:
            out.append(path)
    return out


def run(args: argparse.Namespace) -> int:
    """Detect in every image; unreadable images give an ``error`` line and exit status 1."""
    import cv2

    from multifloor_slam.elevators.detector import DetectorParams, ElevatorDetector

    detector = ElevatorDetector(
        DetectorParams(model_path=args.model, conf=args.conf, imgsz=args.imgsz, device=args.device)
    )
    failed = 0
    for path in _files(args.inputs):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR) if path.is_file() else None
        if image is None:
            failed += 1
            print(json.dumps({'file': str(path), 'error': 'cannot read image'}), flush=True)
            continue
        detections = [
            {
                'class': d.class_name,
                'confidence': round(d.confidence, 4),
                'box': [round(v, 1) for v in d.box_xyxy],
            }
            for d in detector.detect(image)
        ]
        print(json.dumps({'file': str(path), 'detections': detections}), flush=True)
    return 1 if failed else 0
