"""``multifloor-slam process BAG --out DIR``: bag -> building, deterministic, no middleware.

Everything the command is given is checked before the bag is read: the output folder (can it
be created and written into?), ``--truth``, ``--floor-table``, ``--resolution``. A bag that
ends early or is corrupt in the middle is used as far as it can be read; the building is saved,
a ``partial input`` warning line on stderr and the summary say how much was used, and the exit
status is 3 (``EXIT_PARTIAL``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from multifloor_slam.elevators.backends import BACKENDS
from multifloor_slam.errors import EXIT_OK, EXIT_PARTIAL, BagError, ConfigError

COMMAND = 'process'
HELP = 'process a bag (rosbag2 sqlite3/MCAP or ROS 1) into a multi-floor building'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command line."""
    parser.add_argument('bag', type=Path, help='rosbag2 directory or ROS 1 .bag file')
    parser.add_argument('--out', type=Path, required=True, help='output folder for the building')
    parser.add_argument('--pressure-topic', help='sensor_msgs/FluidPressure (barometer/pressure)')
    parser.add_argument('--temperature-topic', help='sensor_msgs/Temperature (optional)')
    parser.add_argument('--scan-topic', help='sensor_msgs/LaserScan (scan)')
    parser.add_argument(
        '--pose-topic', help='PoseWithCovarianceStamped, PoseStamped or Odometry (pose)'
    )
    parser.add_argument(
        '--odom-topic', help='nav_msgs/Odometry for the heading across rides (odom, optional)'
    )
    parser.add_argument('--image-topic', help='Image or CompressedImage (camera/image_raw)')
    parser.add_argument('--elevator-state-topic', help='recorded elevator/state (String JSON)')
    parser.add_argument(
        '--detector',
        choices=('auto', 'run', 'recorded', 'off'),
        default='auto',
        help='run YOLO on the camera, use a recorded elevator/state, or neither (auto: run '
        'when the bag has a camera topic)',
    )
    parser.add_argument('--detector-rate', type=float, default=0.0, help='max frames/s (0: all)')
    parser.add_argument('--model', default='', help='YOLO .pt (default: the shipped model)')
    parser.add_argument('--device', default='auto', help="'auto', 'cpu', 'cuda:0'")
    parser.add_argument(
        '--backend',
        choices=BACKENDS,
        default='auto',
        help='detector backend (auto: PyTorch FP16 on CUDA, else OpenVINO, else ONNX Runtime)',
    )
    parser.add_argument('--floor-table', type=Path, help='a known floor table YAML to start from')
    parser.add_argument('--initial-floor', type=int, default=0, help='floor index at the start')
    parser.add_argument('--resolution', type=float, default=None, help='map cell size (m)')
    parser.add_argument(
        '--staging-distance',
        type=float,
        default=1.0,
        help='elevator staging poses: m in front of the doors (default %(default)s)',
    )
    parser.add_argument(
        '--robot-radius',
        type=float,
        default=0.25,
        help='robot radius of the staging poses and the Open-RMF nav graphs (m, default '
        '%(default)s)',
    )
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    parser.add_argument(
        '--truth', type=Path, help='simulator ground_truth/ folder: print scores against it'
    )


def _check_arguments(args: argparse.Namespace) -> object:
    """Check every path and value before any work; returns the loaded ground truth (or None)."""
    from multifloor_slam.cli._paths import check_input_file, check_output_dir, finite_number

    if not args.bag.exists():
        raise BagError(f'bag {args.bag} does not exist')
    check_output_dir(args.out, '--out')
    if args.bag.resolve() == args.out.resolve():
        raise ConfigError(f'--out {args.out} is the bag itself; write the building elsewhere')
    finite_number('--detector-rate', args.detector_rate, low=0.0)
    if args.floor_table is not None:
        check_input_file(args.floor_table, '--floor-table')
    return _load_truth(args.truth) if args.truth else None


