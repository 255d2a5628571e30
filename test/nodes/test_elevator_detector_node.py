from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

os.environ.setdefault('YOLO_CONFIG_DIR', tempfile.mkdtemp(prefix='yolo_cfg_'))

pytestmark = pytest.mark.ros

FRESH_SEED = 515151


def _node(**params: Any) -> Any:
    from rclpy.parameter import Parameter

    from multifloor_slam.nodes.elevator_detector import ElevatorDetectorNode

    overrides = [Parameter(k, value=v) for k, v in params.items()]
    return ElevatorDetectorNode(parameter_overrides=overrides)


def _image_msg(bgr: np.ndarray, stamp: float, encoding: str = 'bgr8') -> Any:
    from sensor_msgs.msg import Image

    msg = Image()
    msg.header.stamp.sec = int(stamp)
    msg.header.stamp.nanosec = int((stamp % 1.0) * 1e9)
    msg.header.frame_id = 'camera'
    msg.height, msg.width = bgr.shape[:2]
    msg.encoding = encoding
    msg.step = bgr.shape[1] * (bgr.shape[2] if bgr.ndim == 3 else 1)
    msg.data = bgr.tobytes()
    return msg


class Harness:
    """A second node that publishes camera frames and records elevator/state messages."""

    def __init__(self, executor: Any, compressed: bool = False) -> None:
        from rclpy.node import Node
        from sensor_msgs.msg import CompressedImage, Image
        from std_msgs.msg import String

        from multifloor_slam.nodes.common import sensor_qos

        self.node = Node(f'elevator_test_{time.monotonic_ns()}')
        topic, kind = (
            ('camera/image_raw/compressed', CompressedImage)
            if compressed
            else ('camera/image_raw', Image)
        )
        self.pub = self.node.create_publisher(kind, topic, sensor_qos(1))
        self.states: list[dict[str, Any]] = []
        self.newest_stamp_at_receipt: list[float] = []
        self.last_stamp = 0.0
        self.node.create_subscription(String, 'elevator/state', self._on_state, 10)
        executor.add_node(self.node)

    def _on_state(self, msg: Any) -> None:
        self.states.append(json.loads(msg.data))
        self.newest_stamp_at_receipt.append(self.last_stamp)

    def publish(self, msg: Any, stamp: float) -> None:
        self.last_stamp = stamp
        self.pub.publish(msg)


def _elevator_frame() -> np.ndarray:
    """A fresh landing scene (never seen in training) where the model sees a large door."""
    from multifloor_slam.elevators.detector import DetectorParams, ElevatorDetector
    from multifloor_slam.sim.elevator_scenes import SceneParams, render_scene

    global _FRAME
    if _FRAME is not None:
        return _FRAME
    detector = ElevatorDetector(DetectorParams(device='cpu'))
    params = SceneParams(p_inside=0.0, p_negative=0.0, height=240)
    for i in range(100):
        image = render_scene(FRESH_SEED, i, params).image
        doors = [
            d
            for d in detector.detect(image)
            if d.class_name.startswith('elevator_door') and d.area_fraction(image.shape) > 0.05
        ]
        if doors and max(d.confidence for d in doors) > 0.5:
            _FRAME = image
            return image
    raise AssertionError('the model found no door in 100 fresh scenes')


_FRAME: np.ndarray | None = None


def _wait_for_subscriber(executor: Any, spin: Callable[..., bool], harness: Harness) -> None:
    assert spin(executor, lambda: harness.pub.get_subscription_count() > 0, 10.0)


def test_node_publishes_elevator_state_for_camera_frames(
    executor: Any, spin: Callable[..., bool]
) -> None:
    node = _node(window=3, min_hits=2, device='cpu')
    executor.add_node(node)
    h = Harness(executor)
    _wait_for_subscriber(executor, spin, h)
    frame = _elevator_frame()
    t = 100.0

    def feed(image: np.ndarray, want: Callable[[dict[str, Any]], bool]) -> bool:
        nonlocal t
        deadline = time.monotonic() + 15.0
        while time.monotonic() < deadline:
            t += 0.1
            h.publish(_image_msg(image, t), t)
            spin(executor, lambda: False, 0.1)
            if h.states and want(h.states[-1]):
                return True
        return False

    assert feed(frame, lambda s: s['state'] in ('approaching', 'doors_open')), h.states[-5:]
    assert {'state', 'confidence', 'stamp'} <= set(h.states[-1])
    assert 0.0 < h.states[-1]['confidence'] <= 1.0
    blank = np.full((240, 320, 3), 128, np.uint8)
    assert feed(blank, lambda s: s['state'] == 'none'), h.states[-5:]
    assert node.stats.processed >= 4
    assert node.stats.errors == 0


