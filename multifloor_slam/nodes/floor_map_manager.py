"""``floor_map_manager``: one occupancy map per floor, joined by elevator links.

Thin rclpy wrapper around :class:`multifloor_slam.maps.mapper.BuildingMapper`: messages are
turned into floats and arrays, the mapper does the work, and the layers are published as
``floors/<label>/map`` (transient local, origin z = floor elevation, so RViz stacks the floors),
``floor_map/current`` and ``elevator/links`` (a MarkerArray: shafts and labels).

Event stamps. ``floor/current``, ``floor/riding``, ``floor/altitude`` and ``elevator/state`` carry
no header; their time is the newest scan or pose stamp received (the node clock before any), so
live runs, ``use_sim_time`` replays and replays without ``/clock`` all order events and scans the
same way.

TF (``use_tf: true``) looks the robot pose up with ``tf2_ros`` at each scan's stamp instead of
subscribing to ``pose``; ``tf2_ros`` is imported lazily and is not installable where this package
is tested, so that path is untested here.
"""

from __future__ import annotations

import array
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from geometry_msgs.msg import Point, PoseStamped, PoseWithCovarianceStamped
from nav_msgs.msg import OccupancyGrid, Odometry
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import LaserScan
from std_msgs.msg import Bool, Float64, Int32, String
from std_srvs.srv import Trigger
from visualization_msgs.msg import Marker, MarkerArray

from multifloor_slam.maps.mapper import BuildingMapper, MapperParams, floor_label
from multifloor_slam.errors import ConfigError, MapFileError, MultifloorError
from multifloor_slam.nodes.common import (
    LATCHED_QOS,
    SENSOR_QOS,
    declare_dataclass,
    sensor_qos,
    spin_node,
    stamp_to_sec,
)

POSE_TYPES = {
    'pose_with_covariance': PoseWithCovarianceStamped,
    'pose_stamped': PoseStamped,
    'odometry': Odometry,
}
#: Floor-estimator and detector outputs: reliable and volatile, which matches both latched and
#: plain reliable publishers.
EVENT_QOS = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)


@dataclass(frozen=True)
class FloorMapManagerParams:
    """Node-level parameters (the mapper's own are :class:`MapperParams`).

    Attributes:
        pose_type: message type on ``pose``: pose_with_covariance | pose_stamped | odometry.
        use_tf: take the robot pose from TF (tf2_ros) instead of the ``pose`` topic.
        tf_map_frame: SLAM map frame for the TF lookup.
        tf_base_frame: robot frame for the TF lookup.
        frame_id: frame of the published floor maps.
        publish_period_s: how often changed maps and links are republished.
        output_dir: where ``~/save_building``, autosave and shutdown write ('' = nowhere).
        building_file: a ``building.yaml`` to continue from at start ('' = new building).
        autosave_period_s: save every this many seconds (0 = off; needs output_dir).
        save_on_shutdown: save when the node closes (needs output_dir).
    """

    pose_type: str = 'pose_with_covariance'
    use_tf: bool = False
    tf_map_frame: str = 'map'
    tf_base_frame: str = 'base_link'
    frame_id: str = 'map'
    publish_period_s: float = 1.0
    output_dir: str = ''
    building_file: str = ''
    autosave_period_s: float = 0.0
    save_on_shutdown: bool = True

    def __post_init__(self) -> None:
        if self.pose_type not in POSE_TYPES:
            raise ConfigError(
                f'pose_type must be one of {sorted(POSE_TYPES)}, not {self.pose_type!r}'
            )
        if not self.publish_period_s > 0:
            raise ConfigError(f'publish_period_s must be > 0, got {self.publish_period_s}')
        if self.autosave_period_s < 0:
            raise ConfigError(f'autosave_period_s must be >= 0, got {self.autosave_period_s}')
        if not self.frame_id:
            raise ConfigError('frame_id must not be empty')


