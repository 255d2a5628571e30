"""ROS 2 node ``route_planner``: multi-floor routes through a saved building, for Nav2.

A transport shell around :class:`~multifloor_slam.navigation.routes.RoutePlanner` (the same
planner as ``multifloor-slam route``). It is its own node, not part of ``floor_localizer``:
routes are asked for now and then, planning one can take a few hundred milliseconds on first
use of a floor (masks and distance fields), and that must never delay a map switch; a robot
localized by something else than the localization mode can still ask for routes.

Subscribes: ``route/goal`` (geometry_msgs/PoseStamped; ``header.frame_id`` names the goal's
floor: a label such as ``L2`` or ``B1``, or an index; ``map`` or empty means the current floor),
``floor/current`` (Int32, transient-local) and ``amcl_pose`` (PoseWithCovarianceStamped, the
robot's pose on the current floor's map).

Publishes, all transient-local so a late consumer gets the newest route:

- ``route/plan`` (String): the route as JSON (``Route.to_dict``: legs in order, each a
  ``drive`` leg with its floor and waypoints or a ``ride`` leg with elevator, floors, boarding
  and leaving poses), or ``{"ok": false, "error": ...}`` when no route exists;
- ``route/legs`` (nav_msgs/Path, history depth :data:`MAX_LEGS`): one Path per leg in the
  order of ``legs`` in the JSON; a drive leg is its waypoints (the last pose faces the next
  ride's doors, or the goal heading), a ride leg is two poses: boarding on the start floor and
  leaving on the arrival floor, each with its staging heading (facing that floor's doors).
  Every Path is in ``frame_id`` (``map``): the floor it belongs
  to is the floor whose map the localization mode shows while the robot is there;
- ``route/path`` (nav_msgs/Path): the drive leg to follow now, the one on the current floor;
  when ``floor/current`` changes to the floor of the next drive leg, that leg replaces it. A
  Nav2 user sends it to ``FollowPath`` or its poses to ``NavigateThroughPoses``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from geometry_msgs.msg import PoseStamped, PoseWithCovarianceStamped
from nav_msgs.msg import Path
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Int32, String

from multifloor_slam.errors import ConfigError, InputDataError, RouteError
from multifloor_slam.io import ros_adapter
from multifloor_slam.io.building_files import load_building
from multifloor_slam.io.building_load import building_yaml_path
from multifloor_slam.io.ros_navigation import path_msg, planar_pose
from multifloor_slam.navigation.route_types import DriveLeg, RideLeg, Route, RouteParams
from multifloor_slam.navigation.routes import RoutePlanner, parse_floor
from multifloor_slam.nodes.common import (
    LATCHED_QOS,
    RELIABLE_QOS,
    declare_dataclass,
    spin_node,
)
from multifloor_slam.nodes.floor_localizer import LATCHED_IN_QOS

#: Most legs ``route/legs`` keeps for a late subscriber.
MAX_LEGS = 32
LEGS_QOS = QoSProfile(
    depth=MAX_LEGS,
    history=HistoryPolicy.KEEP_LAST,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
#: ``route/goal`` frame ids that mean "the floor the robot is on".
CURRENT_FLOOR_FRAMES = ('', 'map')


@dataclass(frozen=True)
class RoutePlannerNodeParams:
    """Node-level parameters (the planner's own are :class:`RouteParams`).

    Attributes:
        building_file: the saved building (building.yaml or its folder); required.
        frame_id: frame of the published paths (the shown floor's map frame).
    """

    building_file: str = ''
    frame_id: str = 'map'


class RoutePlannerNode(Node):
    """Parameters, subscriptions and publishers around a :class:`RoutePlanner`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('route_planner', **kwargs)
        self.params = declare_dataclass(self, RoutePlannerNodeParams)
        route_params = declare_dataclass(self, RouteParams)
        if not self.params.building_file:
            raise ConfigError('route_planner: building_file is required (a building.yaml)')
        path = building_yaml_path(self.params.building_file)
        self.building = load_building(path)
        self.planner = RoutePlanner(self.building, route_params)
        self.floor: int | None = None
        self.pose: tuple[float, float, float] | None = None
        self.route: Route | None = None
        self._leg = -1
        self._goal_yaw = 0.0
        self.received = {'goal': 0, 'floor': 0, 'pose': 0}
        self._pub_plan = self.create_publisher(String, 'route/plan', LATCHED_QOS)
        self._pub_legs = self.create_publisher(Path, 'route/legs', LEGS_QOS)
        self._pub_path = self.create_publisher(Path, 'route/path', LATCHED_QOS)
        self.create_subscription(PoseStamped, 'route/goal', self._on_goal, RELIABLE_QOS)
        self.create_subscription(Int32, 'floor/current', self._on_floor, LATCHED_IN_QOS)
        self.create_subscription(
            PoseWithCovarianceStamped, 'amcl_pose', self._on_pose, LATCHED_IN_QOS
        )
        self.get_logger().info(f'routes through {path}')

    def _now(self) -> float:
        return float(self.get_clock().now().nanoseconds * 1e-9)

    # ---- inputs -------------------------------------------------------------------------
    def _on_floor(self, msg: Int32) -> None:
        self.received['floor'] += 1
        floor = int(msg.data)
        if floor != self.floor:
            self.floor = floor
            self.pose = None  # the old floor's pose means nothing here
            self._advance()

    def _on_pose(self, msg: PoseWithCovarianceStamped) -> None:
        self.received['pose'] += 1
        self.pose = planar_pose(msg)

    def _on_goal(self, msg: PoseStamped) -> None:
        self.received['goal'] += 1
        frame = ros_adapter.frame_id(msg)
        gx, gy, gyaw = planar_pose(msg)
        try:
            route = self.plan(frame, (gx, gy))
        except (RouteError, InputDataError) as err:
            self.route, self._leg = None, -1
            self._pub_plan.publish(
                String(data=json.dumps({'ok': False, 'error': str(err), 'goal_frame': frame}))
            )
            self.get_logger().warning(f'no route: {err}')
            return
        self.route, self._leg, self._goal_yaw = route, -1, gyaw
        self._publish(route)

    def plan(self, frame: str, goal_xy: tuple[float, float]) -> Route:
        """The route from the robot to a goal on floor ``frame`` (RouteError when none)."""
        if self.floor is None:
            raise RouteError('no floor/current yet: the robot floor is unknown')
        if self.pose is None:
            raise RouteError('no amcl_pose on the current floor yet: the robot pose is unknown')
        if frame in CURRENT_FLOOR_FRAMES:
            goal_floor = self.floor
        else:
            goal_floor = parse_floor(self.building, frame)
        start = (self.pose[0], self.pose[1])
        return self.planner.plan(self.floor, start, goal_floor, goal_xy)

    # ---- output -------------------------------------------------------------------------
    def _publish(self, route: Route) -> None:
        t = self._now()
        data = {'ok': True, **route.to_dict()}
        self._pub_plan.publish(String(data=json.dumps(data)))
        legs = route.legs
        for i, leg in enumerate(legs[:MAX_LEGS]):
            self._pub_legs.publish(self._leg_path(leg, legs[i + 1 :], t))
        self.get_logger().info(
            f'route: {len(legs)} legs, {route.length_m:.1f} m, elevators {route.elevators}'
        )
        self._advance()

    def _leg_path(self, leg: Any, rest: list[Any], t: float) -> Path:
        frame = self.params.frame_id
        if isinstance(leg, RideLeg):
            bx, by, byaw = leg.board_pose
            lx, ly, lyaw = leg.leave_pose
            return path_msg([(bx, by), (lx, ly)], frame, t, yaws=[byaw, lyaw])
        nxt = next((r for r in rest if isinstance(r, RideLeg)), None)
        final = self._goal_yaw if nxt is None else nxt.board_pose[2]
        return path_msg(list(leg.waypoints), frame, t, final_yaw=final)

    def _advance(self) -> None:
        """Publish the next drive leg on the current floor as ``route/path``."""
        route = self.route
        if route is None or self.floor is None:
            return
        for i in range(self._leg + 1, len(route.legs)):
            leg = route.legs[i]
            if isinstance(leg, DriveLeg) and leg.floor == self.floor:
                rest = route.legs[i + 1 :]
                self._pub_path.publish(self._leg_path(leg, rest, self._now()))
                self._leg = i
                return


def main(args: list[str] | None = None) -> None:
    """Entry point of ``ros2 run multifloor_slam route_planner``."""
    spin_node(RoutePlannerNode, args)


__all__ = [
    'CURRENT_FLOOR_FRAMES',
    'MAX_LEGS',
    'RoutePlannerNode',
    'RoutePlannerNodeParams',
    'main',
]
