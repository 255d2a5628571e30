"""``floor_map_manager``: one occupancy map per floor, joined by elevator links.

A transport shell around :class:`~multifloor_slam.pipeline.map_stage.MapStage`, the stage
``process`` runs too: messages become records (:mod:`multifloor_slam.io.ros_adapter`), the stage
and its :class:`~multifloor_slam.maps.mapper.BuildingMapper` do the work, and the layers are
published as ``floors/<label>/map`` (transient local, origin z = floor elevation, so RViz stacks
the floors), ``floor_map/current`` and ``elevator/links`` (a MarkerArray: shafts and labels).

Latched inputs (``floor/current``, ``floor/riding``, ``floor/table``) are subscribed
transient-local, so a node started after the floor estimator still learns the current floor.
How headerless events are timed is the map stage's decision (see its module docstring).

Saving: ``~/save_building``, every ``autosave_period_s`` of wall time (60 s by default; skipped
when nothing changed) and on shutdown (SIGINT, SIGTERM or SIGHUP through ``main`` or
``multifloor-slam run``). ``building_file`` continues a saved building: its layers, links,
floor table, and the floor and SLAM frame the robot was on (see the map stage).

Bad input (a message the adapter cannot convert, a refused floor index, scans or poses the
mapper refuses) is counted and logged per kind, each kind with its own throttle
(:class:`~multifloor_slam.pipeline.bad_input.BadInputLog`); no message stops the node.

TF (``use_tf: true``) looks the robot pose up with ``tf2_ros`` at each scan's stamp instead of
subscribing to ``pose``; ``tf2_ros`` is imported lazily and is not installable where this package
is tested, so that path is untested here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geometry_msgs.msg import PoseStamped, PoseWithCovarianceStamped
from nav_msgs.msg import OccupancyGrid, Odometry
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import LaserScan
from std_msgs.msg import Bool, Float64, Int32, String
from std_srvs.srv import Trigger
from visualization_msgs.msg import MarkerArray

from multifloor_slam.errors import ConfigError, InputDataError, MultifloorError
from multifloor_slam.io import ros_adapter
from multifloor_slam.io.building_files import load_building
from multifloor_slam.io.building_load import building_yaml_path
from multifloor_slam.io.ros_messages import link_markers, occupancy_grid
from multifloor_slam.maps.mapper import BuildingMapper, MapperParams, floor_label
from multifloor_slam.nodes.common import (
    LATCHED_QOS,
    SENSOR_QOS,
    declare_dataclass,
    sensor_qos,
    spin_node,
)
from multifloor_slam.pipeline.bad_input import BadInputLog, reason_key
from multifloor_slam.pipeline.map_stage import MapStage, MapStageParams

POSE_TYPES = {
    'pose_with_covariance': PoseWithCovarianceStamped,
    'pose_stamped': PoseStamped,
    'odometry': Odometry,
}
#: Frequent estimator and detector outputs: reliable and volatile, which matches both latched
#: and plain reliable publishers.
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
        building_file: a ``building.yaml`` (or its folder) to continue from at start ('' or a
            missing file = new building).
        autosave_period_s: save every this many seconds of wall time when something changed
            (0 = off; needs output_dir). A save of a few floors takes well under a second, so
            60 s costs about 1 % of a core and bounds what a power cut or SIGKILL loses.
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
    autosave_period_s: float = 60.0
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


class FloorMapManagerNode(Node):
    """Parameters, subscriptions, publishers and saving around a :class:`MapStage`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('floor_map_manager', **kwargs)
        self.cfg = declare_dataclass(self, FloorMapManagerParams)
        mapper_params = declare_dataclass(self, MapperParams)
        stage_params = declare_dataclass(self, MapStageParams)
        self.stage = MapStage(self._start_mapper(mapper_params), stage_params)
        if self.stage.resume is not None:
            floor, pose = self.stage.resume
            where = 'SLAM frame as saved' if pose is not None else 'SLAM frame unknown: ICP'
            self.get_logger().info(f'resuming on {floor_label(floor)} ({where})')
        #: messages refused at the adapter or by an error in the stage
        self.bad_inputs = 0
        #: refused input by kind (adapter, stage and mapper counters), per-kind throttled warnings
        self.bad_input = BadInputLog()
        self._saved_key: Any = None
        #: autosaves written (diagnostics; the tests read it)
        self.autosaves = 0
        self._noticed: set[str] = set()
        #: messages received per input (diagnostics; the tests wait on it)
        self.received: dict[str, int] = {}
        self._grid_pubs: dict[int, Any] = {}
        self._published: dict[int, tuple[int, int, float]] = {}
        self._current_key: tuple[int, int, int, float] | None = None
        self._links_key: Any = None
        self._tf_buffer: Any = None
        self._tf_listener: Any = None

        self._subscribe('scan', LaserScan, 'scan', SENSOR_QOS)
        if self.cfg.use_tf:
            self._setup_tf()
        if self._tf_buffer is None:
            self._subscribe('pose', POSE_TYPES[self.cfg.pose_type], 'pose', sensor_qos(50))
        if mapper_params.anchor_yaw == 'odom':
            # nav_msgs/Odometry on `odom`: its heading is continuous through rides
            self._subscribe('odom', Odometry, 'odom', sensor_qos(50))
        if mapper_params.map_source == 'slam_map':
            map_qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
            self._subscribe('slam_map', OccupancyGrid, 'map', map_qos)
        self._subscribe('floor', Int32, 'floor/current', LATCHED_QOS)
        self._subscribe('riding', Bool, 'floor/riding', LATCHED_QOS)
        self._subscribe('floor_table', String, 'floor/table', LATCHED_QOS)
        self._subscribe('altitude', Float64, 'floor/altitude', EVENT_QOS)
        self._subscribe('elevator_state', String, 'elevator/state', EVENT_QOS)

        self._current_pub = self.create_publisher(OccupancyGrid, 'floor_map/current', LATCHED_QOS)
        self._links_pub = self.create_publisher(MarkerArray, 'elevator/links', LATCHED_QOS)
        self.create_service(Trigger, '~/save_building', self._on_save)
        self.create_timer(self.cfg.publish_period_s, self._tick)
        if self.cfg.autosave_period_s > 0 and self.cfg.output_dir:
            # Wall time: a replay at 4x or a paused /clock must not change how much a crash loses.
            from rclpy.clock import Clock, ClockType

            steady = Clock(clock_type=ClockType.STEADY_TIME)
            self.create_timer(self.cfg.autosave_period_s, self._autosave, clock=steady)
        self._saved_key = self._content_key()  # a loaded building needs no save until it changes
        self.publish_maps()

    @property
    def mapper(self) -> BuildingMapper:
        """The stage's mapper (its floors, links and statistics)."""
        return self.stage.mapper

    # ---- set-up -------------------------------------------------------------------------------
    def _start_mapper(self, params: MapperParams) -> BuildingMapper:
        path = self.cfg.building_file
        if path:
            p = building_yaml_path(path)
            if p.is_file():
                mapper = BuildingMapper.from_building(load_building(p, params), params)
                self.get_logger().info(
                    f'continuing building {p} with floors '
                    f'{[fl.label for _, fl in sorted(mapper.floors.items())]}'
                )
                return mapper
            self.get_logger().warning(f'building_file {p} does not exist yet: new building')
        return BuildingMapper(params)

    def _subscribe(self, kind: str, msg_type: Any, topic: str, qos: QoSProfile) -> None:
        """One subscription whose messages go through the adapter into the stage."""
        self.received[kind] = 0

        def callback(msg: Any) -> None:
            self.received[kind] += 1
            try:
                rec = ros_adapter.to_record(kind, msg, self._now())
            except (InputDataError, ValueError, TypeError, OverflowError) as err:
                self._bad(f'{topic}: {reason_key(str(err))}', str(err))
                return
            try:
                if kind == 'scan' and self._tf_buffer is not None:
                    self._pose_from_tf(msg)
                self.stage.feed(kind, rec)
            except Exception as err:  # one message must never stop the mapping: counted
                self._bad(f'{topic}: {type(err).__name__} in the map stage', f'{err}')

        self.create_subscription(msg_type, topic, callback, qos)

    def _setup_tf(self) -> None:
        try:
            import tf2_ros
        except ImportError:
            self.get_logger().warning('use_tf is set but tf2_ros is not importable: using `pose`')
            return
        self._tf_buffer = tf2_ros.Buffer()
        self._tf_listener = tf2_ros.TransformListener(self._tf_buffer, self)

    # ---- inputs -------------------------------------------------------------------------------
    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _bad(self, kind: str, detail: str = '') -> None:
        """Count one refused message of ``kind``; warn when that kind's throttle allows."""
        self.bad_inputs += 1
        line = self.bad_input.count(kind, detail[:200])
        if line is not None:
            self.get_logger().warning(line)

    def _report_refusals(self, force: bool = False) -> None:
        """What the stage and the mapper refused since the last look, per kind."""
        logger = self.get_logger()
        for line in self.bad_input.observe(self.stage.refusals(), 'map stage: '):
            logger.warning(line)
        for line in self.bad_input.pending(force):
            logger.warning(line)
        counts = self.stage.counts
        if counts['scans_without_range_max'] and 'range_max' not in self._noticed:
            self._noticed.add('range_max')
            free = self.mapper.params.max_free_range_m
            logger.warning(
                'scan range_max is inf or NaN (no upper limit): every finite range is a hit, '
                'and no-return beams clear free space only up to max_free_range_m '
                f'({free} m{"; 0 = none: set it" if not free else ""})'
            )
        if counts['resume_floor_differs'] and 'resume' not in self._noticed:
            self._noticed.add('resume')
            logger.warning(
                f'the building was saved on {floor_label(self.stage.resume[0])}'  # type: ignore[index]
                f' but the robot starts on {floor_label(self.mapper.current_floor)}: the SLAM '
                'frame starts at the identity there and the first scans are aligned by ICP'
            )

    def _pose_from_tf(self, msg: LaserScan) -> None:
        from rclpy.time import Time

        try:
            tf = self._tf_buffer.lookup_transform(
                self.cfg.tf_map_frame, self.cfg.tf_base_frame, Time.from_msg(msg.header.stamp)
            )
        except Exception as err:  # tf2 raises several unrelated exception types
            self._bad(f'TF lookup: {type(err).__name__}', str(err))
            return
        self.stage.on_pose(ros_adapter.transform_pose_record(tf, self._now()))

    # ---- outputs ------------------------------------------------------------------------------
    def _tick(self) -> None:
        self.publish_maps()
        self._report_refusals()

    def publish_maps(self) -> None:
        """Publish every floor map that changed, the current floor's map and the links."""
        mapper = self.mapper
        current = mapper.current_floor
        stamp = self.get_clock().now().to_msg()
        for index in [i for i in self._grid_pubs if i not in mapper.floors]:
            # A floor the table retracted: its latched map must not outlive it.
            self.destroy_publisher(self._grid_pubs.pop(index))
            self._published.pop(index, None)
        for index, fl in sorted(mapper.floors.items()):
            # (the layer itself too: a floor renumbering moves another layer to this index)
            key = (id(fl.layer), fl.layer.version, round(fl.elevation_m, 3))
            if self._published.get(index) == key and index != current:
                continue
            msg = None
            if self._published.get(index) != key:
                pub = self._grid_pubs.get(index)
                if pub is None:
                    topic = f'floors/{floor_label(index)}/map'
                    pub = self.create_publisher(OccupancyGrid, topic, LATCHED_QOS)
                    self._grid_pubs[index] = pub
                msg = occupancy_grid(fl, self.cfg.frame_id, stamp)
                pub.publish(msg)
                self._published[index] = key
            if index == current and self._current_key != (index, *key):
                self._current_pub.publish(msg or occupancy_grid(fl, self.cfg.frame_id, stamp))
                self._current_key = (index, *key)
        links_key: list[Any] = [(lk.id, sorted(lk.positions.items())) for lk in mapper.links]
        elevations = {i: f.elevation_m for i, f in mapper.floors.items()}
        links_key.append(sorted((i, round(z, 3)) for i, z in elevations.items()))
        if links_key != self._links_key:
            self._links_pub.publish(
                link_markers(mapper.links, elevations, self.cfg.frame_id, stamp)
            )
            self._links_key = links_key

    # ---- saving -------------------------------------------------------------------------------
    def _content_key(self) -> Any:
        """What a save writes, in short: layer versions, elevations, links, table, resume."""
        mapper = self.mapper
        floors = tuple(
            (i, fl.layer.version, round(fl.elevation_m, 4))
            for i, fl in sorted(mapper.floors.items())
        )
        links = tuple((lk.id, lk.rides, sorted(lk.counts.items())) for lk in mapper.links)
        return floors, links, repr(self.stage.building_table())

    def save(self) -> Path:
        """Save the building to ``output_dir`` (raises MultifloorError on failure)."""
        if not self.cfg.output_dir:
            raise ConfigError('output_dir is not set')
        path = self.stage.save(Path(self.cfg.output_dir).expanduser())
        self._saved_key = self._content_key()
        return path

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
        if not self.mapper.floors or self._content_key() == self._saved_key:
            return  # nothing new: the files on disk are current
        try:
            self.save()
        except MultifloorError as err:
            self.get_logger().error(f'autosave failed: {err}', throttle_duration_sec=60.0)
        else:
            self.autosaves += 1

    def close(self) -> None:
        """Save on shutdown (when configured); called by spin_node, run and the tests."""
        self._report_refusals(force=True)
        self.mapper.flush()
        if self.cfg.save_on_shutdown and self.cfg.output_dir and self.mapper.floors:
            try:
                path = self.save()
            except MultifloorError as err:
                self.get_logger().error(f'saving on shutdown failed: {err}')
            else:
                self.get_logger().info(f'building saved: {path}')


def main(args: list[str] | None = None) -> None:
    """Entry point of ``ros2 run multifloor_slam floor_map_manager``."""
    spin_node(FloorMapManagerNode, args)


__all__ = ['FloorMapManagerNode', 'FloorMapManagerParams', 'main']
