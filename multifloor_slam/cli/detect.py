"""``multifloor-slam detect``: run the elevator detector on image files, one JSON line each.

Inputs are image files and folders (searched recursively for image files). What works is kept:
files in a folder that are not images (by their suffix) are named on stderr and skipped; a
folder without any image is named on stderr; a missing or undecodable image gives an ``error``
JSON line and is skipped. Exit status: 0 every input gave images and every image was read, 3 some
input was skipped (``EXIT_PARTIAL``), 2 nothing to detect in (checked before the model loads)
or no image could be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from multifloor_slam.errors import EXIT_OK, EXIT_PARTIAL, InputDataError

COMMAND = 'detect'
HELP = 'detect elevators in images or directories of images; prints one JSON line per image'

IMAGE_SUFFIXES = {'.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp'}

#: At most this many skipped file names are listed on stderr per folder.
_LIST_SKIPPED = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's options."""
    parser.add_argument('inputs', nargs='+', metavar='IMAGE_OR_DIR', help='images or directories')
    parser.add_argument('--model', default='', help='YOLO .pt file (default: the shipped model)')
    parser.add_argument(
        '--conf', type=float, default=0.35, help='minimum confidence (default 0.35)'
    )
    parser.add_argument('--imgsz', type=int, default=320, help='network input size (default 320)')
    parser.add_argument('--device', default='auto', help="'auto', 'cpu' or 'cuda:0'")


def _warn(text: str) -> None:
    print(f'multifloor-slam {COMMAND}: warning: {text}', file=sys.stderr, flush=True)


def _files(inputs: list[str]) -> tuple[list[Path], list[str]]:
    """The files to detect in, in order (folders expanded), and the inputs that gave none.

    Files in a folder that are not images (by their suffix) are named on stderr and skipped.
    Paths named on the command line are kept as given (a missing one gets an error line later).

    Raises:
        InputDataError: no input gives a file at all (empty folders, missing paths).
    """
    out: list[Path] = []
    empty: list[str] = []
    for item in inputs:
        path = Path(item)
        if not path.is_dir():
            out.append(path)
            continue
        found = sorted(p for p in path.rglob('*') if p.is_file())
        images = [p for p in found if p.suffix.lower() in IMAGE_SUFFIXES]
        others = [p for p in found if p.suffix.lower() not in IMAGE_SUFFIXES]
        if others:
            names = ', '.join(str(p.relative_to(path)) for p in others[:_LIST_SKIPPED])
            more = (
                f' and {len(others) - _LIST_SKIPPED} more' if len(others) > _LIST_SKIPPED else ''
            )
            _warn(f'skipping {len(others)} files in {path} that are not images: {names}{more}')
        if not images:
            what = f'{len(others)} other files' if others else 'it is empty'
            empty.append(
                f'{path} holds no image ({what}; images are {", ".join(sorted(IMAGE_SUFFIXES))})'
            )
        out.extend(images)
    if not any(p.is_file() for p in out):
        missing = [f'{p} does not exist' for p in out if not p.exists()]
        missing += [f'{p} is not a file' for p in out if p.exists()]
        raise InputDataError('nothing to detect in: ' + '; '.join(empty + missing))
    for line in empty:
        _warn(line)
    return out, empty


def run(args: argparse.Namespace) -> int:
    """Detect in every image; unreadable images give an ``error`` line and are skipped."""
    import cv2

    from multifloor_slam.elevators.detector import DetectorParams, ElevatorDetector

    files, empty = _files(args.inputs)
    detector = ElevatorDetector(
        DetectorParams(model_path=args.model, conf=args.conf, imgsz=args.imgsz, device=args.device)
    )
    failed = 0
    for path in files:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR) if path.is_file() else None
        if image is None:
            failed += 1
            why = 'cannot read image'
            if not path.is_file():
                why = 'no such file' if not path.exists() else 'not a file'
            print(json.dumps({'file': str(path), 'error': why}), flush=True)
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
    if failed == len(files):
        raise InputDataError(f'none of the {len(files)} images could be read')
    if failed or empty:
        folders = f', {len(empty)} folders without images' if empty else ''
        _warn(f'partial input: {failed} of {len(files)} images could not be read{folders}')
        return EXIT_PARTIAL
    return EXIT_OK