def _load_truth(folder: Path) -> object:
    import yaml

    from multifloor_slam.sim.ground_truth import load_ground_truth

    if not folder.is_dir():
        raise ConfigError(f'--truth {folder} is not a folder (the simulator writes ground_truth/)')
    if not (folder / 'ground_truth.yaml').is_file():
        raise ConfigError(
            f'--truth {folder} is not a simulator ground truth folder: it has no '
            'ground_truth.yaml (pass OUT_DIR/ground_truth of `multifloor-slam simulate`)'
        )
    try:
        return load_ground_truth(folder)
    except (OSError, ValueError, KeyError, IndexError, TypeError, yaml.YAMLError) as err:
        raise ConfigError(f'--truth {folder}: cannot read the ground truth: {err}') from err


def run(args: argparse.Namespace) -> int:
    """Process the bag and print the summary; 3 when only part of the bag could be read."""
    from multifloor_slam.maps.mapper import MapperParams
    from multifloor_slam.pipeline.map_stage import MapStageParams
    from multifloor_slam.pipeline.process import ProcessOptions, process_bag

    truth = _check_arguments(args)

    topics = {
        'pressure': args.pressure_topic,
        'temperature': args.temperature_topic,
        'scan': args.scan_topic,
        'pose': args.pose_topic,
        'odom': args.odom_topic,
        'image': args.image_topic,
        'elevator_state': args.elevator_state_topic,
    }
    mapper = MapperParams(initial_floor=args.initial_floor)
    if args.resolution is not None:  # 0, negative or NaN is refused, never replaced
        try:
            mapper = mapper.replace(resolution=args.resolution)
        except ConfigError as err:
            raise ConfigError(f'--resolution {args.resolution}: {err}') from err
    try:
        stage = MapStageParams(
            staging_distance_m=args.staging_distance, staging_robot_radius_m=args.robot_radius
        )
    except ConfigError as err:
        raise ConfigError(f'--staging-distance / --robot-radius: {err}') from err
    options = ProcessOptions(
        topics={k: v for k, v in topics.items() if v},
        detector=args.detector,
        detector_rate_hz=args.detector_rate,
        detector_params={'model_path': args.model, 'device': args.device, 'backend': args.backend},
        mapper_params=mapper,
        map_stage_params=stage,
        floor_table=args.floor_table,
        initial_floor=args.initial_floor,
        progress=not args.no_progress and sys.stderr.isatty(),
    )
    report = process_bag(args.bag, args.out, options)
    print(report.summary())
    print(f'report:   {Path(args.out) / "report.json"}')
    if truth is not None:
        _print_scores(report, truth)
    if report.partial:
        print(f'multifloor-slam process: warning: {report.partial_line()}', file=sys.stderr)
        return EXIT_PARTIAL
    return EXIT_OK


def _print_scores(report: object, truth: Any) -> None:
    from multifloor_slam.io.building_files import load_building
    from multifloor_slam.sim.evaluate import floor_accuracy
    from multifloor_slam.sim.map_score import score_building

    acc = floor_accuracy(report.floor_trace, report.rides, truth)  # type: ignore[attr-defined]
    print('\nagainst the ground truth:')
    print(
        f'  true floors: {" ".join(f["label"] for f in truth.floors)}; '
        f'true visits: {" -> ".join(str(v) for v in truth.meta["visits"])}'
    )
    for r, e in zip(truth.rides, report.rides, strict=False):  # type: ignore[attr-defined]
        print(f'  true ride {r["from"]} -> {r["to"]}   found {e["from_floor"]} -> {e["to_floor"]}')
    print(
        f'  rides right: {acc.rides_correct}/{acc.rides_true}, false rides: {acc.false_rides}, '
        f'parked time on the right floor: {100 * acc.parked_time_correct:.2f} %'
    )
    if acc.renumbered:
        print(f'  numbered unlike the building (estimated -> true floor): {acc.mapping}')
    building = load_building(Path(report.building_yaml))  # type: ignore[attr-defined]
    for label, sc in score_building(building, truth, acc.mapping).items():
        print(
            f'  {label:>4}: occupied IoU {sc["occupied_iou"]:.3f}, free IoU {sc["free_iou"]:.3f}, '
            f'contamination {100 * sc["contamination"]:.2f} %, '
            f'link error {sc["link_error_m"]:.2f} m'
        )
