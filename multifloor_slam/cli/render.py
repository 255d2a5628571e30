"""``multifloor-slam render BUILDING``: a picture of a saved building."""

from __future__ import annotations

import argparse
from pathlib import Path

COMMAND = 'render'
HELP = 'draw a saved building (floors side by side, elevator links) into a PNG'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command line."""
    parser.add_argument(
        'building', type=Path, help='building.yaml written by process/save, or its folder'
    )
    parser.add_argument(
        '-o',
        '--out',
        type=Path,
        help='PNG path, or a folder for building.png (default: building.png beside building.yaml)',
    )
    parser.add_argument('--panel-px', type=int, default=900, help='largest floor panel size (px)')


def output_path(building: Path, out: Path | None) -> Path:
    """Where the picture goes: ``--out`` (a file, or a folder), else beside ``building.yaml``."""
    if out is not None:
        return out / 'building.png' if out.is_dir() else out
    folder = building if building.is_dir() else building.parent
    return folder / 'building.png'


def run(args: argparse.Namespace) -> int:
    """Load the building, draw it, write the PNG atomically."""
    from multifloor_slam.errors import ConfigError
    from multifloor_slam.io.atomic_file import write_atomic
    from multifloor_slam.io.building_files import load_building
    from multifloor_slam.io.building_render import encode_png, render_building

    if args.panel_px < 1:
        raise ConfigError(f'--panel-px must be >= 1, not {args.panel_px}')
    building = load_building(args.building)
    out = output_path(args.building, args.out)
    write_atomic(out, encode_png(render_building(building, args.panel_px), str(out)))
    print(out)
    return 0
