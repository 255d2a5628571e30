"""``multifloor-slam simulate OUT_DIR``: a simulated multi-floor building recorded as a rosbag2."""

from __future__ import annotations

import argparse
from pathlib import Path

COMMAND = 'simulate'
HELP = 'simulate a multi-floor building tour and write OUT_DIR/bag + OUT_DIR/ground_truth'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's options."""
    parser.add_argument('out_dir', metavar='OUT_DIR', help='output folder')
    parser.add_argument('--floors', type=int, default=3, help='floors in all, 1-12 (default 3)')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default 0)')
    parser.add_argument('--basement', action='store_true', help='lowest floor is a basement B1')
    parser.add_argument('--elevators', type=int, default=2, choices=(1, 2), help='shafts (2)')
    parser.add_argument('--visits', type=int, default=None, help='floor visits (floors + 2)')
    parser.add_argument('--rooms', type=int, default=2, help='rooms explored per first visit')
    parser.add_argument('--duration', type=float, default=None, help='cut the tour after S s')
    parser.add_argument('--storage', choices=('mcap', 'sqlite3'), default='mcap')
    parser.add_argument('--compressed', action='store_true', help='jpeg CompressedImage camera')
    parser.add_argument('--no-camera', action='store_true', help='record no camera')
    parser.add_argument('--camera-rate', type=float, default=5.0, help='camera Hz (default 5)')
    parser.add_argument('--baro-rate', type=float, default=20.0, help='barometer Hz (20)')
    parser.add_argument('--no-clock', action='store_true', help='write no /clock topic')
    parser.add_argument('--force', action='store_true', help='overwrite OUT_DIR/bag')


def _check_out_dir(args: argparse.Namespace) -> None:
    """OUT_DIR must be a folder that can be written; its bag/ and ground_truth/ not files."""
    from multifloor_slam.cli._paths import check_no_file, check_output_dir

    out = Path(args.out_dir)
    check_output_dir(out, 'OUT_DIR')
    check_no_file(out / 'bag', 'OUT_DIR', 'the bag folder')
    check_no_file(out / 'ground_truth', 'OUT_DIR', 'the ground truth folder')


def run(args: argparse.Namespace) -> int:
    """Simulate and print a summary."""
    from multifloor_slam.sim.simulator import SimConfig, simulate

    _check_out_dir(args)

    cfg = SimConfig(
        floors=args.floors,
        seed=args.seed,
        basement=args.basement,
        elevators=args.elevators,
        visits=args.visits,
        rooms_per_visit=args.rooms,
        max_duration_s=args.duration,
        storage=args.storage,
        compressed=args.compressed,
        camera=not args.no_camera,
        camera_rate_hz=args.camera_rate,
        baro_rate_hz=args.baro_rate,
        clock_rate_hz=0.0 if args.no_clock else 10.0,
    )
    res = simulate(cfg, args.out_dir, overwrite=args.force)
    print(f'bag:          {res.bag_path} ({cfg.storage}, {res.bag_bytes / 1e6:.1f} MB)')
    print(f'ground truth: {res.ground_truth_dir}')
    print(
        f'floors:       {" ".join(res.floors)}; rides: {res.rides}; visits: '
        f'{" ".join(str(v) for v in res.trajectory.visits)}'
    )
    print(
        f'simulated:    {res.duration_s:.0f} s in {res.wall_s:.1f} s wall '
        f'({res.duration_s / max(res.wall_s, 1e-9):.0f}x real time)'
    )
    for topic, n in sorted(res.message_counts.items()):
        print(f'  {topic:32s} {n:7d} msgs  {n / max(res.duration_s, 1e-9):6.1f} Hz')
    return 0
