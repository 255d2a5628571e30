"""``multifloor-slam route BUILDING --from L0 X Y --to L2 X Y``: a route across floors."""

from __future__ import annotations

import argparse
from pathlib import Path

COMMAND = 'route'
HELP = 'plan a route between two points of a saved building (drive, ride elevators, drive)'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command line."""
    parser.add_argument(
        'building', type=Path, help='building.yaml written by process/save, or its folder'
    )
    parser.add_argument(
        '--from',
        dest='start',
        nargs=3,
        required=True,
        metavar=('FLOOR', 'X', 'Y'),
        help='start: floor label (L0, B1) or index, and x y (m) in that floor map',
    )
    parser.add_argument(
        '--to',
        dest='goal',
        nargs=3,
        required=True,
        metavar=('FLOOR', 'X', 'Y'),
        help='goal: floor label or index, and x y (m) in that floor map',
    )
    parser.add_argument(
        '--robot-radius',
        type=float,
        help='free space is eroded by this (m; default RouteParams.robot_radius_m, 0.25)',
    )
    parser.add_argument(
        '--ride-cost-per-floor',
        type=float,
        help='cost of riding one storey, in metres of driving (default 3)',
    )
    parser.add_argument(
        '--ride-fixed-cost',
        type=float,
        help='cost of one boarding: call, doors, in and out (metres of driving, default 15)',
    )
    parser.add_argument('--json', action='store_true', help='print the route as JSON')
    parser.add_argument('--png', type=Path, help='also draw the route over the floors into a PNG')
    parser.add_argument(
        '--panel-px', type=int, default=900, help='--png: largest floor panel (px)'
    )


def _point(args: list[str], what: str) -> tuple[str, float, float]:
    from multifloor_slam.errors import ConfigError

    floor, x, y = args
    try:
        return floor, float(x), float(y)
    except ValueError as err:
        raise ConfigError(f'--{what}: X and Y must be numbers (metres), got {x!r} {y!r}') from err


def describe(route: object) -> str:
    """A few readable lines: one per leg, then the totals."""
    from multifloor_slam.navigation.routes import DriveLeg, Route

    assert isinstance(route, Route)
    lines = []
    for k, leg in enumerate(route.legs, 1):
        if isinstance(leg, DriveLeg):
            (x0, y0), (x1, y1) = leg.waypoints[0], leg.waypoints[-1]
            lines.append(
                f'{k}. drive on {leg.label} from ({x0:.2f}, {y0:.2f}) to ({x1:.2f}, {y1:.2f}): '
                f'{leg.length_m:.1f} m, {len(leg.waypoints)} waypoints'
            )
        else:
            lines.append(
                f'{k}. ride elevator E{leg.elevator} from {leg.from_label} to {leg.to_label} '
                f'(board at ({leg.board_pose[0]:.2f}, {leg.board_pose[1]:.2f}), leave at '
                f'({leg.leave_pose[0]:.2f}, {leg.leave_pose[1]:.2f}))'
            )
    lines.append(f'driven {route.length_m:.1f} m, cost {route.cost:.1f} m')
    return '\n'.join(lines)


def run(args: argparse.Namespace) -> int:
    """Load the building, plan, print (and draw) the route."""
    from multifloor_slam.errors import ConfigError
    from multifloor_slam.io.building_files import load_building
    from multifloor_slam.navigation.routes import RouteParams, RoutePlanner, parse_floor

    if args.panel_px < 1:
        raise ConfigError(f'--panel-px must be >= 1, not {args.panel_px}')
    start = _point(args.start, 'from')
    goal = _point(args.goal, 'to')
    given = {
        'robot_radius_m': args.robot_radius,
        'ride_cost_m_per_floor': args.ride_cost_per_floor,
        'ride_fixed_cost_m': args.ride_fixed_cost,
    }
    params = RouteParams(**{k: v for k, v in given.items() if v is not None})
    building = load_building(args.building)
    sf, gf = parse_floor(building, start[0]), parse_floor(building, goal[0])
    route = RoutePlanner(building, params).plan(sf, start[1:], gf, goal[1:])
    if args.png is not None:
        from multifloor_slam.io.atomic_file import write_atomic
        from multifloor_slam.io.building_render import encode_png, render_route

        img = render_route(building, route, args.panel_px)
        write_atomic(args.png, encode_png(img, str(args.png)))
    print(route.to_json(indent=2) if args.json else describe(route))
    return 0