NODE_DESCRIPTIONS = {
    'pose_type': 'type on `pose`: pose_with_covariance | pose_stamped | odometry',
    'use_tf': 'robot pose from TF (tf2_ros) instead of the pose topic',
    'tf_map_frame': 'SLAM map frame for the TF lookup',
    'tf_base_frame': 'robot base frame for the TF lookup',
    'frame_id': 'frame_id of the published floor maps',
    'publish_period_s': 'republish changed maps and links this often (s)',
    'output_dir': 'directory for ~/save_building, autosave and shutdown saves',
    'building_file': 'building.yaml to continue from at start',
    'autosave_period_s': 'autosave period (s), 0 = off',
    'save_on_shutdown': 'save the building when the node closes',
}
MAPPER_DESCRIPTIONS = {
    'resolution': 'cell size (m)',
    'map_source': "'scan' integrates scans, 'slam_map' copies the SLAM map per floor",
    'floor_settle_s': 'wait after a floor change before mapping (s)',
    'anchor_yaw': "'departure' (robot keeps heading in the car) or 'slam'",
    'icp_enabled': 'align floor revisits to the existing layer with ICP',
    'icp_reject': "rejected ICP fit: 'anchor' (merge with anchor) or 'skip' (drop the visit)",
    'link_cluster_m': 'departures closer than this to a link are the same elevator (m)',
    'initial_floor': 'floor index until floor/current says otherwise',
}


def _yaw(q: Any) -> float:
    return math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))


