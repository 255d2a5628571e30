"""Map quality and speed of the building mapper on the 3-floor tour with SLAM jumps.

    PYTHONPATH=. python benchmarks/map_quality.py [--seed 0] [--rate 10] [--speed 1.0]
    PYTHONPATH=. python benchmarks/map_quality.py --sim [--seed 0] [--floors 3]

The default tour is the tests' ``test/mapping_tour.py`` (thin walls, exact ground truth).
``--sim`` runs the project's simulator (a rosbag2 with SLAM jumps of up to 6 m / 180 degrees
after every ride, barometer, no camera), processes the bag offline (``process_bag``, detector
off: rides come from the barometer alone) and scores the saved building against the simulator's
ground-truth floor maps.

Per floor: IoU of occupied cells (1-cell tolerance) and of free cells against ground truth,
cross-floor contamination (occupied cells more than one cell from any wall of that floor's plan:
other floors' walls, the car, smear), elevator link position error. Then scans integrated per
second (one core: OpenCV and BLAS limited to one thread) and peak memory.
Targets: IoU >= 0.9 on every floor, contamination < 0.5 %, link error <= 0.3 m, >= 1000 scans/s.
"""

from __future__ import annotations

import os

os.environ.setdefault('OMP_NUM_THREADS', '1')
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import cv2

from multifloor_slam.io.building_files import load_building
from multifloor_slam.maps.mapper import BuildingMapper, MapperParams
from multifloor_slam.maps.occupancy_layer import OccupancyLayer
from multifloor_slam.maps.scan_geometry import scan_points, transform_points
from multifloor_slam.sim.map_score import score_building

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'test'))
from mapping_tour import evaluate, feed, make_tour


