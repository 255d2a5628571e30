"""ROS 2 node ``floor_estimator``: which floor the robot is on, from its barometer.

A transport shell around :class:`~multifloor_slam.pipeline.floor_stage.FloorStage`, the stage
``process`` runs too. Subscribes ``barometer/pressure`` (FluidPressure), optionally
``barometer/temperature`` (Temperature) and ``elevator/state`` (String JSON). Publishes,
latched so late joiners get the state: ``floor/current`` (Int32), ``floor/altitude`` (Float64, m
relative to the reference floor), ``floor/riding`` (Bool), ``floor/table`` (String, JSON of the
learned table); and ``floor/event`` (String, one JSON line per ride). The floor table is saved
atomically after every ride and on shutdown, and reloaded at start, so a restarted node
continues the same building on the same floor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from sensor_msgs.msg import FluidPressure, Temperature
from std_msgs.msg import String

from multifloor_slam.errors import InputDataError, MultifloorError
from multifloor_slam.floors.estimator import FloorEstimator
from multifloor_slam.floors.floor_table import FloorTable
from multifloor_slam.floors.params import PARAM_DESCRIPTIONS, FloorEstimatorParams
from multifloor_slam.floors.pressure_filter import REJECTION_KEYS
from multifloor_slam.io import ros_adapter
from multifloor_slam.io.ros_messages import FLOOR_OUTPUT_TYPES, floor_output_msg
from multifloor_slam.nodes.common import (
    LATCHED_QOS,
    RELIABLE_QOS,
    SENSOR_QOS,
    declare_dataclass,
    sensor_qos,
    spin_node,
)
from multifloor_slam.pipeline.floor_stage import (
    FloorOutput,
    FloorStage,
    FloorStageParams,
    floor_outputs,
)

#: Seconds between two warnings about rejected samples.
_STATS_LOG_PERIOD_S = 30.0
_REJECTION_KEYS = (*REJECTION_KEYS, 'bad_elevator_state')
#: Topic per floor-stage output kind.
OUTPUT_TOPICS = {
    'floor_table': 'floor/table',
    'floor': 'floor/current',
    'riding': 'floor/riding',
    'altitude': 'floor/altitude',
}


def load_floor_table(path: Path | None, seed: str, max_observations: int) -> FloorTable | None:
    """The table to start from: the file when it exists, else the seed, else None."""
    if path is not None and path.exists():
        return FloorTable.load(path, max_observations)
    if seed:
        return FloorTable.from_seed(seed, max_observations)
    return None


class FloorEstimatorNode(Node):
    """Parameters, subscriptions and publishers around a :class:`FloorStage`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('floor_estimator', **kwargs)
        est_params = declare_dataclass(self, FloorEstimatorParams, PARAM_DESCRIPTIONS)
        stage_params = declare_dataclass(self, FloorStageParams)

        def declare(name: str, default: Any, description: str) -> Any:
            desc = ParameterDescriptor(description=description)
            return self.declare_parameter(name, default, desc).value

        table_file = declare(
            'floor_table_file',
            '',
            'floor table YAML: loaded at start when it exists, saved after every ride',
        )
        seed = declare(
            'floor_table_seed',
            '',
            'known floors "index:elevation_m[:label],..." used when no table file exists',
        )
        self._table_path = Path(table_file).expanduser() if table_file else None
        table = load_floor_table(self._table_path, seed, est_params.table_max_observations)
        if table is not None:
            self.get_logger().info(f'floor table: {[f.label for f in table]}')
        self.stage = FloorStage(stage_params, est_params, table)
        self._logged_rejections: dict[str, int] = {}
        self.bad_messages = 0

        self._pubs: dict[str, Any] = {
            kind: self.create_publisher(FLOOR_OUTPUT_TYPES[kind], topic, LATCHED_QOS)
            for kind, topic in OUTPUT_TOPICS.items()
        }
        self._pub_event = self.create_publisher(String, 'floor/event', RELIABLE_QOS)
        self.create_subscription(
            FluidPressure, 'barometer/pressure', self._on_pressure, SENSOR_QOS
        )
        self.create_subscription(
            Temperature, 'barometer/temperature', self._on_temperature, SENSOR_QOS
        )
        # Best effort receives from reliable and best-effort publishers alike.
        self.create_subscription(String, 'elevator/state', self._on_elevator, sensor_qos(10))
        self.samples_received = 0
        self._publish(self.stage.initial())
        floor = self.stage.estimator.floor
        self.get_logger().info(
            f'floor_estimator started on floor {self.stage.table.label(floor)} '
            f'({len(self.stage.table)} floors known)'
        )

    @property
    def estimator(self) -> FloorEstimator:
        """The core estimator (its table and statistics)."""
        return self.stage.estimator

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _on_temperature(self, msg: Temperature) -> None:
        self.stage.on_temperature(ros_adapter.temperature_record(msg, self._now()))

    def _on_elevator(self, msg: String) -> None:
        try:
            rec = ros_adapter.elevator_state_record(msg, self._now())
        except InputDataError as err:
            self.bad_messages += 1
            self.get_logger().warning(
                f'elevator/state: {err} ({self.bad_messages} bad messages so far)',
                throttle_duration_sec=_STATS_LOG_PERIOD_S,
            )
            return
        self.stage.on_elevator_state(rec)

    def _on_pressure(self, msg: FluidPressure) -> None:
        self.samples_received += 1
        out = self.stage.on_pressure(ros_adapter.pressure_record(msg, self._now()))
        self._publish(out)
        if out.event is not None:
            self._pub_event.publish(String(data=out.event.to_json()))
            self.get_logger().info(f'ride: {out.event.to_json()}')
            self._save()
        self._log_rejections()

    def _publish(self, out: FloorOutput) -> None:
        for kind, rec in floor_outputs(out):
            self._pubs[kind].publish(floor_output_msg(rec))

    def _log_rejections(self) -> None:
        stats = self.stage.stats
        rejected = {k: stats[k] for k in _REJECTION_KEYS if stats.get(k)}
        if rejected and rejected != self._logged_rejections:
            self.get_logger().warning(
                f'rejected barometer samples so far: {rejected}',
                throttle_duration_sec=_STATS_LOG_PERIOD_S,
            )
            self._logged_rejections = rejected

    def _save(self) -> None:
        if self._table_path is None:
            return
        try:
            self.stage.table.save(self._table_path)
        except MultifloorError as err:
            self.get_logger().error(str(err))

    def close(self) -> None:
        """Save the floor table (called by spin_node and the test fixtures on shutdown)."""
        self._save()


def main(args: list[str] | None = None) -> None:
    """Entry point of ``ros2 run multifloor_slam floor_estimator``."""
    spin_node(FloorEstimatorNode, args)


__all__ = ['OUTPUT_TOPICS', 'FloorEstimatorNode', 'load_floor_table', 'main']