class FloorMapManagerNode(Node):
    """Per-floor occupancy layers from scans and SLAM poses, split at elevator rides."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('floor_map_manager', **kwargs)
        self.cfg = declare_dataclass(self, FloorMapManagerParams, NODE_DESCRIPTIONS)
        mapper_params = declare_dataclass(self, MapperParams, MAPPER_DESCRIPTIONS)
        self.mapper = self._start_mapper(mapper_params)
        self._data_t: float | None = None
        self.bad_inputs = 0
        #: messages received per input (diagnostics; the tests wait on it)
        self.received = dict.fromkeys(
            ('scan', 'pose', 'map', 'floor', 'riding', 'altitude', 'elevator'), 0
        )
        self._grid_pubs: dict[int, Any] = {}
        self._published: dict[int, tuple[int, float]] = {}
        self._current_key: tuple[int, int, float] | None = None
        self._links_key: Any = None
        self._tf_buffer: Any = None
        self._tf_listener: Any = None

        self.create_subscription(LaserScan, 'scan', self._on_scan, SENSOR_QOS)
        if self.cfg.use_tf:
            self._setup_tf()
        if self._tf_buffer is None:
            msg_type = POSE_TYPES[self.cfg.pose_type]
            self.create_subscription(msg_type, 'pose', self._on_pose, sensor_qos(50))
        if mapper_params.map_source == 'slam_map':
            map_qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
            self.create_subscription(OccupancyGrid, 'map', self._on_map, map_qos)
        self.create_subscription(Int32, 'floor/current', self._on_floor, EVENT_QOS)
        self.create_subscription(Bool, 'floor/riding', self._on_riding, EVENT_QOS)
        self.create_subscription(Float64, 'floor/altitude', self._on_altitude, EVENT_QOS)
        self.create_subscription(String, 'elevator/state', self._on_elevator, EVENT_QOS)

        self._current_pub = self.create_publisher(OccupancyGrid, 'floor_map/current', LATCHED_QOS)
        self._links_pub = self.create_publisher(MarkerArray, 'elevator/links', LATCHED_QOS)
        self.create_service(Trigger, '~/save_building', self._on_save)
        self.create_timer(self.cfg.publish_period_s, self.publish_maps)
        if self.cfg.autosave_period_s > 0 and self.cfg.output_dir:
            self.create_timer(self.cfg.autosave_period_s, self._autosave)
        self.publish_maps()

    # ---- set-up -------------------------------------------------------------------------------
    def _start_mapper(self, params: MapperParams) -> BuildingMapper:
        path = self.cfg.building_file
        if path:
            p = Path(path).expanduser()
            if p.is_dir():
                p = p / 'building.yaml'
            if p.is_file():
                mapper = BuildingMapper.load(p, params)
                self.get_logger().info(
                    f'continuing building {p} with floors '
                    f'{[fl.label for _, fl in sorted(mapper.floors.items())]}'
                )
                return mapper
            self.get_logger().warning(f'building_file {p} does not exist yet: new building')
        return BuildingMapper(params)

    def _setup_tf(self) -> None:
        try:
            import tf2_ros
        except ImportError:
            self.get_logger().warning('use_tf is set but tf2_ros is not importable: using `pose`')
            return
        self._tf_buffer = tf2_ros.Buffer()
        self._tf_listener = tf2_ros.TransformListener(self._tf_buffer, self)

    # ---- inputs -------------------------------------------------------------------------------
    def _event_t(self) -> float:
        if self._data_t is not None:
            return self._data_t
        return self.get_clock().now().nanoseconds * 1e-9

    def _seen(self, t: float) -> None:
        if self._data_t is None or t > self._data_t:
            self._data_t = t

    def _bad(self, what: str) -> None:
        self.bad_inputs += 1
        self.get_logger().warning(
            f'ignored bad input ({what}); {self.bad_inputs} so far', throttle_duration_sec=10.0
        )

    def _on_scan(self, msg: LaserScan) -> None:
        self.received['scan'] += 1
        t = stamp_to_sec(msg.header.stamp)
        if self._tf_buffer is not None:
            self._pose_from_tf(msg)
        self._seen(t)
        ranges = np.frombuffer(msg.ranges, np.float32) if len(msg.ranges) else np.zeros(0)
        if ranges.size < 2:
            self._bad('scan with fewer than 2 beams')
            return
        self.mapper.add_scan(
            t, ranges, msg.angle_min, msg.angle_increment, msg.range_min, msg.range_max
        )

    def _pose_from_tf(self, msg: LaserScan) -> None:
        from rclpy.time import Time

        try:
            tf = self._tf_buffer.lookup_transform(
                self.cfg.tf_map_frame, self.cfg.tf_base_frame, Time.from_msg(msg.header.stamp)
            )
        except Exception as err:  # tf2 raises several unrelated exception types
            self._bad(f'TF lookup: {err}')
            return
        tr = tf.transform
        self.mapper.add_pose(
            stamp_to_sec(msg.header.stamp), tr.translation.x, tr.translation.y, _yaw(tr.rotation)
        )

    def _on_pose(self, msg: Any) -> None:
        self.received['pose'] += 1
        t = stamp_to_sec(msg.header.stamp)
        pose = msg.pose if isinstance(msg, PoseStamped) else msg.pose.pose
        x, y = pose.position.x, pose.position.y
        yaw = _yaw(pose.orientation)
        if not all(math.isfinite(v) for v in (x, y, yaw)):
            self._bad('non-finite pose')
            return
        self._seen(t)
        self.mapper.add_pose(t, x, y, yaw)

    def _on_map(self, msg: OccupancyGrid) -> None:
        self.received['map'] += 1
        info = msg.info
        if info.width * info.height != len(msg.data) or not info.resolution > 0:
            self._bad('map size does not match its data')
            return
        grid = np.frombuffer(msg.data, np.int8).reshape(info.height, info.width)
        o = info.origin
        self.mapper.add_slam_map(
            stamp_to_sec(msg.header.stamp) or self._event_t(),
            grid,
            info.resolution,
            (o.position.x, o.position.y, _yaw(o.orientation)),
        )

    def _on_floor(self, msg: Int32) -> None:
        self.received['floor'] += 1
        self.mapper.set_floor(self._event_t(), int(msg.data))

    def _on_riding(self, msg: Bool) -> None:
        self.received['riding'] += 1
        self.mapper.set_riding(self._event_t(), bool(msg.data))

    def _on_altitude(self, msg: Float64) -> None:
        self.received['altitude'] += 1
        self.mapper.add_altitude(self._event_t(), float(msg.data))

    def _on_elevator(self, msg: String) -> None:
        self.received['elevator'] += 1
        text = msg.data.strip()
        state, confidence = text, 1.0
        if text.startswith('{'):
            try:
                data = json.loads(text)
                state = str(data.get('state', data.get('label', 'none')))
                confidence = float(data.get('confidence', 1.0))
            except (ValueError, TypeError, AttributeError):
                self._bad('elevator/state is not valid JSON')
                return
        self.mapper.set_elevator_state(self._event_t(), state, confidence)

    # ---- outputs ------------------------------------------------------------------------------
    def _grid_msg(self, index: int) -> OccupancyGrid:
        fl = self.mapper.floors[index]
        layer = fl.layer
        msg = OccupancyGrid()
        msg.header.frame_id = self.cfg.frame_id
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.info.map_load_time = msg.header.stamp
        msg.info.resolution = float(layer.resolution)
        h, w = layer.shape
        msg.info.width, msg.info.height = int(w), int(h)
        ox, oy = layer.origin_xy
        msg.info.origin.position.x = float(ox)
        msg.info.origin.position.y = float(oy)
        msg.info.origin.position.z = float(fl.elevation_m)
        msg.info.origin.orientation.w = 1.0
        msg.data = array.array('b', layer.trinary().tobytes())
        return msg

    def publish_maps(self) -> None:
        """Publish every floor map that changed, the current floor's map and the links."""
        current = self.mapper.current_floor
        for index, fl in sorted(self.mapper.floors.items()):
            key = (fl.layer.version, round(fl.elevation_m, 3))
            if self._published.get(index) == key and index != current:
                continue
            msg = None
            if self._published.get(index) != key:
                pub = self._grid_pubs.get(index)
                if pub is None:
                    topic = f'floors/{floor_label(index)}/map'
                    pub = self.create_publisher(OccupancyGrid, topic, LATCHED_QOS)
                    self._grid_pubs[index] = pub
                msg = self._grid_msg(index)
                pub.publish(msg)
                self._published[index] = key
            if index == current and self._current_key != (index, *key):
                self._current_pub.publish(msg or self._grid_msg(index))
                self._current_key = (index, *key)
        links_key = [(lk.id, sorted(lk.positions.items())) for lk in self.mapper.links]
        links_key.append(
            sorted((i, round(f.elevation_m, 3)) for i, f in self.mapper.floors.items())
        )
        if links_key != self._links_key:
            self._links_pub.publish(self._links_msg())
            self._links_key = links_key

    def _links_msg(self) -> MarkerArray:
        out = MarkerArray()
        stamp = self.get_clock().now().to_msg()
        clear = Marker()
        clear.header.frame_id = self.cfg.frame_id
        clear.action = Marker.DELETEALL
        out.markers.append(clear)
        elev = {i: fl.elevation_m for i, fl in self.mapper.floors.items()}
        for link in self.mapper.links:
            floors = [f for f in link.floors if f in elev]
            shaft = Marker()
            shaft.header.frame_id = self.cfg.frame_id
            shaft.header.stamp = stamp
            shaft.ns = 'elevator_shafts'
            shaft.id = link.id
            shaft.type = Marker.LINE_STRIP
            shaft.action = Marker.ADD
            shaft.pose.orientation.w = 1.0
            shaft.scale.x = 0.15
            shaft.color.r, shaft.color.g, shaft.color.b, shaft.color.a = 0.1, 0.4, 1.0, 0.9
            for f in floors:
                x, y = link.positions[f]
                shaft.points.append(Point(x=float(x), y=float(y), z=float(elev[f])))
            if len(shaft.points) >= 2:
                out.markers.append(shaft)
            for f in floors:
                x, y = link.positions[f]
                text = Marker()
                text.header.frame_id = self.cfg.frame_id
                text.header.stamp = stamp
                text.ns = 'elevator_labels'
                text.id = link.id * 1000 + (f % 1000)
                text.type = Marker.TEXT_VIEW_FACING
                text.action = Marker.ADD
                text.pose.position.x, text.pose.position.y = float(x), float(y)
                text.pose.position.z = float(elev[f]) + 0.6
                text.pose.orientation.w = 1.0
                text.scale.z = 0.5
                text.color.r = text.color.g = text.color.b = text.color.a = 1.0
                text.text = f'E{link.id} {floor_label(f)}'
                out.markers.append(text)
        return out

    # ---- saving -------------------------------------------------------------------------------
    def save(self) -> Path:
        """Save the building to ``output_dir`` (raises MultifloorError on failure)."""
        if not self.cfg.output_dir:
            raise ConfigError('output_dir is not set')
        return self.mapper.save(Path(self.cfg.output_dir).expanduser())

    def _on_save(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        del request
        try:
            path = self.save()
        except MultifloorError as err:
            response.success, response.message = False, str(err)
            self.get_logger().error(f'save_building failed: {err}')
        else:
            response.success, response.message = True, str(path)
        return response

    def _autosave(self) -> None:
        try:
            self.save()
        except MultifloorError as err:
            self.get_logger().error(f'autosave failed: {err}', throttle_duration_sec=60.0)

    def close(self) -> None:
        """Save on shutdown (when configured); called by spin_node and the tests' executor."""
        self.mapper.flush()
        if self.cfg.save_on_shutdown and self.cfg.output_dir and self.mapper.floors:
            try:
                self.save()
            except (MapFileError, ConfigError) as err:
                self.get_logger().error(f'saving on shutdown failed: {err}')


def main(args: list[str] | None = None) -> None:
    """Entry point of ``ros2 run multifloor_slam floor_map_manager``."""
    spin_node(FloorMapManagerNode, args)


__all__ = ['FloorMapManagerNode', 'FloorMapManagerParams', 'main']
