"""ROS 2 node ``floor_estimator``: which floor the robot is on, from its barometer.

A transport shell around :class:`~multifloor_slam.pipeline.floor_stage.FloorStage`, the stage
``process`` runs too. Subscribes ``barometer/pressure`` (FluidPressure), optionally
``barometer/temperature`` (Temperature) and ``elevator/state`` (String JSON). Publishes,
latched so late joiners get the state: ``floor/current`` (Int32), ``floor/altitude`` (Float64, m
relative to the reference floor), ``floor/riding`` (Bool), ``floor/table`` (String, JSON of the
learned table, republished whenever it changes, the current floor included); and
``floor/event`` (String, one JSON line per ride, i.e. per stop of the car) and ``floor/trip``
(String, one JSON line per trip once the robot has left the car: the intermediate stops it
stayed in and what told the exit, :mod:`multifloor_slam.floors.trips`). ``odom``
(nav_msgs/Odometry, optional) is the best exit evidence: the robot drove out of the stopped car.

Where the table comes from at start (:func:`~multifloor_slam.pipeline.floor_stage.start_table`):
``floor_table_file`` when that file exists, else the table saved in ``building_file`` (the
building the map manager saves, a building.yaml or its folder), else ``floor_table_seed``. The
node saves its table to ``floor_table_file`` (when set) after every ride and on shutdown; the map
manager saves the latched ``floor/table`` inside building.yaml. Either way a restarted node
continues the same building on the floor it was on.

Bad input (a NaN or absurd pressure, a garbled ``elevator/state``, stamps going backwards) is
counted and logged per kind (:class:`~multifloor_slam.pipeline.bad_input.BadInputLog`), never
fatal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nav_msgs.msg import Odometry
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from sensor_msgs.msg import FluidPressure, Temperature
from std_msgs.msg import String

from multifloor_slam.errors import InputDataError, MultifloorError
from multifloor_slam.floors.estimator import FloorEstimator
from multifloor_slam.floors.floor_table import FloorTable
from multifloor_slam.floors.params import PARAM_DESCRIPTIONS, FloorEstimatorParams
from multifloor_slam.floors.trips import TripParams
from multifloor_slam.io import ros_adapter
from multifloor_slam.io.ros_messages import FLOOR_OUTPUT_TYPES, floor_output_msg
from multifloor_slam.nodes.common import (
    LATCHED_QOS,
    RELIABLE_QOS,
    SENSOR_QOS,
    declare_dataclass,
    declare_parameter,
    sensor_qos,
    spin_node,
)
from multifloor_slam.pipeline.bad_input import BadInputLog, reason_key
from multifloor_slam.pipeline.floor_stage import (
    FloorOutput,
    FloorStage,
    FloorStageParams,
    floor_outputs,
    start_table,
)

#: Topic per floor-stage output kind.
OUTPUT_TOPICS = {
    'floor_table': 'floor/table',
    'floor': 'floor/current',
    'riding': 'floor/riding',
    'altitude': 'floor/altitude',
}


def load_floor_table(
    path: Path | None, seed: str, max_observations: int, building_file: str = ''
) -> FloorTable | None:
    """The table to start from (:func:`~multifloor_slam.pipeline.floor_stage.start_table`)."""
    return start_table(path, building_file, seed, max_observations)[0]


class FloorEstimatorNode(Node):
    """Parameters, subscriptions and publishers around a :class:`FloorStage`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('floor_estimator', **kwargs)
        est_params = declare_dataclass(self, FloorEstimatorParams, PARAM_DESCRIPTIONS)
        stage_params = declare_dataclass(self, FloorStageParams)
        trip_params = declare_dataclass(self, TripParams, prefix='trip_')

        def declare(name: str, default: Any, description: str) -> Any:
            return declare_parameter(
                self, name, default, ParameterDescriptor(description=description)
            )

        table_file = declare(
            'floor_table_file',
            '',
            'floor table YAML: loaded at start when it exists (wins over building_file), '
            'saved after every ride and on shutdown',
        )
        building_file = declare(
            'building_file',
            '',
            'a saved building (building.yaml or its folder): its floor table and last floor '
            'are the start when floor_table_file does not exist',
        )
        seed = declare(
            'floor_table_seed',
            '',
            'known floors "index:elevation_m[:label],..." used when no table file exists',
        )
        self._table_path = Path(table_file).expanduser() if table_file else None
        table, source = start_table(
            self._table_path, building_file, seed, est_params.table_max_observations
        )
        if table is not None:
            self.get_logger().info(f'floor table from {source}: {[f.label for f in table]}')
        self.stage = FloorStage(stage_params, est_params, table, trip_params=trip_params)
        #: refused input by kind, with per-kind throttled warnings
        self.bad_input = BadInputLog()
        self.bad_messages = 0

        self._pubs: dict[str, Any] = {
            kind: self.create_publisher(FLOOR_OUTPUT_TYPES[kind], topic, LATCHED_QOS)
            for kind, topic in OUTPUT_TOPICS.items()
        }
        self._pub_event = self.create_publisher(String, 'floor/event', RELIABLE_QOS)
        self._pub_trip = self.create_publisher(String, 'floor/trip', RELIABLE_QOS)
        self._trips_sent = 0
        self.create_subscription(
            FluidPressure, 'barometer/pressure', self._on_pressure, SENSOR_QOS
        )
        self.create_subscription(
            Temperature, 'barometer/temperature', self._on_temperature, SENSOR_QOS
        )
        # Best effort receives from reliable and best-effort publishers alike.
        self.create_subscription(String, 'elevator/state', self._on_elevator, sensor_qos(10))
        self.create_subscription(Odometry, 'odom', self._on_odom, sensor_qos(50))
        self.samples_received = 0
        self.odom_received = 0
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

    def _bad(self, kind: str, detail: str = '') -> None:
        """Count one refused message of ``kind`` and warn when that kind's throttle allows."""
        self.bad_messages += 1
        line = self.bad_input.count(kind, detail)
        if line is not None:
            self.get_logger().warning(line)

    def _guarded(self, topic: str, handle: Callable[[], None]) -> None:
        """Run one message's handling; a message that cannot be used is counted, never fatal."""
        try:
            handle()
        except (InputDataError, ValueError, TypeError, OverflowError) as err:
            self._bad(f'{topic}: {reason_key(str(err))}', str(err)[:200])
        except Exception as err:  # a bug must not stop the floor estimate: counted and logged
            self._bad(f'{topic}: {type(err).__name__}', f'{type(err).__name__}: {err}'[:200])

    def _on_temperature(self, msg: Temperature) -> None:
        self._guarded(
            'barometer/temperature',
            lambda: self.stage.on_temperature(ros_adapter.temperature_record(msg, self._now())),
        )

    def _on_elevator(self, msg: String) -> None:
        self._guarded(
            'elevator/state',
            lambda: self.stage.on_elevator_state(
                ros_adapter.elevator_state_record(msg, self._now())
            ),
        )
        self._log_rejections()
        self._publish_trips()

    def _on_odom(self, msg: Odometry) -> None:
        self.odom_received += 1
        self._guarded(
            'odom', lambda: self.stage.on_odom(ros_adapter.pose_record(msg, self._now()))
        )
        self._publish_trips()

    def _publish_trips(self) -> None:
        """Each trip once, when the robot is known to have left the car."""
        trips = self.stage.trips.trips
        for trip in trips[self._trips_sent :]:
            text = json.dumps(trip.to_dict(), separators=(',', ':'))
            self._pub_trip.publish(String(data=text))
            self.get_logger().info(f'trip: {text}')
        self._trips_sent = len(trips)

    def _on_pressure(self, msg: FluidPressure) -> None:
        self.samples_received += 1
        self._guarded('barometer/pressure', lambda: self._pressure(msg))
        self._log_rejections()

    def _pressure(self, msg: FluidPressure) -> None:
        out = self.stage.on_pressure(ros_adapter.pressure_record(msg, self._now()))
        self._publish(out)
        if out.event is not None:
            self._pub_event.publish(String(data=out.event.to_json()))
            self.get_logger().info(f'ride: {out.event.to_json()}')
            self._save()
        self._publish_trips()

    def _publish(self, out: FloorOutput) -> None:
        for kind, rec in floor_outputs(out):
            self._pubs[kind].publish(floor_output_msg(rec))

    def _log_rejections(self) -> None:
        """Samples the stage refused (by reason) since the last look: per-kind warnings."""
        refused = self.stage.refusals()
        counters = {
            (f'elevator/state: {k}' if k == 'bad_elevator_state' else f'barometer sample: {k}'): v
            for k, v in refused.items()
        }
        logger = self.get_logger()
        for line in self.bad_input.observe(counters):
            logger.warning(line)
        for line in self.bad_input.pending():
            logger.warning(line)

    def _save(self) -> None:
        if self._table_path is None:
            return
        try:
            self.stage.table.save(self._table_path)
        except MultifloorError as err:
            self.get_logger().error(str(err))

    def close(self) -> None:
        """Save the floor table (called by spin_node and the test fixtures on shutdown)."""
        for line in self.bad_input.pending(force=True):
            self.get_logger().warning(line)
        self._save()


def main(args: list[str] | None = None) -> None:
    """Entry point of ``ros2 run multifloor_slam floor_estimator``."""
    spin_node(FloorEstimatorNode, args)


__all__ = ['OUTPUT_TOPICS', 'FloorEstimatorNode', 'load_floor_table', 'main']