def test_node_decodes_compressed_frames_and_counts_corrupt_ones(
    executor: Any, spin: Callable[..., bool]
) -> None:
    from sensor_msgs.msg import CompressedImage

    node = _node(use_compressed=True, window=2, min_hits=1, device='cpu')
    executor.add_node(node)
    h = Harness(executor, compressed=True)
    _wait_for_subscriber(executor, spin, h)
    ok, jpg = cv2.imencode('.jpg', _elevator_frame())
    assert ok
    bad = CompressedImage(format='jpeg', data=b'\xff\xd8 definitely not a jpeg')
    h.publish(bad, 1.0)
    assert spin(executor, lambda: node.stats.errors >= 1, 10.0)
    good = CompressedImage(format='jpeg', data=jpg.tobytes())
    good.header.stamp.sec = 2
    h.publish(good, 2.0)
    assert spin(executor, lambda: len(h.states) >= 1, 10.0)
    assert h.states[-1]['stamp'] == pytest.approx(2.0)
    empty = CompressedImage(format='jpeg')
    h.publish(empty, 3.0)
    assert spin(executor, lambda: node.stats.errors >= 2, 10.0)


def test_node_counts_bad_raw_images_and_keeps_running(
    executor: Any, spin: Callable[..., bool]
) -> None:
    from sensor_msgs.msg import Image

    node = _node(device='cpu')
    executor.add_node(node)
    h = Harness(executor)
    _wait_for_subscriber(executor, spin, h)
    frame = _elevator_frame()
    wrong = _image_msg(frame, 1.0)
    wrong.encoding = '32FC1'  # depth images are not camera frames
    zero = Image(encoding='bgr8')
    short = _image_msg(frame, 3.0)
    short.data = frame.tobytes()[:1000]
    for k, msg in enumerate((wrong, zero, short), start=1):
        h.publish(msg, float(k))
        assert spin(executor, lambda k=k: node.stats.errors >= k, 10.0), k
    for enc, img in (
        ('rgb8', frame[..., ::-1]),
        ('mono8', frame[..., 1]),
        ('bgra8', np.dstack([frame, frame[..., :1]])),
    ):
        n = len(h.states)
        h.publish(_image_msg(np.ascontiguousarray(img), 5.0, enc), 5.0)
        assert spin(executor, lambda n=n: len(h.states) > n, 10.0), enc
    assert node.stats.errors == 3
    # Each reason is a kind of its own (its own throttle and count), not one shared counter.
    assert sorted(node.bad_input.totals.values()) == [1, 1, 1], node.bad_input.totals
    assert all(kind.startswith('camera frame: ') for kind in node.bad_input.totals)


def test_node_drops_frames_instead_of_queueing_when_camera_is_faster(
    executor: Any, spin: Callable[..., bool]
) -> None:
    node = _node(max_rate_hz=8.0, device='cpu')
    executor.add_node(node)
    h = Harness(executor)
    _wait_for_subscriber(executor, spin, h)
    frame = cv2.resize(_elevator_frame(), (640, 480))
    msg_bytes = frame.tobytes()
    start = time.monotonic()
    next_t = start
    published = 0
    while next_t - start < 3.0:
        stamp = 1000.0 + (time.monotonic() - start)
        msg = _image_msg(frame, stamp)
        msg.data = msg_bytes
        h.publish(msg, stamp)
        published += 1
        next_t += 1.0 / 30.0
        while (left := next_t - time.monotonic()) > 0:
            executor.spin_once(timeout_sec=left)
    spin(executor, lambda: False, 0.5)
    assert published >= 80
    assert len(h.states) >= 8
    lags = [
        newest - s['stamp'] for s, newest in zip(h.states, h.newest_stamp_at_receipt, strict=True)
    ]
    print(
        f'\npublished {published}, processed {node.stats.processed}, '
        f'dropped {node.stats.dropped}, '
        f'max lag {max(lags):.3f} s, max latency {node.stats.latency_max_s:.3f} s'
    )
    assert max(lags) < 0.75
    assert node.stats.latency_max_s < 0.75
    assert node.stats.dropped >= published // 3
    assert node.stats.processed <= 8.0 * 3.5 + 2


def test_missing_model_fails_at_start_with_model_error(
    rclpy_session: None, tmp_path: Path
) -> None:
    from multifloor_slam.errors import ModelError

    with pytest.raises(ModelError, match='not found'):
        _node(model_path=str(tmp_path / 'missing.pt'))


def test_config_file_lists_every_parameter_with_its_default() -> None:
    import dataclasses

    import yaml

    from multifloor_slam.elevators.detector import DetectorParams
    from multifloor_slam.elevators.laser_evidence import LaserParams
    from multifloor_slam.elevators.state import StateParams
    from multifloor_slam.nodes.elevator_detector import NodeParams

    config = Path(__file__).resolve().parents[2] / 'config' / 'multifloor_slam.yaml'
    section = yaml.safe_load(config.read_text())['elevator_detector']['ros__parameters']
    defaults = {
        f.name: f.default
        for c in (DetectorParams, StateParams, LaserParams, NodeParams)
        for f in dataclasses.fields(c)
    }
    assert section == defaults
    for name, value in section.items():
        assert type(value) is type(defaults[name]), name  # ROS parameters are strictly typed
