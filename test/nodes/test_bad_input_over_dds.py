"""Bad messages over real DDS against the real nodes: counted per kind, logged per kind, not fatal.

Each kind of bad input (from the issue: ``range_max = inf`` or NaN, ``angle_min = NaN``, a zero
or NaN ``angle_increment``, an empty scan, ``floor/current = 2**31 - 1``, a garbled
``elevator/state``, a NaN or absurd pressure) is published by a real rclpy publisher; the node
must count it under its own kind, log a line for it (one kind never hides another), and keep
working: a good scan afterwards is still mapped on the right floor.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from geometry_msgs.msg import PoseWithCovarianceStamped
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import FluidPressure, LaserScan
from std_msgs.msg import Int32, String

from multifloor_slam.nodes.common import LATCHED_QOS, SENSOR_QOS, sensor_qos
from multifloor_slam.nodes.floor_map_manager import EVENT_QOS, FloorMapManagerNode
from multifloor_slam.pipeline.bad_input import BadInputLog

pytestmark = pytest.mark.ros


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class Lines:
    """Records what a node's logger warns (and still prints it)."""

    def __init__(self, node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
        self.lines: list[str] = []
        logger = node.get_logger()
        original = logger.warning

        def warning(message: str, **kwargs: Any) -> Any:
            self.lines.append(str(message))
            return original(message, **kwargs)

        monkeypatch.setattr(logger, 'warning', warning)

    def about(self, text: str) -> list[str]:
        return [line for line in self.lines if text in line]


def _scan(t: float, **fields: Any) -> LaserScan:
    msg = LaserScan()
    msg.header.stamp.sec, msg.header.stamp.nanosec = int(t), int((t % 1) * 1e9)
    msg.header.frame_id = 'laser'
    msg.angle_min, msg.angle_increment = -math.pi, 2 * math.pi / 360
    msg.angle_max = msg.angle_min + msg.angle_increment * 359
    msg.range_min, msg.range_max = 0.05, 10.0
    ranges = np.full(360, 2.0, np.float32)
    ranges[::7] = np.inf  # some no-return beams
    msg.ranges = ranges.tobytes()
    for key, value in fields.items():
        setattr(msg, key, value)
    return msg


def _pose(t: float, x: float = 0.0) -> PoseWithCovarianceStamped:
    msg = PoseWithCovarianceStamped()
    msg.header.stamp.sec, msg.header.stamp.nanosec = int(t), int((t % 1) * 1e9)
    msg.header.frame_id = 'map'
    msg.pose.pose.position.x = x
    msg.pose.pose.orientation.w = 1.0
    return msg


@pytest.fixture
def source(executor: Any) -> Iterator[Node]:
    node = Node('bad_input_source')
    executor.add_node(node)
    yield node


def _wait_subscribed(executor: Any, spin: Any, *pubs: Any) -> None:
    for pub in pubs:
        assert spin(executor, lambda pub=pub: pub.get_subscription_count() > 0, 10.0), pub.topic


def test_map_manager_counts_and_logs_every_kind_of_bad_input_and_keeps_mapping(
    executor: Any, spin: Any, source: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = FloorMapManagerNode(
        parameter_overrides=[
            Parameter('publish_period_s', value=0.1),
            Parameter('floor_wait_s', value=0.0),
            Parameter('max_free_range_m', value=5.0),
        ]
    )
    executor.add_node(node)
    clock = FakeClock()
    node.bad_input = BadInputLog(period_s=10.0, clock=clock)
    log = Lines(node, monkeypatch)
    scans = source.create_publisher(LaserScan, 'scan', SENSOR_QOS)
    poses = source.create_publisher(PoseWithCovarianceStamped, 'pose', sensor_qos(50))
    floor = source.create_publisher(Int32, 'floor/current', LATCHED_QOS)
    state = source.create_publisher(String, 'elevator/state', EVENT_QOS)
    table = source.create_publisher(String, 'floor/table', LATCHED_QOS)
    _wait_subscribed(executor, spin, scans, poses, floor, state, table)
    received = node.received

    def send(pub: Any, msg: Any, kind: str) -> None:
        want = received[kind] + 1
        pub.publish(msg)
        assert spin(executor, lambda: received[kind] >= want, 5.0), kind

    send(floor, Int32(data=0), 'floor')
    for k in range(3):
        send(poses, _pose(10.0 + 0.1 * k), 'pose')
    send(scans, _scan(10.1), 'scan')
    assert spin(executor, lambda: node.mapper.stats['scans_integrated'] == 1, 5.0)

    # Every kind from the issue, one after the other.
    send(scans, _scan(10.15, range_max=math.inf), 'scan')  # pointcloud_to_laserscan's default
    send(scans, _scan(10.16, range_max=math.nan), 'scan')
    send(scans, _scan(10.17, angle_min=math.nan), 'scan')
    send(scans, _scan(10.18, angle_increment=0.0), 'scan')
    send(scans, _scan(10.19, angle_increment=math.nan), 'scan')
    send(scans, _scan(10.2, ranges=[]), 'scan')
    send(floor, Int32(data=2**31 - 1), 'floor')
    send(state, String(data='{not json'), 'elevator_state')
    send(state, String(data='{"state": "inside", "confidence": 7}'), 'elevator_state')
    send(table, String(data='{"floors": [{"index": "L9"}]}'), 'floor_table')  # would be saved
    send(poses, _pose(10.3, x=math.nan), 'pose')
    send(poses, _pose(10.31, x=1e7), 'pose')  # 10 000 km away: the mapper refuses it
    assert spin(executor, lambda: node.bad_input.totals.get('map stage: bad_poses') == 1, 5.0)
    far = 'map stage: mapper poses_out_of_extent'
    assert spin(executor, lambda: node.bad_input.totals.get(far) == 1, 5.0)

    totals = node.bad_input.totals
    assert totals['scan: scan angles not finite'] == 2  # angle_min NaN, increment NaN
    assert totals['scan: scan angle_increment is #'] == 1
    assert totals['scan: scan with # beams'] == 1
    assert totals['elevator/state: elevator state is not valid JSON'] == 1
    assert totals['elevator/state: elevator state confidence # is outside'] == 1
    assert spin(executor, lambda: totals.get('map stage: floors_out_of_range') == 1, 5.0), totals
    assert totals['map stage: bad_floor_tables'] == 1 and node.mapper.floor_table is None
    assert node.stage.counts['scans_without_range_max'] == 2
    # One line per kind, each saying how many of that kind so far: no kind hides another.
    for kind in totals:
        lines = log.about(kind)
        assert len(lines) == 1 and ': 1 so far' in lines[0], (kind, log.lines)
    assert log.about('range_max is inf or NaN')  # accepted, and said once
    assert len(log.about('range_max is inf or NaN')) == 1

    # Still mapping, on floor 0: the absurd floor index did not move the robot anywhere.
    assert node.mapper.current_floor == 0
    assert sorted(node.mapper.floors) == [0]
    before = node.mapper.stats['scans_integrated']
    for k in range(4, 8):  # the robot drives on (a robot standing still maps one scan)
        send(poses, _pose(10.0 + 0.1 * k, x=0.1 * (k - 3)), 'pose')
    send(scans, _scan(10.65), 'scan')
    assert spin(executor, lambda: node.mapper.stats['scans_integrated'] > before, 5.0)

    # The throttle is per kind: a repeat within the period is counted, not logged; the next
    # line about that kind says how many came since the last one.
    send(scans, _scan(10.7, angle_increment=0.0), 'scan')
    send(scans, _scan(10.71, angle_increment=0.0), 'scan')
    assert len(log.about('scan: scan angle_increment is #')) == 1
    clock.t += 10.0
    send(scans, _scan(10.72, angle_increment=0.0), 'scan')
    last = log.about('scan: scan angle_increment is #')[-1]
    assert '3 since the last warning about it, 4 in all' in last, log.lines


def test_floor_estimator_counts_bad_pressure_and_elevator_states_per_kind(
    executor: Any, spin: Any, source: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    from multifloor_slam.nodes.floor_estimator import FloorEstimatorNode

    node = FloorEstimatorNode()
    executor.add_node(node)
    clock = FakeClock()
    node.bad_input = BadInputLog(period_s=10.0, clock=clock)
    log = Lines(node, monkeypatch)
    pressure = source.create_publisher(FluidPressure, 'barometer/pressure', SENSOR_QOS)
    state = source.create_publisher(String, 'elevator/state', EVENT_QOS)
    floors: list[int] = []
    source.create_subscription(
        Int32, 'floor/current', lambda m: floors.append(m.data), LATCHED_QOS
    )
    _wait_subscribed(executor, spin, pressure, state)
    t = [2000.0]

    def send_pressure(value: float) -> None:
        msg = FluidPressure()
        t[0] += 0.1
        msg.header.stamp.sec, msg.header.stamp.nanosec = int(t[0]), int((t[0] % 1) * 1e9)
        msg.fluid_pressure = value
        want = node.samples_received + 1
        pressure.publish(msg)
        assert spin(executor, lambda: node.samples_received >= want, 5.0)

    for _ in range(5):
        send_pressure(101_000.0)
    send_pressure(math.nan)
    send_pressure(1e12)  # absurd in any unit
    send_pressure(-5.0)
    bad_states = ['{not json', 'lift', '{"state": "inside", "confidence": "high"}']
    for text in bad_states:
        state.publish(String(data=text))
    assert spin(executor, lambda: node.bad_messages >= 3, 5.0)

    totals = node.bad_input.totals
    assert totals['barometer sample: not_finite'] == 1
    assert totals['barometer sample: out_of_range'] == 2
    assert totals['elevator/state: elevator state is not valid JSON'] == 1
    assert totals['elevator/state: unknown elevator state'] == 1
    assert totals['elevator/state: elevator state has a non-numeric field'] == 1
    for kind in totals:
        assert len(log.about(kind)) == 1, (kind, log.lines)

    # Still estimating: good samples go on, the floor is the start floor.
    for _ in range(5):
        send_pressure(101_000.0)
    assert node.estimator.stats['accepted'] >= 10
    assert spin(executor, lambda: floors[-1:] == [0], 5.0)

    # Counts since the last warning about the kind, not totals since the start.
    for _ in range(3):
        send_pressure(math.nan)
    assert len(log.about('barometer sample: not_finite')) == 1
    clock.t += 10.0
    send_pressure(math.nan)
    last = log.about('barometer sample: not_finite')[-1]
    assert '4 since the last warning about it, 5 in all' in last, log.lines
