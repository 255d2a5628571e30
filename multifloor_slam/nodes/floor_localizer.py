"""ROS 2 node ``floor_localizer``: localization mode, one floor's map at a time for Nav2/AMCL.

A transport shell around :class:`~multifloor_slam.navigation.localization.FloorLocalizer`. It
loads a saved building read-only (``building_file``: building.yaml or its folder) and follows
the floor estimator (started with the same building, ``floor_estimator building_file:=...``,
so the floor indices are the building's).

Subscribes: ``floor/current`` (Int32) and ``floor/riding`` (Bool), transient-local;
``odom`` (nav_msgs/Odometry, its frame is continuous through rides); ``amcl_pose``
(PoseWithCovarianceStamped, the localizer's pose on the shown map, transient-local as AMCL
publishes it).

Publishes: ``map`` (OccupancyGrid, transient-local, frame ``frame_id``, the map_server
conventions: 0 free / 100 occupied / -1 unknown, origin z 0), ``floor/label`` (String,
transient-local: the shown floor's label) and ``initialpose`` (PoseWithCovarianceStamped,
reliable) on every arrival, after the map. AMCL needs ``first_map_only: false`` (see
``config/nav2_multifloor.yaml`` and ``docs/navigation.md``). Every floor's map message is built
at start, so a switch only restamps and publishes it inside the callback that decided it.

Headerless floor events are timed by the newest odometry stamp (the node clock before any), as
the map stage times them by its data clock; without odometry a timer ticks the localizer on the
node clock so ``leave_timeout_s`` still ends an episode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from geometry_msgs.msg import PoseWithCovarianceStamped
from nav_msgs.msg import OccupancyGrid, Odometry
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Bool, Int32, String

from multifloor_slam.errors import ConfigError
from multifloor_slam.io import ros_adapter
from multifloor_slam.io.building_files import load_building
from multifloor_slam.io.building_load import building_yaml_path
from multifloor_slam.io.ros_navigation import (
    initial_pose_msg,
    nav2_map,
    planar_pose,
    pose_variances,
    restamp,
)
from multifloor_slam.navigation.localization import FloorLocalizer, LocalizerParams, Switch
from multifloor_slam.nodes.common import (
    LATCHED_QOS,
    RELIABLE_QOS,
    declare_dataclass,
    sensor_qos,
    spin_node,
)

#: Latched inputs: transient-local so a late start still gets the floor; depth for bursts.
LATCHED_IN_QOS = QoSProfile(
    depth=10,
    history=HistoryPolicy.KEEP_LAST,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)


@dataclass(frozen=True)
class FloorLocalizerNodeParams:
    """Node-level parameters (the decisions' own are :class:`LocalizerParams`).

    Attributes:
        building_file: the saved building to navigate (building.yaml or its folder); required.
        frame_id: frame of the published map and initial pose (AMCL's ``global_frame_id``).
        publish_initial_pose: publish ``initialpose`` on arrival (false: only switch maps).
        tick_period_s: timer period that advances time when no odometry arrives.
    """

    building_file: str = ''
    frame_id: str = 'map'
    publish_initial_pose: bool = True
    tick_period_s: float = 0.1


class FloorLocalizerNode(Node):
    """Parameters, subscriptions and publishers around a :class:`FloorLocalizer`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('floor_localizer', **kwargs)
        node_params = declare_dataclass(self, FloorLocalizerNodeParams)
        params = declare_dataclass(self, LocalizerParams)
        if not node_params.building_file:
            raise ConfigError('floor_localizer: building_file is required (a building.yaml)')
        path = building_yaml_path(node_params.building_file)
        building = load_building(path)
        self.params = node_params
        self.localizer = FloorLocalizer(building, params)
        self._maps: dict[int, OccupancyGrid] = {
            i: nav2_map(fl, node_params.frame_id, 0.0) for i, fl in building.floors.items()
        }
        self._pub_map = self.create_publisher(OccupancyGrid, 'map', LATCHED_QOS)
        self._pub_label = self.create_publisher(String, 'floor/label', LATCHED_QOS)
        self._pub_pose = self.create_publisher(
            PoseWithCovarianceStamped, 'initialpose', RELIABLE_QOS
        )
        self.received = {'floor': 0, 'riding': 0, 'odom': 0, 'pose': 0}
        self.bad_messages = 0
        self._data_t: float | None = None
        self._warned_floors: set[int] = set()
        self.create_subscription(Int32, 'floor/current', self._on_floor, LATCHED_IN_QOS)
        self.create_subscription(Bool, 'floor/riding', self._on_riding, LATCHED_IN_QOS)
        self.create_subscription(Odometry, 'odom', self._on_odom, sensor_qos(50))
        self.create_subscription(
            PoseWithCovarianceStamped, 'amcl_pose', self._on_pose, LATCHED_IN_QOS
        )
        self.create_timer(node_params.tick_period_s, self._on_tick)
        labels = [self.localizer.label(i) for i in sorted(building.floors)]
        self.get_logger().info(f'localization mode on {path}: floors {labels}')

    # ---- time ---------------------------------------------------------------------------
    def _now(self) -> float:
        return float(self.get_clock().now().nanoseconds * 1e-9)

    def _event_t(self) -> float:
        return self._data_t if self._data_t is not None else self._now()

    def _advance(self, t: float) -> None:
        self._data_t = t if self._data_t is None else max(self._data_t, t)

    # ---- callbacks ----------------------------------------------------------------------
    def _on_floor(self, msg: Int32) -> None:
        self.received['floor'] += 1
        floor = int(msg.data)
        self._apply(self.localizer.on_floor(self._event_t(), floor))
        if floor in self.localizer.unknown_floors and floor not in self._warned_floors:
            self._warned_floors.add(floor)
            self.get_logger().warning(
                f'floor {floor} has no map in the building; the shown map stays'
            )

    def _on_riding(self, msg: Bool) -> None:
        self.received['riding'] += 1
        self._apply(self.localizer.on_riding(self._event_t(), bool(msg.data)))

    def _on_odom(self, msg: Odometry) -> None:
        self.received['odom'] += 1
        rec = ros_adapter.pose_record(msg, self._now())
        self._advance(rec.t)
        self._apply(self.localizer.on_odom(rec.t, rec.x, rec.y, rec.yaw))

    def _on_pose(self, msg: PoseWithCovarianceStamped) -> None:
        self.received['pose'] += 1
        t = ros_adapter.message_time(msg, self._now())
        if ros_adapter.frame_id(msg) not in ('', self.params.frame_id):
            self.bad_messages += 1
            return
        var_xy, var_yaw = pose_variances(msg)
        self.localizer.on_pose(t, *planar_pose(msg), var_xy, var_yaw)

    def _on_tick(self) -> None:
        if self.received['odom'] == 0:
            self._apply(self.localizer.tick(self._now()))

    # ---- output -------------------------------------------------------------------------
    def _apply(self, switch: Switch | None) -> None:
        """Publish a switch: the map first (AMCL swaps maps), then label and initial pose."""
        if switch is None:
            return
        t = switch.t
        self._pub_map.publish(restamp(self._maps[switch.floor], t))
        self._pub_label.publish(String(data=self.localizer.label(switch.floor)))
        pose = switch.initial_pose
        if pose is not None and self.params.publish_initial_pose:
            self._pub_pose.publish(initial_pose_msg(pose, self.params.frame_id))
        where = (
            f' at ({pose.x:.2f}, {pose.y:.2f}, {pose.yaw:.2f}) '
            f'+-{pose.sigma_xy:.2f} m, +-{pose.sigma_yaw:.2f} rad'
            if pose is not None
            else ''
        )
        self.get_logger().info(
            f'showing {self.localizer.label(switch.floor)} ({switch.reason}){where}'
        )


def main(args: list[str] | None = None) -> None:
    """Entry point of ``ros2 run multifloor_slam floor_localizer``."""
    spin_node(FloorLocalizerNode, args)


__all__ = ['LATCHED_IN_QOS', 'FloorLocalizerNode', 'FloorLocalizerNodeParams', 'main']
