"""Does the shipped elevator model recognise the simulator's camera? Detector + state vs truth.

Run from the repository root:
    PYTHONPATH=$PWD python benchmarks/sim_camera_detection.py [--bag-dir DIR] [--rides 0,2]

It simulates the demo building (``SimConfig(floors=3, seed=0, compressed=True)``) unless
``--bag-dir`` names a folder a previous simulation wrote (``bag/`` + ``ground_truth/``), reads
the camera frames back from the bag, runs :class:`ElevatorDetector` and
:class:`ElevatorStateMachine` on them and compares the state with ``elevator_truth.csv``.

To keep the CPU cost at a few hundred frames, only some time windows are scored, each at the full
camera rate with the state machine reset at its start: the chosen elevator visits (a run of
non-``none`` truth longer than 20 s, from 15 s before to 5 s after it) and ``--none-windows``
stretches of ``--none-len`` seconds where the truth is ``none`` throughout (seeded picks).

Printed: a confusion table (truth rows, state columns), per-class recall, and per-frame rates:
a door box (open or closed, at least the state machine's ``door_area``) on frames whose truth is
approaching/doors_open, and an interior box (at least ``inside_area``) on in-car frames.
``doors_open`` truth also covers the robot crossing the threshold and leaving the car with its
back to the door (no door in view), so the door rate is printed a second time over the frames
where the robot stands in front of the door plane, facing the door (the truth's own facing test,
from ``pose_truth.csv``): the approach frames proper.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from multifloor_slam.elevators.detector import DetectorParams, ElevatorDetector
from multifloor_slam.elevators.state import STATES, ElevatorStateMachine
from multifloor_slam.io.bag_reader import BagReader
from multifloor_slam.sim.ground_truth import GroundTruth, load_ground_truth
from multifloor_slam.sim.simulator import SimConfig, simulate


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Index runs ``[a, b)`` where ``mask`` holds."""
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(np.int8), 0]))
    return list(zip(edges[::2], edges[1::2], strict=True))


def _windows(
    t: np.ndarray, s: np.ndarray, rides: list[int], n_none: int, none_len: float, seed: int
) -> list[tuple[float, float]]:
    """Scored time windows: elevator visits, then pure-``none`` stretches."""
    dt = float(np.median(np.diff(t)))
    visits = [(t[a], t[b - 1]) for a, b in _runs(s != 'none') if (b - a) * dt > 20.0]
    out = [(visits[i][0] - 15.0, visits[i][1] + 5.0) for i in rides if i < len(visits)]
    quiet = [(t[a], t[b - 1]) for a, b in _runs(s == 'none') if (b - a) * dt > none_len + 10]
    rng = np.random.default_rng(seed)
    for k in rng.permutation(len(quiet))[:n_none]:
        a, b = quiet[k]
        start = rng.uniform(a + 5.0, b - 5.0 - none_len)
        out.append((start, start + none_len))
    return sorted(out)


#: In front of the door plane by at least this (m): the camera is not yet in the doorway.
_IN_FRONT_M = 0.3


