"""The one place where ROS messages become the package's records.

rclpy messages and ``rosbags`` messages have the same field names, so every function here is
duck-typed and works on both: the live nodes, the bag reader, ``floors`` and ``process`` all
convert through it, and nothing past it sees a message. No ROS import here.

Stamps: a message's header stamp when it has a non-zero one, else ``receive_t`` (the log time
in a bag, the node clock live). Image bytes are wrapped with ``np.frombuffer`` (no copy).
"""

from __future__ import annotations

import array
import json
import math
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from multifloor_slam.elevators.state import ElevatorState
from multifloor_slam.errors import InputDataError
from multifloor_slam.io.records import (
    BoolRecord,
    CameraInfoRecord,
    ElevatorStateRecord,
    FloorRecord,
    FloorTableRecord,
    GridRecord,
    ImageRecord,
    PoseRecord,
    PressureRecord,
    Record,
    ScanRecord,
    TemperatureRecord,
    ValueRecord,
)

#: ``sensor_msgs/Image`` encodings of 8-bit pixels: channels and the conversion to BGR.
_CHANNELS: dict[str, tuple[int, int | None]] = {
    'bgr8': (3, None),
    'rgb8': (3, cv2.COLOR_RGB2BGR),
    'bgra8': (4, cv2.COLOR_BGRA2BGR),
    'rgba8': (4, cv2.COLOR_RGBA2BGR),
    'mono8': (1, cv2.COLOR_GRAY2BGR),
    '8uc1': (1, cv2.COLOR_GRAY2BGR),
    '8uc3': (3, None),
    'bayer_rggb8': (1, cv2.COLOR_BayerBG2BGR),
    'bayer_bggr8': (1, cv2.COLOR_BayerRG2BGR),
    'bayer_gbrg8': (1, cv2.COLOR_BayerGR2BGR),
    'bayer_grbg8': (1, cv2.COLOR_BayerGB2BGR),
}
#: Packed 4:2:2 encodings (2 bytes per pixel).
_YUV: dict[str, int] = {
    'yuv422': cv2.COLOR_YUV2BGR_UYVY,
    'uyvy': cv2.COLOR_YUV2BGR_UYVY,
    'yuv422_yuy2': cv2.COLOR_YUV2BGR_YUY2,
    'yuyv': cv2.COLOR_YUV2BGR_YUY2,
}
_MONO16 = ('mono16', '16uc1')
#: Every encoding :func:`image_to_bgr` accepts.
IMAGE_ENCODINGS: tuple[str, ...] = (*_CHANNELS, *_YUV, *_MONO16)


def stamp_to_sec(stamp: Any) -> float:
    """``builtin_interfaces/Time`` -> float seconds."""
    return float(stamp.sec) + float(stamp.nanosec) * 1e-9


def header_stamp(msg: Any) -> float | None:
    """The header stamp in seconds; None without a header, 0.0 for an unset stamp."""
    header = getattr(msg, 'header', None)
    return None if header is None else stamp_to_sec(header.stamp)


def message_time(msg: Any, receive_t: float) -> float:
    """Header stamp when set, else ``receive_t``."""
    t = header_stamp(msg)
    return t if t is not None and t > 0.0 and math.isfinite(t) else float(receive_t)


def frame_id(msg: Any) -> str:
    """``header.frame_id`` or ''."""
    header = getattr(msg, 'header', None)
    return str(header.frame_id) if header is not None else ''


def yaw_from_quaternion(q: Any) -> float:
    """Heading (rad) of a ``geometry_msgs/Quaternion``."""
    return math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))


def image_to_bgr(msg: Any) -> NDArray[np.uint8]:
    """``sensor_msgs/Image`` -> (H, W, 3) uint8 BGR; a view on the message bytes for bgr8.

    Raises:
        InputDataError: unsupported encoding, zero size, or data shorter than the header says.
    """
    enc = str(msg.encoding).lower()
    if enc not in IMAGE_ENCODINGS:
        raise InputDataError(
            f'unsupported image encoding {msg.encoding!r} '
            f'(supported: {", ".join(IMAGE_ENCODINGS)})'
        )
    h, w = int(msg.height), int(msg.width)
    if h <= 0 or w <= 0:
        raise InputDataError(f'zero-size image {w}x{h}')
    bpp = 2 if enc in _YUV or enc in _MONO16 else _CHANNELS[enc][0]
    step = int(msg.step) or w * bpp
    data = np.frombuffer(msg.data, np.uint8)
    if step < w * bpp or data.size < h * step:
        raise InputDataError(f'image data ({data.size} B) too short for {w}x{h} {enc} step {step}')
    rows = data[: h * step].reshape(h, step)[:, : w * bpp]
    if enc in _MONO16:
        dt = np.dtype('>u2' if msg.is_bigendian else '<u2')
        gray = (np.ascontiguousarray(rows).view(dt) >> 8).astype(np.uint8)
        return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)  # type: ignore[return-value]
    if enc in _YUV:
        if w % 2:
            raise InputDataError(f'{enc} image of odd width {w}: 4:2:2 pairs pixels')
        packed = np.ascontiguousarray(rows).reshape(h, w, 2)
        return cv2.cvtColor(packed, _YUV[enc])  # type: ignore[return-value]
    ch, code = _CHANNELS[enc]
    img = rows.reshape(h, w, ch) if ch > 1 else rows
    if code is None:
        return img
    return cv2.cvtColor(np.ascontiguousarray(img), code)  # type: ignore[return-value]


