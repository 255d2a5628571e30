"""What a route is: its parameters, its legs, the route itself, and floor names.

Plain data with no planning (no scipy): the ROS node, the CLI and the picture read these, and
:mod:`~multifloor_slam.navigation.routes` makes them.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from multifloor_slam.errors import ConfigError, RouteError
from multifloor_slam.maps.building import Building, floor_label

#: Default robot radius (m); the same as ``free_space.ROBOT_RADIUS_M`` (checked by a test).
ROBOT_RADIUS_M = 0.25

XY = tuple[float, float]


@dataclass(frozen=True)
class RouteParams:
    """How routes are costed and how strict the start and goal checks are.

    Attributes:
        robot_radius_m: free space is eroded by this (m): the robot's centre keeps this far
            from every occupied or unknown cell.
        ride_cost_m_per_floor: cost of riding one storey, in metres of driving.
        ride_fixed_cost_m: cost of one boarding (calling the car, doors, in and out), in metres.
        start_tolerance_m: a start this close (m) to traversable space begins there (a robot
            parked against a wall); farther is an error that names the nearest traversable point.
        goal_tolerance_m: the same for the goal (less than the robot radius, so a goal in a
            wall is still refused).
        staging_tolerance_m: a staging pose this close (m) to traversable space is moved there;
            farther, the link is not used on that floor.
    """

    robot_radius_m: float = ROBOT_RADIUS_M
    ride_cost_m_per_floor: float = 3.0
    ride_fixed_cost_m: float = 15.0
    start_tolerance_m: float = 0.3
    goal_tolerance_m: float = 0.1
    staging_tolerance_m: float = 1.0

    def __post_init__(self) -> None:
        for name in (
            'robot_radius_m',
            'ride_cost_m_per_floor',
            'ride_fixed_cost_m',
            'start_tolerance_m',
            'goal_tolerance_m',
            'staging_tolerance_m',
        ):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ConfigError(f'{name} must be a finite number >= 0, got {value!r}')


@dataclass(frozen=True)
class DriveLeg:
    """Drive on one floor through ``waypoints`` ((x, y) in that floor's map frame, m)."""

    floor: int
    label: str
    waypoints: list[XY]
    length_m: float
    kind: Literal['drive'] = 'drive'


@dataclass(frozen=True)
class RideLeg:
    """Ride elevator link ``elevator`` from one floor to another (board and leave at staging)."""

    elevator: int
    from_floor: int
    to_floor: int
    from_label: str
    to_label: str
    car_xy: XY
    board_pose: tuple[float, float, float]
    leave_pose: tuple[float, float, float]
    cost: float
    kind: Literal['ride'] = 'ride'


Leg = DriveLeg | RideLeg


@dataclass(frozen=True)
class Route:
    """A route: its legs in order, the distance driven and the cost the planner minimised."""

    legs: list[Leg]
    length_m: float
    cost: float
    start: tuple[int, float, float]
    goal: tuple[int, float, float]
    elevators: list[int] = field(default_factory=list)

    @property
    def rides(self) -> list[RideLeg]:
        """The ride legs."""
        return [leg for leg in self.legs if isinstance(leg, RideLeg)]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready): floors by index and label, points in metres."""
        return {
            'start': {'floor': self.start[0], 'label': floor_label(self.start[0]),
                      'x': self.start[1], 'y': self.start[2]},
            'goal': {'floor': self.goal[0], 'label': floor_label(self.goal[0]),
                     'x': self.goal[1], 'y': self.goal[2]},
            'length_m': round(self.length_m, 3),
            'cost': round(self.cost, 3),
            'elevators': list(self.elevators),
            'legs': [_leg_dict(leg) for leg in self.legs],
        }  # fmt: skip

    def to_json(self, indent: int | None = None) -> str:
        """The route as JSON text (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(), indent=indent)


def _leg_dict(leg: Leg) -> dict[str, Any]:
    d = asdict(leg)
    if isinstance(leg, DriveLeg):
        d['waypoints'] = [[round(x, 3), round(y, 3)] for x, y in leg.waypoints]
        d['length_m'] = round(leg.length_m, 3)
    else:
        for key in ('car_xy', 'board_pose', 'leave_pose'):
            d[key] = [round(v, 4) for v in d[key]]
        d['cost'] = round(leg.cost, 3)
    return {'kind': d.pop('kind'), **d}


def parse_floor(building: Building, text: str | int) -> int:
    """A floor index from a label (``L2``, ``B1``, case-insensitive) or an index (``2``, ``-1``).

    Raises:
        RouteError: no such floor in the building (the message lists the floors there are).
    """
    by_label = {fl.label.upper(): index for index, fl in building.floors.items()}
    key = str(text).strip()
    if key.upper() in by_label:
        return by_label[key.upper()]
    try:
        index = int(key)
    except ValueError:
        index = None
    if index is not None and index in building.floors:
        return index
    known = ', '.join(fl.label for _, fl in sorted(building.floors.items())) or 'none'
    raise RouteError(f'unknown floor {key!r}: the building has {known}')


__all__ = [
    'ROBOT_RADIUS_M',
    'XY',
    'DriveLeg',
    'Leg',
    'RideLeg',
    'Route',
    'RouteParams',
    'parse_floor',
]
