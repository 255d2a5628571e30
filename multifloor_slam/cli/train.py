"""``multifloor-slam train``: generate elevator scenes and train the detector (or fine-tune it)."""

from __future__ import annotations

import argparse

COMMAND = 'train'
HELP = 'train the elevator detector on generated scenes, the real/synthetic mix, or your photos'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's options."""
    parser.add_argument(
        '--out', required=True, help='working directory for data set, run, weights'
    )
    parser.add_argument('--images', type=int, default=2000, help='generated images (default 2000)')
    parser.add_argument('--epochs', type=int, default=30, help='epochs (default 30)')
    parser.add_argument(
        '--time', type=float, default=0.0, help='hours of training; overrides --epochs (default 0)'
    )
    parser.add_argument('--imgsz', type=int, default=320, help='image size (default 320)')
    parser.add_argument('--seed', type=int, default=0, help='data and training seed (default 0)')
    parser.add_argument('--batch', type=int, default=16, help='batch size (default 16)')
    parser.add_argument('--workers', type=int, default=0, help='data-loader workers (default 0)')
    parser.add_argument('--device', default='cpu', help="'cpu' or 'cuda:0' (default cpu)")
    parser.add_argument(
        '--threads',
        type=int,
        default=0,
        help="torch CPU threads (default 0: Ultralytics' choice, cores - 1, at most 8)",
    )
    parser.add_argument(
        '--data', default='', help='your YOLO data YAML instead of generated scenes'
    )
    parser.add_argument('--weights', default='', help='start from these weights (fine-tuning)')
    parser.add_argument(
        '--model-yaml', default='', help='network YAML (default models/elevator_yolo.yaml)'
    )
    parser.add_argument(
        '--panels', default='', help='real panel photos (elevator-panels/); with --doors: real mix'
    )
    parser.add_argument('--doors', default='', help='real ordinary-door photos (ordinary-doors/)')
    parser.add_argument(
        '--mix-scale',
        type=float,
        default=1.0,
        help='scale every image count of the mix (default 1)',
    )
    parser.add_argument(
        '--hall-repeat',
        type=int,
        default=3,
        help='copies of each hall-call panel photo in the mix (default 3)',
    )
    parser.add_argument(
        '--synthetic-scenes',
        type=int,
        default=0,
        help="fully drawn scenes (the simulator camera's artwork) in the mix (default 0)",
    )
    parser.add_argument(
        '--noise-images',
        type=int,
        default=50,
        help='noise images (nothing to detect) in the mix (default 50)',
    )
    parser.add_argument(
        '--close-ups',
        type=float,
        default=0.0,
        help='share of drawn landings framed on one door from close by (default 0)',
    )


def run(args: argparse.Namespace) -> int:
    """Train; prints the path of the final weights."""
    from pathlib import Path

    from multifloor_slam.cli._paths import check_output_dir
    from multifloor_slam.elevators.train import TrainParams, train

    check_output_dir(Path(args.out), '--out')
    params = TrainParams(
        out_dir=args.out,
        images=args.images,
        epochs=args.epochs,
        time_h=args.time,
        imgsz=args.imgsz,
        seed=args.seed,
        batch=args.batch,
        workers=args.workers,
        device=args.device,
        threads=args.threads,
        data=args.data,
        weights=args.weights,
        model_yaml=args.model_yaml,
        panels=args.panels,
        doors=args.doors,
        mix_scale=args.mix_scale,
        hall_repeat=args.hall_repeat,
        synthetic_scenes=args.synthetic_scenes,
        noise_images=args.noise_images,
        close_ups=args.close_ups,
    )
    print(train(params))
    return 0