def _facing_door(gt: GroundTruth, t: float) -> bool:
    """Does the robot stand in front of the nearest door, facing it (cosine > 0.7)?"""
    x, y, yaw = (float(v) for v in gt.pose_at(t))
    doors = [(e['x'], e['door_y']) for e in gt.elevators]
    dx, dy = min(doors, key=lambda d: (d[0] - x) ** 2 + (d[1] - y) ** 2)
    bearing = np.arctan2(dy - y, dx - x)
    return bool(y < dy - _IN_FRONT_M and np.cos(bearing - yaw) > 0.7)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--bag-dir', type=Path, default=None, help='existing simulation output')
    parser.add_argument('--rides', default='0,2', help='elevator visits to score (indices)')
    parser.add_argument('--none-windows', type=int, default=4, help='pure-none stretches')
    parser.add_argument('--none-len', type=float, default=12.0, help='their length (s)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the none-stretch picks')
    parser.add_argument('--threads', type=int, default=2, help='torch CPU threads')
    parser.add_argument('--model', default='', help='weights (default: the shipped model)')
    parser.add_argument('--backend', default='auto', help='auto, pytorch, openvino or onnx')
    args = parser.parse_args()

    root = args.bag_dir
    if root is None:
        root = Path(tempfile.mkdtemp(prefix='simcam_'))
        tic = time.perf_counter()
        simulate(SimConfig(floors=3, seed=0, compressed=True), root)
        print(f'simulated into {root} in {time.perf_counter() - tic:.1f} s')
    gt = load_ground_truth(root / 'ground_truth')
    t_truth, s_truth = gt.t, gt.elevator_state
    rides = [int(x) for x in args.rides.split(',') if x.strip()]
    windows = _windows(t_truth, s_truth, rides, args.none_windows, args.none_len, args.seed)

    det = ElevatorDetector(
        DetectorParams(
            model_path=args.model, device='cpu', cpu_threads=args.threads, backend=args.backend
        )
    )
    sm = ElevatorStateMachine()
    p = sm.params
    idx = {s: i for i, s in enumerate(STATES)}
    conf = np.zeros((len(STATES), len(STATES)), np.int64)
    door_hit = door_n = int_hit = int_n = face_hit = face_n = 0
    n_frames, t_det = 0, 0.0
    with BagReader(root / 'bag') as bag:
        for a, b in windows:
            sm.reset()
            for _, rec in bag.read({'image': None}, start=a, stop=b):
                k = int(np.clip(np.searchsorted(t_truth, rec.t + 1e-6) - 1, 0, len(t_truth) - 1))
                truth = str(s_truth[k])
                tic = time.perf_counter()
                dets = det.detect(rec.image)
                t_det += time.perf_counter() - tic
                n_frames += 1
                state = sm.update(rec.t, dets, rec.image.shape).state
                conf[idx[truth], idx[state]] += 1
                shape = rec.image.shape
                big = [d for d in dets if d.confidence >= p.min_confidence]
                if truth in ('approaching', 'doors_open'):
                    door = any(
                        d.class_name.startswith('elevator_door')
                        and d.area_fraction(shape) >= p.door_area
                        for d in big
                    )
                    door_n += 1
                    door_hit += door
                    if _facing_door(gt, rec.t):
                        face_n += 1
                        face_hit += door
                if truth == 'inside':
                    int_n += 1
                    int_hit += any(
                        d.class_name == 'elevator_interior'
                        and d.area_fraction(shape) >= p.inside_area
                        for d in big
                    )

    print(f'bag: {root}  windows: {len(windows)}  frames: {n_frames}  ', end='')
    print(
        f'detector: {n_frames / max(t_det, 1e-9):.1f} frames/s ({args.threads} threads, '
        f'{det.backend}), model {det.model_path.name} ({", ".join(det.names.values())})'
    )
    print()
    print('| truth \\ state | ' + ' | '.join(f'{s:>11s}' for s in STATES) + ' | frames | recall |')
    print('|---|' + '---:|' * (len(STATES) + 2))
    for i, s in enumerate(STATES):
        n = int(conf[i].sum())
        rec = f'{conf[i, i] / n:.0%}' if n else '-'
        cells = ' | '.join(f'{int(c):>11d}' for c in conf[i])
        print(f'| {s:13s} | {cells} | {n:6d} | {rec:>6s} |')
    print()
    door = f'{door_hit}/{door_n} = {door_hit / max(door_n, 1):.0%}'
    inner = f'{int_hit}/{int_n} = {int_hit / max(int_n, 1):.0%}'
    print(f'per frame: door box on approaching/doors_open frames {door}; ', end='')
    print(f'interior box on in-car frames {inner}')
    facing = f'{face_hit}/{face_n} = {face_hit / max(face_n, 1):.0%}'
    print(f'door box on those frames with the robot in front of the door, facing it: {facing}')
    false_in = int(conf[0, idx['inside']])
    false_open = int(conf[0, idx['doors_open']])
    print(f'false states while truth is none: inside {false_in}, doors_open {false_open}')


if __name__ == '__main__':
    main()
