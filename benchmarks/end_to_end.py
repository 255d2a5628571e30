"""End-to-end: simulate buildings, process their bags offline, score against ground truth.

    PYTHONPATH=. python benchmarks/end_to_end.py [--floors 3 6 12] [--seed 0] [--no-detector]

For each building: floor accuracy (parked time on the right floor, rides with the right from/to),
per-floor map IoU (occupied with a 1-cell tolerance, free), contamination, elevator link error,
processing speed as a multiple of real time without and with the YOLO detector on every camera
frame (5 Hz), and peak memory. Each processing run is its own process so memory is its own.
Targets: >= 20x real time without the detector, >= 1x with it on every frame.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _process(bag: str, out: str, detector: str, queue: mp.Queue) -> None:
    from multifloor_slam.io.building_files import load_building
    from multifloor_slam.pipeline.process import ProcessOptions, process_bag
    from multifloor_slam.sim.evaluate import floor_accuracy
    from multifloor_slam.sim.ground_truth import load_ground_truth

    report = process_bag(Path(bag), Path(out), ProcessOptions(detector=detector, progress=False))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    truth = load_ground_truth(Path(bag).parent / 'ground_truth')
    from multifloor_slam.sim.map_score import score_building

    building = load_building(Path(report.building_yaml))
    acc = floor_accuracy(report.floor_trace, report.rides, truth)
    scores = [{'label': k, **v} for k, v in score_building(building, truth, acc.mapping).items()]
    queue.put(
        {
            'realtime': report.realtime_factor,
            'wall_s': report.wall_s,
            'duration_s': report.bag_duration_s,
            'peak_mb': peak,
            'parked_correct': acc.parked_time_correct,
            'rides': f'{acc.rides_correct}/{acc.rides_true}',
            'false_rides': acc.false_rides,
            'renumbered': acc.renumbered,
            'merged': acc.merged,
            'floors_found': len(report.floors),
            'scores': scores,
            'stage_s': report.stage_seconds,
        }
    )


def run_one(bag: Path, out: Path, detector: str) -> dict:
    queue: mp.Queue = mp.get_context('spawn').Queue()
    proc = mp.get_context('spawn').Process(
        target=_process, args=(str(bag), str(out), detector, queue)
    )
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--floors', type=int, nargs='+', default=[3, 6, 12])
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--no-detector', action='store_true', help='skip the detector runs')
    parser.add_argument('--keep', type=Path, help='keep the simulated bags here')
    args = parser.parse_args()
    from multifloor_slam.sim.simulator import SimConfig, simulate

    root = args.keep or Path(tempfile.mkdtemp(prefix='mfs_e2e_'))
    rows = []
    for n in args.floors:
        sim_dir = root / f'floors_{n}'
        if not (sim_dir / 'bag' / 'metadata.yaml').exists():
            t0 = time.perf_counter()
            simulate(SimConfig(floors=n, seed=args.seed, compressed=True), sim_dir)
            print(f'simulated {n} floors in {time.perf_counter() - t0:.0f} s', file=sys.stderr)
        bag = sim_dir / 'bag'
        modes = ['off'] if args.no_detector else ['off', 'run']
        for mode in modes:
            r = run_one(bag, sim_dir / f'out_{mode}', mode)
            rows.append((n, mode, r))
            print(json.dumps({'floors': n, 'detector': mode, **r}), file=sys.stderr)

    print()
    print(
        '| floors | detector | bag s | x real time | peak MB | parked on right floor '
        '| rides right | false rides | floors renumbered | min occ IoU | min free IoU '
        '| max contamination | max link err m |'
    )
    print('|---|---|---|---|---|---|---|---|---|---|---|---|---|')
    for n, mode, r in rows:
        s = r['scores']
        print(
            f'| {n} | {"YOLO every frame" if mode == "run" else "off"} | {r["duration_s"]:.0f} '
            f'| {r["realtime"]:.1f} | {r["peak_mb"]:.0f} | {100 * r["parked_correct"]:.2f} % '
            f'| {r["rides"]} | {r["false_rides"]} | {r["renumbered"]} '
            f'| {np.nanmin([x["occupied_iou"] for x in s]):.3f} '
            f'| {np.nanmin([x["free_iou"] for x in s]):.3f} '
            f'| {100 * np.nanmax([x["contamination"] for x in s]):.2f} % '
            f'| {np.nanmax([x["link_error_m"] for x in s]):.2f} |'
        )
    print()
    print('Per floor (detector off):')
    print('| floors | floor | occupied IoU | free IoU | contamination | link err m |')
    print('|---|---|---|---|---|---|')
    for n, mode, r in rows:
        if mode != 'off':
            continue
        for x in r['scores']:
            print(
                f'| {n} | {x["label"]} | {x["occupied_iou"]:.3f} | {x["free_iou"]:.3f} '
                f'| {100 * x["contamination"]:.2f} % | {x["link_error_m"]:.2f} |'
            )
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
