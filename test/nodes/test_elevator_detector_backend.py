from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

import pytest

os.environ.setdefault('YOLO_CONFIG_DIR', tempfile.mkdtemp(prefix='yolo_cfg_'))

from multifloor_slam.errors import ConfigError

pytestmark = pytest.mark.ros


def _node(**params: Any) -> Any:
    from rclpy.parameter import Parameter

    from multifloor_slam.nodes.elevator_detector import ElevatorDetectorNode

    return ElevatorDetectorNode(
        parameter_overrides=[Parameter(k, value=v) for k, v in params.items()]
    )


def test_backend_parameter_runs_the_exported_model_over_dds(
    executor: Any, spin: Callable[..., bool]
) -> None:
    from rclpy.node import Node
    from sensor_msgs.msg import Image
    from std_msgs.msg import String

    from multifloor_slam.nodes.common import sensor_qos
    from multifloor_slam.sim.elevator_scenes import render_scene

    node = _node(backend='onnx', device='cpu', window=1, min_hits=1, publish_debug_image=False)
    assert node.detector.backend == 'onnx'
    executor.add_node(node)
    peer = Node(f'backend_test_{time.monotonic_ns()}')
    pub = peer.create_publisher(Image, 'camera/image_raw', sensor_qos(1))
    states: list[dict[str, Any]] = []
    peer.create_subscription(
        String, 'elevator/state', lambda m: states.append(json.loads(m.data)), 10
    )
    executor.add_node(peer)
    assert spin(executor, lambda: pub.get_subscription_count() > 0, 10.0)
    image = render_scene(929292, 0).image
    msg = Image(encoding='bgr8', height=image.shape[0], width=image.shape[1])
    msg.step = image.shape[1] * 3
    msg.data = image.tobytes()
    msg.header.stamp.sec = 7
    pub.publish(msg)
    assert spin(executor, lambda: bool(states), 15.0)
    assert states[-1]['stamp'] == pytest.approx(7.0)
    assert node.stats.processed == 1 and node.stats.errors == 0


def test_unknown_backend_parameter_is_a_config_error(rclpy_session: None) -> None:
    with pytest.raises(ConfigError, match='backend must be one of auto, pytorch, openvino, onnx'):
        _node(backend='tensorrt')
