"""ROS 2 node ``elevator_detector``: camera frames -> elevator state, detections and a debug image.

Newest frame only, never a backlog: the subscription (best effort, depth 1) callback only keeps a
reference to the latest message and counts the one it replaces as dropped. A worker thread runs
the detector on whatever is newest when it becomes free, so inference time never turns into
queueing delay, and the executor stays free to take new frames while the network runs. Image
bytes are wrapped with ``np.frombuffer`` (no copy). Bad frames (unknown encodings, sizes that do
not match the data, undecodable compressed bytes) are counted and logged per kind, each kind at
most every ``log_period_s`` (:class:`~multifloor_slam.pipeline.bad_input.BadInputLog`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from rclpy.node import Node
from sensor_msgs.msg import CompressedImage, Image, LaserScan
from std_msgs.msg import Bool, String

from multifloor_slam.elevators.detector import DetectorParams, ElevatorDetector, draw_detections
from multifloor_slam.elevators.laser_evidence import LaserParams
from multifloor_slam.elevators.state import ElevatorStateMachine, StateParams
from multifloor_slam.errors import ConfigError, InputDataError, MultifloorError
from multifloor_slam.io import ros_adapter
from multifloor_slam.io.ros_messages import bgr_image, detection_array
from multifloor_slam.nodes.common import (
    LATCHED_QOS,
    RELIABLE_QOS,
    SENSOR_QOS,
    declare_dataclass,
    sensor_qos,
    spin_node,
)
from multifloor_slam.pipeline.bad_input import BadInputLog, reason_key
from multifloor_slam.pipeline.elevator_stage import ElevatorOutput, ElevatorStage


@dataclass(frozen=True)
class NodeParams:
    """Node-level settings.

    Attributes:
        max_rate_hz: most inferences per second (0 = as fast as the detector runs).
        use_compressed: subscribe ``camera/image_raw/compressed`` instead of ``camera/image_raw``.
        publish_debug_image: publish ``elevator/debug_image`` (only drawn when subscribed).
        log_period_s: period of the latency / dropped-frame log line.
    """

    max_rate_hz: float = 0.0
    use_compressed: bool = False
    publish_debug_image: bool = True
    log_period_s: float = 10.0

    def __post_init__(self) -> None:
        if self.max_rate_hz < 0 or self.log_period_s <= 0:
            raise ConfigError('max_rate_hz must be >= 0 and log_period_s > 0')


DESCRIPTIONS = {
    'model_path': 'YOLO .pt file; empty = share/multifloor_slam/models/elevator_yolo.pt',
    'device': "'auto' (CUDA when available, else CPU), 'cpu' or 'cuda:N'",
    'half': 'FP16 inference on CUDA (ignored on CPU)',
    'imgsz': 'network input size in pixels (multiple of 32)',
    'conf': 'minimum detection confidence',
    'iou': 'NMS IoU threshold',
    'max_det': 'most detections per frame',
    'cpu_threads': 'torch CPU threads (process-wide); 0 = cores - 1 (max 8)',
    'backend': "'auto' (CUDA: PyTorch FP16; CPU: OpenVINO, else ONNX Runtime), 'pytorch', "
    "'openvino' or 'onnx' (exported once into ~/.cache/multifloor_slam)",
    'window': 'M: frames in the smoothing window',
    'min_hits': 'N: frames of the window that must show a state',
    'min_confidence': 'detections below this score do not count as state evidence',
    'door_area': 'minimum image share of a door box to count as approaching',
    'panel_area': 'minimum image share of a call panel box',
    'inside_area': 'minimum image share of an interior box to count as inside',
    'max_gap_s': 'a longer gap between frames clears the smoothing window',
    'max_rate_hz': 'most inferences per second (0 = unlimited)',
    'use_compressed': 'subscribe camera/image_raw/compressed (sensor_msgs/CompressedImage)',
    'publish_debug_image': 'publish elevator/debug_image with the boxes drawn',
    'log_period_s': 'period of the latency and dropped-frame log line',
}


@dataclass
class DetectorStats:
    """Counters of the node (read by tests and the benchmark)."""

    received: int = 0
    processed: int = 0
    dropped: int = 0
    errors: int = 0
    latency_sum_s: float = 0.0
    latency_max_s: float = 0.0
    last_latency_s: float = 0.0
    inference_sum_s: float = 0.0


class ElevatorDetectorNode(Node):
    """Camera -> ``elevator/state`` (+ ``elevator/debug_image``, ``elevator/detections``).

    ``floor/riding`` and ``scan`` (``use_barometer``, ``use_laser``) feed the fused state.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('elevator_detector', **kwargs)
        self.detector_params = declare_dataclass(self, DetectorParams, DESCRIPTIONS)
        self.state_params = declare_dataclass(self, StateParams, DESCRIPTIONS)
        self.node_params = declare_dataclass(self, NodeParams, DESCRIPTIONS)
        self.laser_params = declare_dataclass(self, LaserParams, DESCRIPTIONS)
        try:
            detector = ElevatorDetector(self.detector_params)
        except MultifloorError as err:
            self.get_logger().fatal(str(err))
            self.destroy_node()
            raise
        machine = ElevatorStateMachine(self.state_params, self.laser_params)
        self.stage = ElevatorStage(detector, machine)
        self.stats = DetectorStats()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._latest: tuple[Any, float] | None = None
        #: refused frames by kind, with per-kind throttled warnings
        self.bad_input = BadInputLog(period_s=self.node_params.log_period_s)
        self._pub_state = self.create_publisher(String, 'elevator/state', LATCHED_QOS)
        self._pub_debug = (
            self.create_publisher(Image, 'elevator/debug_image', RELIABLE_QOS)
            if self.node_params.publish_debug_image
            else None
        )
        self._vision = self._make_detection_publisher()
        if self.node_params.use_compressed:
            topic, msg_type = 'camera/image_raw/compressed', CompressedImage
        else:
            topic, msg_type = 'camera/image_raw', Image
        self._sub = self.create_subscription(msg_type, topic, self._on_image, sensor_qos(1))
        if self.state_params.use_barometer:  # latched, as floor_map_manager subscribes it
            self.create_subscription(Bool, 'floor/riding', self._on_riding, LATCHED_QOS)
        if self.state_params.use_laser:
            self.create_subscription(LaserScan, 'scan', self._on_scan, SENSOR_QOS)
        self._timer = self.create_timer(self.node_params.log_period_s, self._log_stats)
        self._worker = threading.Thread(target=self._run, name='elevator_detector', daemon=True)
        self._worker.start()
        self.get_logger().info(
            f'model {self.detector.model_path} on {self.detector.device} '
            f'({self.detector.backend}{" fp16" if self.detector.half else ""}), '
            f'imgsz {self.detector_params.imgsz}, '
            f'listening on {self.resolve_topic_name(topic)}'
        )

    def _make_detection_publisher(self) -> Any:
        try:
            from vision_msgs.msg import Detection2DArray
        except ImportError:
            self.get_logger().info('vision_msgs not installed: elevator/detections not published')
            return None
        return self.create_publisher(Detection2DArray, 'elevator/detections', RELIABLE_QOS)

    def _on_image(self, msg: Any) -> None:
        """Keep only a reference to the newest frame; the one it replaces is dropped."""
        with self._lock:
            self.stats.received += 1
            if self._latest is not None:
                self.stats.dropped += 1
            self._latest = (msg, time.monotonic())
        self._wake.set()

    def _on_riding(self, msg: Any) -> None:
        """``floor/riding``: barometer evidence for the next frames (Bool has no stamp: now)."""
        rec = ros_adapter.bool_record(msg, self.get_clock().now().nanoseconds * 1e-9)
        self.stage.on_riding(rec.t, rec.value)

    def _on_scan(self, msg: Any) -> None:
        """A laser scan: car enclosure and door gap evidence (at most ``laser_rate_hz``)."""
        try:
            self.stage.on_scan(
                ros_adapter.scan_record(msg, self.get_clock().now().nanoseconds * 1e-9)
            )
        except InputDataError as err:
            line = self.bad_input.count(f'scan: {reason_key(str(err))}', str(err)[:200])
            if line is not None:
                self.get_logger().warning(line)

    def _run(self) -> None:
        min_period = 1.0 / self.node_params.max_rate_hz if self.node_params.max_rate_hz else 0.0
        next_time = 0.0
        while not self._stop.is_set():
            if not self._wake.wait(timeout=0.1):
                continue
            if min_period:
                delay = next_time - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    break
                next_time = max(next_time + min_period, time.monotonic())
            with self._lock:
                item, self._latest = self._latest, None
                self._wake.clear()
            if item is not None:
                self._process(*item)

    @property
    def detector(self) -> ElevatorDetector:
        """The stage's detector."""
        return self.stage.detector

    def _process(self, msg: Any, received: float) -> None:
        try:
            rec = ros_adapter.image_record(msg, self.get_clock().now().nanoseconds * 1e-9)
            t0 = time.monotonic()
            out = self.stage.on_image(rec)
            infer = time.monotonic() - t0
        except InputDataError as err:
            self._count_error(reason_key(str(err)), str(err))
            return
        except Exception as err:
            self._count_error(type(err).__name__, f'{type(err).__name__}: {err}')
            return
        self._publish(msg.header, rec.image, out)
        latency = time.monotonic() - received
        with self._lock:
            s = self.stats
            s.processed += 1
            s.last_latency_s = latency
            s.latency_sum_s += latency
            s.latency_max_s = max(s.latency_max_s, latency)
            s.inference_sum_s += infer

    def _publish(self, header: Any, bgr: np.ndarray, out: ElevatorOutput) -> None:
        self._pub_state.publish(String(data=out.json))
        if self._vision is not None:
            self._vision.publish(detection_array(header, out.detections))
        if self._pub_debug is not None and self._pub_debug.get_subscription_count() > 0:
            title = f'{out.state.state} {out.state.confidence:.2f}'
            img = draw_detections(bgr, out.detections, title)
            self._pub_debug.publish(bgr_image(img, header))

    def _count_error(self, reason: str, text: str) -> None:
        with self._lock:
            self.stats.errors += 1
        line = self.bad_input.count(f'camera frame: {reason}', text[:200])
        if line is not None:
            self.get_logger().warning(line)

    def _log_stats(self) -> None:
        for line in self.bad_input.pending():
            self.get_logger().warning(line)
        with self._lock:
            s = DetectorStats(**vars(self.stats))
        if s.processed:
            self.get_logger().info(
                f'{s.processed} frames processed, {s.dropped} dropped, {s.errors} bad; latency '
                f'mean {1e3 * s.latency_sum_s / s.processed:.1f} ms '
                f'max {1e3 * s.latency_max_s:.1f} ms, '
                f'inference mean {1e3 * s.inference_sum_s / s.processed:.1f} ms'
            )

    def close(self) -> None:
        """Stop the worker thread (called before the node is destroyed)."""
        self._stop.set()
        self._wake.set()
        if self._worker.is_alive():
            self._worker.join(timeout=5.0)


def main(args: list[str] | None = None) -> None:
    """Entry point of ``ros2 run multifloor_slam elevator_detector``."""
    spin_node(ElevatorDetectorNode, args)


__all__ = ['ElevatorDetectorNode', 'main']
