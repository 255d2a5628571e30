"""Simulator speed and bag size: simulated seconds per wall second, MB per simulated minute.

Run from the repository root:
    PYTHONPATH=$PWD python benchmarks/simulate_speed.py [--quick] [--out DIR]

Each case simulates a building into a temporary folder, then reads the bag back with the
package's reader (scan + pressure + pose + images) to time that too.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from multifloor_slam.io.bag_reader import BagReader
from multifloor_slam.sim.simulator import SimConfig, simulate

CASES = {
    'demo 3 floors, raw camera (mcap)': SimConfig(),
    'demo 3 floors, jpeg camera': SimConfig(compressed=True),
    'demo 3 floors, no camera': SimConfig(camera=False),
    'demo 3 floors, raw camera (sqlite3)': SimConfig(storage='sqlite3'),
    '8 floors + basement, jpeg camera': SimConfig(floors=8, basement=True, compressed=True),
}
QUICK = {
    'demo 3 floors, jpeg camera': SimConfig(compressed=True),
    'demo 3 floors, no camera': SimConfig(camera=False),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--quick', action='store_true', help='two cases only')
    parser.add_argument('--out', type=Path, default=None, help='keep bags here')
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix='simbench_'))
    cases = QUICK if args.quick else CASES
    header = (
        f'| {"case":38s} | sim s | wall s | sim s / wall s | bag MB | MB / sim min '
        f'| read s | rides |'
    )
    print(header)
    print('|' + '|'.join('-' * (len(c)) for c in header.split('|')[1:-1]) + '|')
    for k, (name, cfg) in enumerate(cases.items()):
        out = root / f'case{k}'
        if out.exists():
            shutil.rmtree(out)
        res = simulate(cfg, out)
        t = time.perf_counter()
        streams = {'scan': None, 'pressure': None, 'pose': None}
        if cfg.camera:
            streams['image'] = None
        with BagReader(res.bag_path) as bag:
            n = sum(1 for _ in bag.read(streams))
        read_s = time.perf_counter() - t
        mb = res.bag_bytes / 1e6
        print(
            f'| {name:38s} | {res.duration_s:5.0f} | {res.wall_s:6.1f} '
            f'| {res.duration_s / res.wall_s:14.1f} | {mb:6.1f} '
            f'| {mb / (res.duration_s / 60):12.1f} | {read_s:6.1f} | {res.rides:5d} |'
        )
        del n
        if args.out is None:
            shutil.rmtree(out)
    if args.out is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == '__main__':
    main()
