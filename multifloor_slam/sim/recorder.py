"""Turn simulated sensor streams into ROS 2 messages and write them, in time order, to a bag.

Each stream is a lazy generator of ``(t_ns, topic, message)``; ``heapq.merge`` interleaves them
so the bag is written in log-time order without holding the camera frames in memory.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from multifloor_slam.io.bag_writer import BagWriter
from multifloor_slam.sim.camera import CameraModel, CameraScene, render_camera_view
from multifloor_slam.sim.sensors import LaserModel, Odometry, SlamPoses

Item = tuple[int, str, Any]

#: Topics the simulator writes (relative names; the bag stores them absolute).
TOPIC_SCAN = 'scan'
TOPIC_ODOM = 'odom'
TOPIC_POSE = 'pose'
TOPIC_PRESSURE = 'barometer/pressure'
TOPIC_IMAGE = 'camera/image_raw'
TOPIC_IMAGE_COMPRESSED = 'camera/image_raw/compressed'
TOPIC_CAMERA_INFO = 'camera/camera_info'
TOPIC_CLOCK = '/clock'
TOPIC_TF = '/tf'
TOPIC_TF_STATIC = '/tf_static'


class MessageFactory:
    """Builds rosbags message objects for one bag (type store of the writer)."""

    def __init__(self, writer: BagWriter, start_time_s: float) -> None:
        self.w = writer
        self.t0 = start_time_s
        self._time = writer.typestore.types['builtin_interfaces/msg/Time']
        self._header = writer.typestore.types['std_msgs/msg/Header']

    def ns(self, t: float) -> int:
        """Tour seconds -> absolute nanoseconds."""
        return round((self.t0 + t) * 1e9)

    def stamp(self, t: float) -> Any:
        """builtin_interfaces/Time of tour time ``t``."""
        ns = self.ns(t)
        return self._time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)

    def header(self, t: float, frame: str) -> Any:
        """std_msgs/Header at tour time ``t``."""
        return self._header(stamp=self.stamp(t), frame_id=frame)

    def pose(self, x: float, y: float, yaw: float) -> Any:
        """geometry_msgs/Pose of a planar pose."""
        m = self.w.msg
        return m(
            'geometry_msgs/msg/Pose',
            position=m('geometry_msgs/msg/Point', x=float(x), y=float(y), z=0.0),
            orientation=m(
                'geometry_msgs/msg/Quaternion',
                x=0.0,
                y=0.0,
                z=float(np.sin(yaw / 2)),
                w=float(np.cos(yaw / 2)),
            ),
        )


def _cov(diag: tuple[float, ...]) -> NDArray[np.float64]:
    return np.diag(np.asarray(diag, np.float64)).ravel()


def scan_stream(
    f: MessageFactory,
    batches: Iterable[tuple[NDArray[np.float64], NDArray[np.float32]]],
    laser: LaserModel,
) -> Iterator[Item]:
    """LaserScan messages on ``scan`` (frame ``laser``)."""
    empty = np.zeros(0, np.float32)
    for tb, ranges in batches:
        for t, r in zip(tb, ranges, strict=True):
            msg = f.w.msg(
                'sensor_msgs/msg/LaserScan',
                header=f.header(t, 'laser'),
                angle_min=laser.angle_min,
                angle_max=laser.angle_min + laser.angle_increment * (laser.beams - 1),
                angle_increment=laser.angle_increment,
                time_increment=1.0 / laser.rate_hz / laser.beams,
                scan_time=1.0 / laser.rate_hz,
                range_min=laser.range_min,
                range_max=laser.range_max,
                ranges=r,
                intensities=empty,
            )
            yield f.ns(t), TOPIC_SCAN, msg


def odom_stream(f: MessageFactory, odo: Odometry) -> Iterator[Item]:
    """nav_msgs/Odometry on ``odom`` (frame ``odom``, child ``base_link``)."""
    m = f.w.msg
    pcov = _cov((0.01, 0.01, 1e6, 1e6, 1e6, 0.02))
    tcov = _cov((0.01, 1e6, 1e6, 1e6, 1e6, 0.01))
    for t, x, y, yaw, v, w in zip(odo.t, odo.x, odo.y, odo.yaw, odo.v, odo.w, strict=True):
        msg = m(
            'nav_msgs/msg/Odometry',
            header=f.header(t, 'odom'),
            child_frame_id='base_link',
            pose=m(
                'geometry_msgs/msg/PoseWithCovariance', pose=f.pose(x, y, yaw), covariance=pcov
            ),
            twist=m(
                'geometry_msgs/msg/TwistWithCovariance',
                twist=m(
                    'geometry_msgs/msg/Twist',
                    linear=m('geometry_msgs/msg/Vector3', x=float(v), y=0.0, z=0.0),
                    angular=m('geometry_msgs/msg/Vector3', x=0.0, y=0.0, z=float(w)),
                ),
                covariance=tcov,
            ),
        )
        yield f.ns(t), TOPIC_ODOM, msg


def pose_stream(f: MessageFactory, slam: SlamPoses, sigma_xy: float, sigma_yaw: float):
    """PoseWithCovarianceStamped on ``pose`` (frame ``map``), as slam_toolbox publishes it."""
    m = f.w.msg
    cov = _cov((sigma_xy**2, sigma_xy**2, 0.0, 0.0, 0.0, sigma_yaw**2))
    for t, x, y, yaw in zip(slam.t, slam.x, slam.y, slam.yaw, strict=True):
        msg = m(
            'geometry_msgs/msg/PoseWithCovarianceStamped',
            header=f.header(t, 'map'),
            pose=m('geometry_msgs/msg/PoseWithCovariance', pose=f.pose(x, y, yaw), covariance=cov),
        )
        yield f.ns(t), TOPIC_POSE, msg


def pressure_stream(
    f: MessageFactory, t: NDArray[np.float64], p: NDArray[np.float64], variance: float
) -> Iterator[Item]:
    """sensor_msgs/FluidPressure (Pa) on ``barometer/pressure``."""
    for ti, pi in zip(t, p, strict=True):
        msg = f.w.msg(
            'sensor_msgs/msg/FluidPressure',
            header=f.header(ti, 'barometer'),
            fluid_pressure=float(pi),
            variance=variance,
        )
        yield f.ns(ti), TOPIC_PRESSURE, msg


def camera_stream(
    f: MessageFactory,
    scenes: Iterable[tuple[float, CameraScene]],
    model: CameraModel,
    rng: np.random.Generator,
    compressed: bool,
    jpeg_quality: int = 85,
) -> Iterator[Item]:
    """Image (bgr8) or CompressedImage (jpeg) plus CameraInfo for every rendered frame."""
    m = f.w.msg
    fx = model.fx
    k = np.array([fx, 0, model.width / 2, 0, fx, model.height / 2, 0, 0, 1], np.float64)
    p = np.array([fx, 0, model.width / 2, 0, 0, fx, model.height / 2, 0, 0, 0, 1, 0], np.float64)
    roi = m(
        'sensor_msgs/msg/RegionOfInterest',
        x_offset=0,
        y_offset=0,
        height=0,
        width=0,
        do_rectify=False,
    )
    for t, scene in scenes:
        img = render_camera_view(scene, rng)
        header = f.header(t, 'camera_optical_frame')
        if compressed:
            _, buf = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
            msg = m(
                'sensor_msgs/msg/CompressedImage',
                header=header,
                format='bgr8; jpeg compressed bgr8',
                data=buf.ravel(),
            )
            yield f.ns(t), TOPIC_IMAGE_COMPRESSED, msg
        else:
            msg = m(
                'sensor_msgs/msg/Image',
                header=header,
                height=img.shape[0],
                width=img.shape[1],
                encoding='bgr8',
                is_bigendian=0,
                step=img.shape[1] * 3,
                data=img.reshape(-1),
            )
            yield f.ns(t), TOPIC_IMAGE, msg
        info = m(
            'sensor_msgs/msg/CameraInfo',
            header=header,
            height=model.height,
            width=model.width,
            distortion_model='plumb_bob',
            d=np.zeros(5),
            k=k,
            r=np.eye(3).ravel(),
            p=p,
            binning_x=0,
            binning_y=0,
            roi=roi,
        )
        yield f.ns(t), TOPIC_CAMERA_INFO, info


def _transform(
    f: MessageFactory, t: float, parent: str, child: str, xyz: Sequence[float], yaw: float
) -> Any:
    m = f.w.msg
    return m(
        'geometry_msgs/msg/TransformStamped',
        header=f.header(t, parent),
        child_frame_id=child,
        transform=m(
            'geometry_msgs/msg/Transform',
            translation=m(
                'geometry_msgs/msg/Vector3', x=float(xyz[0]), y=float(xyz[1]), z=float(xyz[2])
            ),
            rotation=m(
                'geometry_msgs/msg/Quaternion',
                x=0.0,
                y=0.0,
                z=float(np.sin(yaw / 2)),
                w=float(np.cos(yaw / 2)),
            ),
        ),
    )


#: Sensor mounts on the robot (x, y, z, yaw in base_link).
MOUNTS = {
    'laser': (0.0, 0.0, 0.25, 0.0),
    'camera_link': (0.15, 0.0, 1.0, 0.0),
    'barometer': (0.0, 0.0, 0.3, 0.0),
}


def tf_static_stream(f: MessageFactory) -> Iterator[Item]:
    """One latched /tf_static message with the sensor mounts (camera optical frame too)."""
    tfs = [_transform(f, 0.0, 'base_link', k, v[:3], v[3]) for k, v in MOUNTS.items()]
    m = f.w.msg
    optical = _transform(f, 0.0, 'camera_link', 'camera_optical_frame', (0, 0, 0), 0.0)
    # Optical frame: z forward, x right, y down (REP 103 camera convention).
    optical.transform.rotation = m('geometry_msgs/msg/Quaternion', x=-0.5, y=0.5, z=-0.5, w=0.5)
    tfs.append(optical)
    yield f.ns(0.0), TOPIC_TF_STATIC, m('tf2_msgs/msg/TFMessage', transforms=tfs)


def tf_stream(f: MessageFactory, odo: Odometry, slam: SlamPoses) -> Iterator[Item]:
    """/tf: odom -> base_link at the odometry rate, map -> odom at the SLAM pose rate.

    map -> odom is the SLAM pose composed with the inverse odometry pose, as slam_toolbox
    publishes it, so it jumps with the SLAM pose after each ride.
    """
    m = f.w.msg

    def odom_tfs() -> Iterator[Item]:
        for t, x, y, yaw in zip(odo.t, odo.x, odo.y, odo.yaw, strict=True):
            tf = _transform(f, t, 'odom', 'base_link', (x, y, 0.0), yaw)
            yield f.ns(t), TOPIC_TF, m('tf2_msgs/msg/TFMessage', transforms=[tf])

    def map_tfs() -> Iterator[Item]:
        k = np.clip(np.searchsorted(odo.t, slam.t - 1e-9), 0, len(odo.t) - 1)
        oyaw = odo.yaw[k]
        yaw = slam.yaw - oyaw
        c, s = np.cos(yaw), np.sin(yaw)
        x = slam.x - (c * odo.x[k] - s * odo.y[k])
        y = slam.y - (s * odo.x[k] + c * odo.y[k])
        for j, t in enumerate(slam.t):
            tf = _transform(f, t, 'map', 'odom', (x[j], y[j], 0.0), yaw[j])
            yield f.ns(t), TOPIC_TF, m('tf2_msgs/msg/TFMessage', transforms=[tf])

    yield from heapq.merge(odom_tfs(), map_tfs(), key=lambda item: item[0])


def clock_stream(f: MessageFactory, duration: float, rate_hz: float) -> Iterator[Item]:
    """rosgraph_msgs/Clock on ``/clock``."""
    for t in np.arange(0.0, duration, 1.0 / rate_hz):
        yield f.ns(t), TOPIC_CLOCK, f.w.msg('rosgraph_msgs/msg/Clock', clock=f.stamp(t))


def write_streams(writer: BagWriter, streams: list[Iterator[Item]]) -> None:
    """Write all streams merged in log-time order."""
    for t_ns, topic, msg in heapq.merge(*streams, key=lambda item: item[0]):
        writer.write(topic, t_ns, msg)


__all__ = [
    'MOUNTS',
    'TOPIC_CAMERA_INFO',
    'TOPIC_CLOCK',
    'TOPIC_IMAGE',
    'TOPIC_IMAGE_COMPRESSED',
    'TOPIC_ODOM',
    'TOPIC_POSE',
    'TOPIC_PRESSURE',
    'TOPIC_SCAN',
    'TOPIC_TF',
    'TOPIC_TF_STATIC',
    'MessageFactory',
    'camera_stream',
    'clock_stream',
    'odom_stream',
    'pose_stream',
    'pressure_stream',
    'scan_stream',
    'tf_static_stream',
    'tf_stream',
    'write_streams',
]
