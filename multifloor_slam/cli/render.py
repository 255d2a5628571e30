"""``multifloor-slam render BUILDING_YAML``: a picture of a saved building."""

from __future__ import annotations

import argparse
from pathlib import Path

COMMAND = 'render'
HELP = 'draw a saved building (floors side by side, elevator links) into a PNG'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command line."""
    parser.add_argument('building', type=Path, help='building.yaml written by process/save')
    parser.add_argument('-o', '--out', type=Path, help='PNG path (default: beside the building)')
    parser.add_argument('--panel-px', type=int, default=900, help='largest floor panel size (px)')


def run(args: argparse.Namespace) -> int:
    """Load the building, draw it, write the PNG atomically."""
    import cv2

    from multifloor_slam.errors import MapFileError
    from multifloor_slam.io.atomic_file import write_atomic
    from multifloor_slam.io.building_files import load_building, render_building

    building = load_building(args.building)
    out = args.out or args.building.with_name('building.png')
    ok, png = cv2.imencode('.png', render_building(building, args.panel_px))
    if not ok:
        raise MapFileError(f'cannot encode {out}')
    write_atomic(out, png.tobytes())
    print(out)
    return 0
