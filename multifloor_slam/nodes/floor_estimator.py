"""ROS 2 node ``floor_estimator``: which floor the robot is on, from its barometer.

Subscribes ``barometer/pressure`` (sensor_msgs/FluidPressure, Pa), optionally
``barometer/temperature`` (sensor_msgs/Temperature) and ``elevator/state`` (std_msgs/String
JSON ``{"state": ..., "confidence": ...}``). Publishes ``floor/current`` (Int32),
``floor/altitude`` (Float64, m relative to the reference floor) and ``floor/riding`` (Bool),
latched so late joiners get the state, and ``floor/event`` (String, one JSON line per ride).
The floor table is saved atomically after every ride and on shutdown, and reloaded at start,
so a restarted node continues the same building on the same floor.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from sensor_msgs.msg import FluidPressure, Temperature
from std_msgs.msg import Bool, Float64, Int32, String

from multifloor_slam.floors.estimator import (
    PARAM_DESCRIPTIONS,
    FloorEstimator,
    FloorEstimatorParams,
    FloorState,
)
from multifloor_slam.floors.floor_table import FloorTable
from multifloor_slam.floors.pressure_filter import REJECTION_KEYS
from multifloor_slam.errors import ConfigError, MultifloorError
from multifloor_slam.nodes.common import (
    LATCHED_QOS,
    RELIABLE_QOS,
    SENSOR_QOS,
    declare_dataclass,
    sensor_qos,
    spin_node,
    stamp_to_sec,
)

#: A temperature reading older than this (s) is not used.
_TEMPERATURE_MAX_AGE_S = 30.0
#: Seconds between two warnings about rejected samples.
_STATS_LOG_PERIOD_S = 30.0
_REJECTION_KEYS = (*REJECTION_KEYS, 'bad_elevator_state')


class FloorEstimatorNode(Node):
    """Thin wrapper: parameters, message conversion, :class:`FloorEstimator`, publishing."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('floor_estimator', **kwargs)
        self._params = declare_dataclass(self, FloorEstimatorParams, PARAM_DESCRIPTIONS)

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
        initial_floor = int(declare('initial_floor', 0, 'floor index the robot starts on'))
        resume = bool(
            declare('resume_floor', True, 'start on the floor saved in the table file, if any')
        )
        self._pressure_scale = float(
            declare('pressure_scale', 1.0, 'factor to Pa (100.0 for drivers that publish hPa)')
        )
        self._table_path = Path(table_file).expanduser() if table_file else None

        table = None
        if self._table_path is not None and self._table_path.exists():
            table = FloorTable.load(self._table_path, self._params.table_max_observations)
            self.get_logger().info(
                f'loaded floor table {self._table_path}: {[f.label for f in table]}'
            )
        elif seed:
            table = FloorTable.from_seed(seed, self._params.table_max_observations)
        if table is not None and len(table):
            if resume and table.current_floor is not None and table.current_floor in table:
                initial_floor = table.current_floor
            elif initial_floor not in table:
                raise ConfigError(
                    f'initial_floor {initial_floor} is not in the floor table {table.indices}'
                )
        self._est = FloorEstimator(self._params, table, initial_floor)
        self._temperature: tuple[float, float] | None = None
        self._last_floor: int | None = None
        self._last_riding: bool | None = None
        self._logged_rejections: dict[str, int] = {}

        self._pub_floor = self.create_publisher(Int32, 'floor/current', LATCHED_QOS)
        self._pub_alt = self.create_publisher(Float64, 'floor/altitude', LATCHED_QOS)
        self._pub_riding = self.create_publisher(Bool, 'floor/riding', LATCHED_QOS)
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
        self._publish(
            FloorState(0.0, initial_floor, self._est.table.label(initial_floor), 0.0, False, 1.0),
            force=True,
        )
        self.get_logger().info(
            f'floor_estimator started on floor {self._est.table.label(initial_floor)} '
            f'({len(self._est.table)} floors known)'
        )

    @property
    def estimator(self) -> FloorEstimator:
        """The core estimator (its table and statistics)."""
        return self._est

    def _stamp(self, header: Any) -> float:
        t = stamp_to_sec(header.stamp)
        if t == 0.0:
            t = self.get_clock().now().nanoseconds * 1e-9
        return t

    def _on_temperature(self, msg: Temperature) -> None:
        self._temperature = (self._stamp(msg.header), float(msg.temperature))

    def _on_elevator(self, msg: String) -> None:
        try:
            data = json.loads(msg.data)
            state, conf = str(data['state']), float(data.get('confidence', 1.0))
        except (ValueError, KeyError, TypeError):
            self._est.set_elevator_state(math.nan, 'invalid', math.nan)  # counted
            return
        self._est.set_elevator_state(self.get_clock().now().nanoseconds * 1e-9, state, conf)

    def _on_pressure(self, msg: FluidPressure) -> None:
        self.samples_received += 1
        t = self._stamp(msg.header)
        temperature = None
        if self._temperature is not None and abs(t - self._temperature[0]) <= (
            _TEMPERATURE_MAX_AGE_S
        ):
            temperature = self._temperature[1]
        state = self._est.update(t, float(msg.fluid_pressure) * self._pressure_scale, temperature)
        self._publish(state)
        if state.event is not None:
            self._pub_event.publish(String(data=state.event.to_json()))
            self.get_logger().info(f'ride: {state.event.to_json()}')
            self._save()
        self._log_rejections()

    def _publish(self, state: FloorState, force: bool = False) -> None:
        if force or state.floor != self._last_floor:
            self._pub_floor.publish(Int32(data=int(state.floor)))
            self._last_floor = state.floor
        if force or state.riding != self._last_riding:
            self._pub_riding.publish(Bool(data=bool(state.riding)))
            self._last_riding = state.riding
        self._pub_alt.publish(Float64(data=float(state.altitude_m)))

    def _log_rejections(self) -> None:
        stats = self._est.stats
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
            self._est.table.save(self._table_path)
        except MultifloorError as err:
            self.get_logger().error(str(err))

    def close(self) -> None:
        """Save the floor table (called by spin_node and the test fixtures on shutdown)."""
        self._save()


def main(args: list[str] | None = None) -> None:
    """Entry point of ``ros2 run multifloor_slam floor_estimator``."""
    spin_node(FloorEstimatorNode, args)


__all__ = ['FloorEstimatorNode', 'main']
