"""``multifloor-slam detect``: run the elevator detector on image files, one JSON line each.

Inputs are image files and folders (searched recursively for image files). What works is kept:
files in a folder that are not images (by their suffix) are named on stderr and skipped; a
folder without any image is named on stderr; a missing or undecodable image gives an ``error``
JSON line and is skipped. Exit status: 0 every input gave images and every image was read, 3 some
input was skipped (``EXIT_PARTIAL``), 2 nothing to detect in (checked before the model loads)
or no image could be read.

Large photos are decoded reduced (JPEG) and shrunk before the letterbox, so an 8000x6000 photo
costs a few MB, not 144 (:mod:`~multifloor_slam.elevators.image_files`); boxes are printed in
the file's pixels all the same. Images over 200 MP get an ``error`` line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from multifloor_slam.elevators.backends import BACKENDS
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
    parser.add_argument(
        '--backend',
        choices=BACKENDS,
        default='auto',
        help='inference backend (auto: PyTorch FP16 on CUDA, else OpenVINO, else ONNX Runtime)',
    )


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
    from multifloor_slam.elevators.detector import (
        LARGE_IMAGE_FACTOR,
        DetectorParams,
        ElevatorDetector,
    )
    from multifloor_slam.elevators.image_files import read_image

    files, empty = _files(args.inputs)
    params = DetectorParams(
        model_path=args.model,
        conf=args.conf,
        imgsz=args.imgsz,
        device=args.device,
        backend=args.backend,
    )
    detector = ElevatorDetector(params)
    failed = 0
    for path in files:
        try:
            if not path.is_file():
                raise InputDataError('no such file' if not path.exists() else 'not a file')
            loaded = read_image(path, LARGE_IMAGE_FACTOR * params.imgsz)
        except (InputDataError, OSError) as err:
            failed += 1
            why = str(err) if isinstance(err, InputDataError) else f'cannot read: {err}'
            print(json.dumps({'file': str(path), 'error': why}), flush=True)
            continue
        detections = [
            {
                'class': d.class_name,
                'confidence': round(d.confidence, 4),
                'box': [round(v, 1) for v in loaded.to_file_pixels(d.box_xyxy)],
            }
            for d in detector.detect(loaded.image)
        ]
        print(json.dumps({'file': str(path), 'detections': detections}), flush=True)
    if failed == len(files):
        raise InputDataError(f'none of the {len(files)} images could be read')
    if failed or empty:
        folders = f', {len(empty)} folders without images' if empty else ''
        _warn(f'partial input: {failed} of {len(files)} images could not be read{folders}')
        return EXIT_PARTIAL
    return EXIT_OK