def run_sim(args: argparse.Namespace) -> int:
    from multifloor_slam.pipeline.process import ProcessOptions, process_bag
    from multifloor_slam.sim.ground_truth import load_ground_truth
    from multifloor_slam.sim.simulator import SimConfig, simulate

    with tempfile.TemporaryDirectory() as tmp:
        sim = simulate(SimConfig(floors=args.floors, seed=args.seed, camera=False), Path(tmp))
        t0 = time.perf_counter()
        report = process_bag(
            sim.bag_path, Path(tmp) / 'building', ProcessOptions(detector='off', progress=False)
        )
        wall = time.perf_counter() - t0
        gt = load_ground_truth(sim.ground_truth_dir)
        building = load_building(Path(report.building_yaml))
        quality = score_building(building, gt)
        true_floors = {f['label']: f['elevation'] for f in gt.floors}
    stats = report.map_stats
    print(
        f'simulator: {args.floors} floors, seed {args.seed}, {sim.duration_s:.0f} s, '
        f'{sim.message_counts.get("scan", 0)} scans, {sim.rides} rides; processed in {wall:.1f} s'
    )
    print()
    print(
        '| floor | occupied IoU | free IoU | contamination | spurious | link error (m) '
        '| elevation (m) | true elevation (m) |'
    )
    print('|---|---|---|---|---|---|---|---|')
    ok = True
    for label, q in quality.items():
        fl = next(f for f in building.floors.values() if f.label == label)
        print(
            f'| {label} | {q["occupied_iou"]:.4f} | {q["free_iou"]:.4f} | '
            f'{q["contamination"] * 100:.3f} % | {q["spurious"] * 100:.2f} % | '
            f'{q["link_error_m"]:.3f} | {fl.elevation_m:.2f} | '
            f'{true_floors.get(label, float("nan")):.2f} |'
        )
        ok &= q['occupied_iou'] >= 0.9 and q['contamination'] < 0.005
        ok &= q['link_error_m'] <= 0.3
    print()
    print(
        f'elevator links: {len(building.links)} (true elevators: {len(gt.elevators)}); rides / '
        f'ICP accepted / rejected: {stats["rides"]} / {stats["icp_accepted"]} / '
        f'{stats["icp_rejected"]}; scans skipped in the elevator: '
        f'{stats["scans_skipped_elevator"]}'
    )
    print('targets met' if ok else 'TARGETS MISSED')
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--rate', type=float, default=10.0, help='scan rate (Hz)')
    parser.add_argument('--speed', type=float, default=1.0, help='robot speed (m/s)')
    parser.add_argument('--beams', type=int, default=360)
    parser.add_argument('--resolution', type=float, default=0.05)
    parser.add_argument('--jump-m', type=float, default=3.0, help='largest SLAM jump per ride')
    parser.add_argument('--noise', type=float, default=0.01, help='range noise (m)')
    parser.add_argument('--sim', action='store_true', help="use the project's simulator bag")
    parser.add_argument('--floors', type=int, default=3, help='--sim: floors')
    args = parser.parse_args()
    cv2.setNumThreads(1)
    if args.sim:
        return run_sim(args)

    tour = make_tour(
        scan_rate_hz=args.rate,
        speed_mps=args.speed,
        beams=args.beams,
        jump_m=args.jump_m,
        range_noise_m=args.noise,
        seed=args.seed,
    )
    params = MapperParams(resolution=args.resolution)

    # 1. The whole mapper (poses, episodes, anchoring, ICP on revisits, integration).
    import open3d  # noqa: F401 - its import (about a second) is not mapping time

    mapper = BuildingMapper(params)
    t0 = time.perf_counter()
    feed(mapper, tour)
    mapper_s = time.perf_counter() - t0
    stats = mapper.stats

    # 2. Integration alone: scan -> endpoints -> raster update, best of 3 passes.
    usable = [s for s in tour.scans if not (s.in_car or s.riding)]
    best = float('inf')
    for _ in range(3):
        layers: dict[int, OccupancyLayer] = {}
        t0 = time.perf_counter()
        for s in usable:
            pts = scan_points(
                s.ranges, tour.angle_min, tour.angle_increment, tour.range_min, tour.range_max
            )
            layers.setdefault(s.floor, OccupancyLayer(params.layer_params())).integrate(
                s.slam_pose[:2], transform_points(pts.free_xy, s.slam_pose), pts.hit, True
            )
        best = min(best, time.perf_counter() - t0)

    # 3. Peak memory of a mapping run (Python + numpy allocations).
    tracemalloc.start()
    feed(BuildingMapper(params), tour)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    quality = evaluate(mapper, tour)
    print(
        f'tour: {len(tour.scans)} scans ({len(usable)} outside the car), {args.beams} beams, '
        f'{args.resolution * 100:.0f} cm cells, {len(tour.rides)} rides, SLAM jumps up to '
        f'{args.jump_m} m / {max(abs(j[2]) for j in tour.jumps):.2f} rad, seed {args.seed}'
    )
    print()
    print('| floor | occupied IoU | free IoU | contamination | link error (m) | occupied cells |')
    print('|---|---|---|---|---|---|')
    ok = True
    for index, q in quality.items():
        label = mapper.floors[index].label
        print(
            f'| {label} | {q["occupied_iou"]:.4f} | {q["free_iou"]:.4f} | '
            f'{q["contamination"] * 100:.3f} % | {q["link_error_m"]:.3f} | '
            f'{q["occupied_cells"]} |'
        )
        ok &= q['occupied_iou'] >= 0.9 and q['contamination'] < 0.005
        ok &= q['link_error_m'] <= 0.3
    rate = len(usable) / best
    print()
    print('| measure | value |')
    print('|---|---|')
    print(f'| scans/s, integration only (one core) | {rate:.0f} |')
    print(f'| scans/s, whole mapper incl. ICP | {stats["scans_in"] / mapper_s:.0f} |')
    print(
        f'| rides / re-anchors / ICP accepted / rejected | {stats["rides"]} / '
        f'{stats["reanchors"]} / {stats["icp_accepted"]} / {stats["icp_rejected"]} |'
    )
    print(f'| scans skipped in the elevator | {stats["scans_skipped_elevator"]} |')
    print(f'| elevator links | {len(mapper.links)} |')
    print(f'| peak traced memory (MiB) | {peak / 2**20:.1f} |')
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f'| process max RSS (MiB) | {maxrss:.0f} |')
    ok &= rate >= 1000
    print()
    print('targets met' if ok else 'TARGETS MISSED')
    return 0 if ok else 1


if __name__ == '__main__':
    raise SystemExit(main())
