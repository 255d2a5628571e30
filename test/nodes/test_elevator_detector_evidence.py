"""elevator_detector over DDS: floor/riding and scan feed the state; the JSON carries evidence."""

from __future__ import annotations

import array
import json
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from laser_scenes import CAR, CORRIDOR, Segment, cast

os.environ.setdefault('YOLO_CONFIG_DIR', tempfile.mkdtemp(prefix='yolo_cfg_'))

pytestmark = pytest.mark.ros

BLANK = np.full((240, 320, 3), 128, np.uint8)


def _node(**params: Any) -> Any:
    from rclpy.parameter import Parameter

    from multifloor_slam.nodes.elevator_detector import ElevatorDetectorNode

    overrides = [Parameter(k, value=v) for k, v in params.items()]
    return ElevatorDetectorNode(parameter_overrides=overrides)


def _stamp(msg: Any, t: float) -> None:
    msg.header.stamp.sec = int(t)
    msg.header.stamp.nanosec = int((t % 1.0) * 1e9)


class Sensors:
    """A second node: camera frames, floor/riding (latched) and scans in; elevator/state out."""

    def __init__(self, executor: Any) -> None:
        from rclpy.node import Node
        from sensor_msgs.msg import Image, LaserScan
        from std_msgs.msg import Bool, String

        from multifloor_slam.nodes.common import LATCHED_QOS, SENSOR_QOS, sensor_qos

        self.node = Node(f'evidence_test_{time.monotonic_ns()}')
        self.image = self.node.create_publisher(Image, 'camera/image_raw', sensor_qos(1))
        self.riding = self.node.create_publisher(Bool, 'floor/riding', LATCHED_QOS)
        self.scan = self.node.create_publisher(LaserScan, 'scan', SENSOR_QOS)
        self.states: list[dict[str, Any]] = []
        self.node.create_subscription(
            String, 'elevator/state', lambda m: self.states.append(json.loads(m.data)), 10
        )
        executor.add_node(self.node)

    def now(self) -> float:
        return float(self.node.get_clock().now().nanoseconds * 1e-9)

    def publish_riding(self, riding: bool) -> None:
        from std_msgs.msg import Bool

        self.riding.publish(Bool(data=riding))

    def publish_scan(self, walls: list[Segment], t: float, beams: int = 360) -> None:
        from sensor_msgs.msg import LaserScan

        rec = cast(walls, beams=beams, t=t)
        msg = LaserScan()
        _stamp(msg, t)
        msg.header.frame_id = 'laser'
        msg.angle_min = rec.angle_min
        msg.angle_increment = rec.angle_increment
        msg.angle_max = rec.angle_min + rec.angle_increment * (len(rec.ranges) - 1)
        msg.range_min, msg.range_max = rec.range_min, rec.range_max
        msg.ranges = array.array('f', rec.ranges.tobytes())
        self.scan.publish(msg)

    def publish_frame(self, t: float) -> None:
        from sensor_msgs.msg import Image

        msg = Image()
        _stamp(msg, t)
        msg.height, msg.width = BLANK.shape[:2]
        msg.encoding = 'bgr8'
        msg.step = BLANK.shape[1] * 3
        msg.data = BLANK.tobytes()
        self.image.publish(msg)


def _feed(
    executor: Any,
    spin: Callable[..., bool],
    s: Sensors,
    walls: list[Segment],
    want: Callable[[dict[str, Any]], bool],
) -> bool:
    """Scan + frame every 0.2 s (stamped now) until the newest state satisfies ``want``."""
    deadline = time.monotonic() + 15.0
    while time.monotonic() < deadline:
        t = s.now()
        s.publish_scan(walls, t)
        spin(executor, lambda: False, 0.05)
        s.publish_frame(t)
        spin(executor, lambda: False, 0.15)
        if s.states and want(s.states[-1]):
            return True
    return False


def test_riding_and_a_car_scan_give_inside_with_the_evidence_in_the_json(
    executor: Any, spin: Callable[..., bool]
) -> None:
    node = _node(window=3, min_hits=2, device='cpu', laser_rate_hz=0.0)
    executor.add_node(node)
    s = Sensors(executor)
    assert spin(executor, lambda: s.image.get_subscription_count() > 0, 10.0)
    assert spin(executor, lambda: s.scan.get_subscription_count() > 0, 10.0)
    s.publish_riding(True)
    assert _feed(executor, spin, s, CAR, lambda st: st['state'] == 'inside'), s.states[-3:]
    ev = s.states[-1]['evidence']
    assert (ev['barometer'], ev['laser'], ev['inside']) == (
        'riding',
        'enclosed',
        'barometer+laser',
    )
    assert ev['camera'] == {}
    assert ev['laser_box_m'] == pytest.approx([2.0, 2.0], abs=0.15)
    # the ride ends and the robot is out in the corridor: not inside any more
    s.publish_riding(False)

    def left(st: dict[str, Any]) -> bool:
        return st['evidence']['laser'] == 'open' and st['state'] == 'none'

    assert _feed(executor, spin, s, CORRIDOR, left), s.states[-3:]
    assert s.states[-1]['evidence']['barometer'] == 'recent'
    # a scan the adapter refuses is counted as bad input, not as a camera error
    s.publish_scan(CAR, s.now(), beams=1)
    assert spin(executor, lambda: any(k.startswith('scan: ') for k in node.bad_input.totals))
    assert node.stats.errors == 0


def test_sources_turned_off_are_not_subscribed(executor: Any) -> None:
    node = _node(device='cpu', use_barometer=False, use_laser=False)
    executor.add_node(node)
    topics = {sub.topic_name for sub in node.subscriptions}
    assert not {'/floor/riding', '/scan'} & topics
    on = _node(device='cpu')
    executor.add_node(on)
    assert {'/floor/riding', '/scan'} <= {sub.topic_name for sub in on.subscriptions}