def compressed_to_bgr(msg: Any) -> NDArray[np.uint8]:
    """``sensor_msgs/CompressedImage`` (JPEG/PNG) -> BGR.

    Raises:
        InputDataError: empty or undecodable data.
    """
    buf = np.frombuffer(msg.data, np.uint8)
    if buf.size == 0:
        raise InputDataError('empty compressed image')
    img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if img is None or img.size == 0:
        raise InputDataError(
            f'cannot decode compressed image ({getattr(msg, "format", "")!r}, {buf.size} B)'
        )
    return img  # type: ignore[return-value]


def is_compressed_image(msg: Any) -> bool:
    """CompressedImage has ``format`` and no ``encoding``."""
    return hasattr(msg, 'format') and not hasattr(msg, 'encoding')


def pressure_record(msg: Any, receive_t: float) -> PressureRecord:
    """``sensor_msgs/FluidPressure`` as published (units are decided by the floor stage)."""
    return PressureRecord(
        message_time(msg, receive_t), float(msg.fluid_pressure), None, float(msg.variance)
    )


def temperature_record(msg: Any, receive_t: float) -> TemperatureRecord:
    """``sensor_msgs/Temperature``."""
    return TemperatureRecord(message_time(msg, receive_t), float(msg.temperature))


def scan_record(msg: Any, receive_t: float) -> ScanRecord:
    """``sensor_msgs/LaserScan``; ranges stay a float32 view with inf/nan as sent (REP 117).

    Raises:
        InputDataError: fewer than 2 beams, or a beam geometry that is not finite.
    """
    ranges = msg.ranges
    if isinstance(ranges, array.array) and ranges.typecode == 'f':
        arr = np.frombuffer(ranges, np.float32)  # rclpy: a view, no copy
    else:
        arr = np.asarray(ranges, np.float32)
    if arr.size < 2:
        raise InputDataError(f'scan with {arr.size} beams')
    if not (math.isfinite(msg.angle_min) and math.isfinite(msg.angle_increment)):
        raise InputDataError(
            f'scan angles not finite (angle_min {msg.angle_min}, '
            f'angle_increment {msg.angle_increment})'
        )
    if msg.angle_increment == 0.0:
        raise InputDataError('scan angle_increment is 0')
    return ScanRecord(
        message_time(msg, receive_t),
        arr,
        float(msg.angle_min),
        float(msg.angle_increment),
        float(msg.range_min),
        float(msg.range_max),
        frame_id(msg),
    )


def pose_record(msg: Any, receive_t: float) -> PoseRecord:
    """PoseWithCovarianceStamped, PoseStamped or Odometry -> planar pose."""
    pose = msg.pose
    if hasattr(pose, 'pose'):  # PoseWithCovariance (in PoseWithCovarianceStamped, Odometry)
        pose = pose.pose
    p = pose.position
    return PoseRecord(
        message_time(msg, receive_t),
        float(p.x),
        float(p.y),
        yaw_from_quaternion(pose.orientation),
        frame_id(msg),
        float(p.z),
    )


def transform_pose_record(msg: Any, receive_t: float) -> PoseRecord:
    """``geometry_msgs/TransformStamped`` (a TF lookup, map -> base) -> planar pose."""
    tr = msg.transform
    return PoseRecord(
        message_time(msg, receive_t),
        float(tr.translation.x),
        float(tr.translation.y),
        yaw_from_quaternion(tr.rotation),
        frame_id(msg),
        float(tr.translation.z),
    )


