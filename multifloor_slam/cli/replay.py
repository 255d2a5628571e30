"""``multifloor-slam replay BAG``: publish a recorded bag through rclpy, with /clock."""

from __future__ import annotations

import argparse

COMMAND = 'replay'
HELP = 'publish a bag (rosbag2 or ROS 1) on live ROS 2 topics with /clock, without ros2 bag'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's options."""
    parser.add_argument('bag', metavar='BAG', help='rosbag2 directory or ROS 1 .bag file')
    parser.add_argument('--rate', type=float, default=1.0, help='speed factor (default 1.0)')
    parser.add_argument('--loop', action='store_true', help='start again at the end')
    parser.add_argument('--topics', nargs='+', metavar='TOPIC', help='play only these topics')
    parser.add_argument(
        '--remap',
        nargs='+',
        action='extend',
        default=[],
        metavar='FROM:=TO',
        help='publish a bag topic under another name',
    )
    parser.add_argument('--no-clock', action='store_true', help='do not publish /clock')
    parser.add_argument('--clock-hz', type=float, default=50.0, help='/clock rate (wall Hz)')
    parser.add_argument('--delay', type=float, default=0.5, help='wait before playing (s)')
    parser.add_argument('--start', type=float, default=0.0, help='skip the first S seconds')
    parser.add_argument('--duration', type=float, default=None, help='play only S seconds')


def run(args: argparse.Namespace) -> int:
    """Play the bag until its end (or Ctrl-C when looping)."""
    import rclpy
    from rclpy.executors import ExternalShutdownException

    from multifloor_slam.io.player import BagPlayer, PlayOptions, parse_remaps

    opts = PlayOptions(
        rate=args.rate,
        loop=args.loop,
        topics=tuple(args.topics) if args.topics else None,
        remap=parse_remaps(args.remap),
        clock=not args.no_clock,
        clock_hz=args.clock_hz,
        delay_s=args.delay,
        start_s=args.start,
        duration_s=args.duration,
    )
    rclpy.init()
    node = rclpy.create_node('multifloor_replay')
    player = BagPlayer(args.bag, node, opts)
    try:
        stats = player.play()
    except (KeyboardInterrupt, ExternalShutdownException):
        stats = player.stats
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    total = sum(stats.published.values())
    print(
        f'published {total} messages on {len(stats.published)} topics, '
        f'{stats.clock_ticks} /clock ticks, {stats.loops} loops'
    )
    for topic, why in stats.skipped_topics.items():
        print(f'  skipped {topic}: {why}')
    return 0