def image_record(msg: Any, receive_t: float) -> ImageRecord:
    """Image or CompressedImage -> BGR frame (raises InputDataError on a bad frame)."""
    bgr = compressed_to_bgr(msg) if is_compressed_image(msg) else image_to_bgr(msg)
    return ImageRecord(message_time(msg, receive_t), bgr, frame_id(msg))


def camera_info_record(msg: Any, receive_t: float) -> CameraInfoRecord:
    """``sensor_msgs/CameraInfo``."""
    return CameraInfoRecord(
        message_time(msg, receive_t),
        int(msg.width),
        int(msg.height),
        np.asarray(msg.k, float).reshape(3, 3),
        str(msg.distortion_model),
    )


def elevator_state_record(msg: Any, receive_t: float) -> ElevatorStateRecord:
    """``elevator/state`` String -> record (raises InputDataError when it does not parse)."""
    raw = str(msg.data)
    state = ElevatorState.from_json(raw, receive_t)
    return ElevatorStateRecord(
        receive_t, state.state, state.confidence, raw, state.t if state.stamped else None
    )


def floor_record(msg: Any, receive_t: float) -> FloorRecord:
    """``floor/current`` (any std_msgs integer)."""
    return FloorRecord(float(receive_t), int(msg.data))


def bool_record(msg: Any, receive_t: float) -> BoolRecord:
    """``floor/riding``."""
    return BoolRecord(float(receive_t), bool(msg.data))


def value_record(msg: Any, receive_t: float) -> ValueRecord:
    """``floor/altitude`` (Float64 or Float32)."""
    return ValueRecord(float(receive_t), float(msg.data))


def floor_table_record(msg: Any, receive_t: float) -> FloorTableRecord:
    """``floor/table`` String (JSON of ``FloorTable.to_dict()``).

    Raises:
        InputDataError: not a JSON object with a ``floors`` list.
    """
    try:
        table = json.loads(str(msg.data))
    except ValueError as err:
        raise InputDataError('floor/table is not valid JSON') from err
    if not isinstance(table, dict) or not isinstance(table.get('floors'), list):
        raise InputDataError('floor/table: expected a JSON object with a "floors" list')
    return FloorTableRecord(float(receive_t), table)


def grid_record(msg: Any, receive_t: float) -> GridRecord:
    """``nav_msgs/OccupancyGrid`` -> int8 grid view (no copy).

    Raises:
        InputDataError: size and data disagree, or a non-positive resolution.
    """
    info = msg.info
    h, w = int(info.height), int(info.width)
    data = np.frombuffer(msg.data, np.int8) if not isinstance(msg.data, np.ndarray) else msg.data
    if h * w != data.size or h <= 0 or not info.resolution > 0:
        raise InputDataError(
            f'map {w}x{h} at {info.resolution} m does not match its {data.size} cells'
        )
    o = info.origin
    origin = (float(o.position.x), float(o.position.y), yaw_from_quaternion(o.orientation))
    return GridRecord(
        message_time(msg, receive_t),
        data.astype(np.int8, copy=False).reshape(h, w),
        float(info.resolution),
        origin,
        frame_id(msg),
    )


_CONVERTERS: dict[str, Callable[[Any, float], Record]] = {
    'pressure': pressure_record,
    'temperature': temperature_record,
    'scan': scan_record,
    'pose': pose_record,
    'odom': pose_record,
    'image': image_record,
    'camera_info': camera_info_record,
    'elevator_state': elevator_state_record,
    'floor': floor_record,
    'riding': bool_record,
    'altitude': value_record,
    'floor_table': floor_table_record,
    'slam_map': grid_record,
}
#: The stream kinds :func:`to_record` knows.
KINDS: tuple[str, ...] = tuple(_CONVERTERS)


def to_record(kind: str, msg: Any, receive_t: float) -> Record:
    """Message of stream ``kind`` -> record (raises on anything malformed)."""
    try:
        convert = _CONVERTERS[kind]
    except KeyError:
        raise ValueError(f'unknown stream kind {kind!r} (known: {", ".join(KINDS)})') from None
    return convert(msg, receive_t)


__all__ = [
    'IMAGE_ENCODINGS',
    'KINDS',
    'bool_record',
    'camera_info_record',
    'compressed_to_bgr',
    'elevator_state_record',
    'floor_record',
    'floor_table_record',
    'frame_id',
    'grid_record',
    'header_stamp',
    'image_record',
    'image_to_bgr',
    'is_compressed_image',
    'message_time',
    'pose_record',
    'pressure_record',
    'scan_record',
    'stamp_to_sec',
    'temperature_record',
    'to_record',
    'transform_pose_record',
    'value_record',
    'yaw_from_quaternion',
]
