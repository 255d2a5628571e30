"""ros_adapter: every ROS message the package reads becomes the right record.

Each message is built with rclpy (what the live nodes receive) and, through its CDR bytes, as a
``rosbags`` object (what the bag reader hands over): both must give the same record.
"""

from __future__ import annotations

import array
import json
import math
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import pytest
from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped, PoseWithCovarianceStamped
from nav_msgs.msg import OccupancyGrid, Odometry
from numpy.typing import NDArray
from rclpy.serialization import serialize_message
from sensor_msgs.msg import (
    CompressedImage,
    FluidPressure,
    Image,
    LaserScan,
    Temperature,
)
from std_msgs.msg import Bool, Float32, Int8, Int32, String

from multifloor_slam.elevators.state import ElevatorState
from multifloor_slam.errors import InputDataError
from multifloor_slam.floors.floor_table import FloorTable
from multifloor_slam.io import ros_adapter
from multifloor_slam.io.bag_writer import kilted_typestore
from multifloor_slam.io.records import (
    BoolRecord,
    ElevatorStateRecord,
    FloorRecord,
    FloorTableRecord,
    GridRecord,
    ImageRecord,
    PoseRecord,
    PressureRecord,
    ScanRecord,
    TemperatureRecord,
    ValueRecord,
)
from multifloor_slam.io.ros_adapter import IMAGE_ENCODINGS
from multifloor_slam.io.ros_messages import FLOOR_OUTPUT_TYPES, floor_output_msg, occupancy_grid
from multifloor_slam.maps.building import FloorLayer
from multifloor_slam.maps.occupancy_layer import OccupancyLayer
from multifloor_slam.pipeline.floor_stage import FloorOutput, floor_outputs

TS = kilted_typestore()
SOURCES = ('rclpy', 'rosbags')
H, W = 6, 8  # even sizes: 4:2:2 and Bayer pixels come in pairs


def as_rosbags(msg: Any) -> Any:
    """The rosbags object a bag holds for ``msg`` (same CDR bytes as DDS carries)."""
    name = type(msg).__module__.split('.')[0] + '/msg/' + type(msg).__name__
    return TS.deserialize_cdr(serialize_message(msg), name)


def convert(source: str, msg: Any) -> Any:
    return msg if source == 'rclpy' else as_rosbags(msg)


def stamp(t: float) -> Time:
    ns = round(t * 1e9)
    return Time(sec=ns // 10**9, nanosec=ns % 10**9)


# ---------------------------------------------------------------------------- images
def _blocky_bgr(rng: np.random.Generator) -> NDArray[np.uint8]:
    """Random saturated colours in 2x2 blocks (exact under 4:2:0 and 4:2:2 subsampling)."""
    blocks = rng.integers(20, 236, (H // 2, W // 2, 3), dtype=np.uint8)
    return np.repeat(np.repeat(blocks, 2, axis=0), 2, axis=1)


def _yuv422(bgr: NDArray[np.uint8], order: str) -> NDArray[np.uint8]:
    """Packed 4:2:2 bytes (H, W*2) built from OpenCV's planar I420 of ``bgr``."""
    i420 = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420).reshape(-1)
    y = i420[: H * W].reshape(H, W)
    u = i420[H * W : H * W + H * W // 4].reshape(H // 2, W // 2)
    v = i420[H * W + H * W // 4 :].reshape(H // 2, W // 2)
    u, v = np.repeat(u, 2, axis=0), np.repeat(v, 2, axis=0)  # 4:2:0 -> 4:2:2 (rows)
    out = np.empty((H, W // 2, 4), np.uint8)
    if order == 'uyvy':
        out[..., 0], out[..., 1], out[..., 2], out[..., 3] = u, y[:, 0::2], v, y[:, 1::2]
    else:  # yuyv
        out[..., 0], out[..., 1], out[..., 2], out[..., 3] = y[:, 0::2], u, y[:, 1::2], v
    return out.reshape(H, W * 2)


def _bayer(bgr: NDArray[np.uint8], pattern: str) -> NDArray[np.uint8]:
    """A Bayer mosaic; ``pattern`` names the 2x2 tile row by row (ROS: rggb = R G / G B)."""
    channel = {'b': 0, 'g': 1, 'r': 2}
    out = np.empty((H, W), np.uint8)
    for k, (dr, dc) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        out[dr::2, dc::2] = bgr[dr::2, dc::2, channel[pattern[k]]]
    return out


def encode(enc: str, rng: np.random.Generator) -> tuple[NDArray[np.uint8], NDArray[np.uint8], int]:
    """(expected BGR, pixel bytes (H, W*bpp), max abs error allowed) for ``enc``."""
    if enc in ('bgr8', '8uc3', 'rgb8', 'bgra8', 'rgba8'):
        bgr = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
        code = {
            'rgb8': cv2.COLOR_BGR2RGB,
            'bgra8': cv2.COLOR_BGR2BGRA,
            'rgba8': cv2.COLOR_BGR2RGBA,
        }.get(enc)
        px = bgr if code is None else cv2.cvtColor(bgr, code)
        if enc in ('bgra8', 'rgba8'):
            px[..., 3] = rng.integers(0, 256, (H, W))  # alpha must not leak into the colour
        return bgr, px.reshape(H, -1), 0
    if enc in ('mono8', '8uc1'):
        gray = rng.integers(0, 256, (H, W), dtype=np.uint8)
        return np.repeat(gray[..., None], 3, axis=2), gray, 0
    if enc in ('mono16', '16uc1'):
        gray16 = rng.integers(0, 65536, (H, W), dtype=np.uint16)
        bgr = np.repeat((gray16 >> 8).astype(np.uint8)[..., None], 3, axis=2)
        return bgr, gray16.astype('<u2').view(np.uint8).reshape(H, W * 2), 0
    if enc in ('yuv422', 'uyvy', 'yuv422_yuy2', 'yuyv'):
        bgr = _blocky_bgr(rng)
        order = 'uyvy' if enc in ('yuv422', 'uyvy') else 'yuyv'
        return bgr, _yuv422(bgr, order), 4
    if enc.startswith('bayer_'):
        # A flat colour: every demosaicing gives it back exactly, wrong tile order does not.
        bgr = np.empty((H, W, 3), np.uint8)
        bgr[...] = (30, 140, 220)
        return bgr, _bayer(bgr, enc[len('bayer_') : -1]), 2
    raise AssertionError(f'no encoder for {enc}')


def image_msg(px: NDArray[np.uint8], enc: str, pad: int = 0, t: float = 12.5) -> Image:
    rows = px.reshape(px.shape[0], -1)
    padded = np.full((rows.shape[0], rows.shape[1] + pad), 0xAB, np.uint8)
    padded[:, : rows.shape[1]] = rows
    msg = Image(height=H, width=W, encoding=enc, is_bigendian=0, step=padded.shape[1])
    msg.header.stamp = stamp(t)
    msg.header.frame_id = 'camera'
    msg.data = array.array('B', padded.tobytes())
    return msg


def test_the_encoding_list_is_the_documented_one() -> None:
    assert set(IMAGE_ENCODINGS) == {
        'bgr8',
        'rgb8',
        'bgra8',
        'rgba8',
        'mono8',
        '8uc1',
        '8uc3',
        'bayer_rggb8',
        'bayer_bggr8',
        'bayer_gbrg8',
        'bayer_grbg8',
        'yuv422',
        'uyvy',
        'yuv422_yuy2',
        'yuyv',
        'mono16',
        '16uc1',
    }


@pytest.mark.parametrize('pad', [0, 6])
@pytest.mark.parametrize('source', SOURCES)
@pytest.mark.parametrize('enc', IMAGE_ENCODINGS)
def test_every_encoding_gives_the_right_bgr_pixels(enc: str, source: str, pad: int) -> None:
    rng = np.random.default_rng(IMAGE_ENCODINGS.index(enc))
    bgr, px, tol = encode(enc, rng)
    msg = convert(source, image_msg(px, enc, pad))
    out = ros_adapter.image_to_bgr(msg)
    assert out.shape == (H, W, 3) and out.dtype == np.uint8
    err = np.abs(out.astype(int) - bgr.astype(int)).max()
    assert err <= tol, f'{enc}: max error {err}'
    rec = ros_adapter.to_record('image', msg, 99.0)
    assert isinstance(rec, ImageRecord)
    assert rec.t == 12.5 and rec.frame_id == 'camera'
    assert np.array_equal(rec.image, out)


@pytest.mark.parametrize('source', SOURCES)
def test_encoding_names_are_case_insensitive(source: str) -> None:
    rng = np.random.default_rng(3)
    bgr, px, _ = encode('rgb8', rng)
    assert np.array_equal(ros_adapter.image_to_bgr(convert(source, image_msg(px, 'RGB8'))), bgr)


@pytest.mark.parametrize('source', SOURCES)
def test_big_endian_mono16_uses_the_high_byte(source: str) -> None:
    gray16 = np.arange(H * W, dtype=np.uint16).reshape(H, W) * 1000 + 7
    msg = image_msg(gray16.astype('>u2').view(np.uint8).reshape(H, W * 2), 'mono16')
    msg.is_bigendian = 1
    out = ros_adapter.image_to_bgr(convert(source, msg))
    assert np.array_equal(out[..., 1], (gray16 >> 8).astype(np.uint8))


@pytest.mark.parametrize('enc', ['bgr8', '8uc3'])
@pytest.mark.parametrize('source', SOURCES)
def test_bgr8_is_a_view_on_the_message_bytes(enc: str, source: str) -> None:
    rng = np.random.default_rng(1)
    bgr, px, _ = encode(enc, rng)
    msg = convert(source, image_msg(px, enc, pad=3))
    out = ros_adapter.image_to_bgr(msg)
    assert np.array_equal(out, bgr)
    assert np.shares_memory(out, np.frombuffer(msg.data, np.uint8))


def test_bgr_image_from_ros_messages_reads_back() -> None:
    from multifloor_slam.io.ros_messages import bgr_image

    img = np.random.default_rng(2).integers(0, 256, (H, W, 3), dtype=np.uint8)
    msg = bgr_image(img, Image().header)
    assert np.array_equal(ros_adapter.image_to_bgr(msg), img)
    assert np.array_equal(ros_adapter.image_to_bgr(as_rosbags(msg)), img)


SPOILERS: dict[str, Callable[[Image], None]] = {
    'too short': lambda m: setattr(m, 'data', m.data[:-1]),
    'step too small': lambda m: setattr(m, 'step', W * 3 - 1),
    'float encoding': lambda m: setattr(m, 'encoding', '32FC1'),
    '16-bit bayer': lambda m: setattr(m, 'encoding', 'bayer_rggb16'),
    'zero width': lambda m: setattr(m, 'width', 0),
    'zero height': lambda m: setattr(m, 'height', 0),
}


@pytest.mark.parametrize('spoil', SPOILERS)
@pytest.mark.parametrize('source', SOURCES)
def test_bad_images_raise_input_data_error(source: str, spoil: str) -> None:
    _, px, _ = encode('bgr8', np.random.default_rng(4))
    msg = image_msg(px, 'bgr8')
    SPOILERS[spoil](msg)
    with pytest.raises(InputDataError):
        ros_adapter.image_to_bgr(convert(source, msg))
    with pytest.raises(InputDataError):
        ros_adapter.to_record('image', convert(source, msg), 1.0)


@pytest.mark.parametrize('enc', ['uyvy', 'yuv422', 'yuyv', 'yuv422_yuy2'])
def test_odd_width_422_raises_input_data_error(enc: str) -> None:
    msg = Image(height=4, width=7, encoding=enc, step=14)  # 4:2:2 pixels come in pairs
    msg.data = array.array('B', bytes(4 * 14))
    with pytest.raises(InputDataError):
        ros_adapter.image_to_bgr(msg)


@pytest.mark.parametrize('source', SOURCES)
def test_unset_step_means_packed_rows(source: str) -> None:
    _, px, _ = encode('rgb8', np.random.default_rng(4))
    msg = image_msg(px, 'bgr8')
    msg.step = 0
    assert np.array_equal(ros_adapter.image_to_bgr(convert(source, msg)), px.reshape(H, W, 3))


@pytest.mark.parametrize('source', SOURCES)
def test_compressed_images_decode_and_bad_ones_raise(source: str) -> None:
    img = np.random.default_rng(5).integers(0, 256, (H, W, 3), dtype=np.uint8)
    ok, png = cv2.imencode('.png', img)
    assert ok
    msg = CompressedImage(format='png')
    msg.header.stamp = stamp(3.0)
    msg.data = array.array('B', png.tobytes())
    m = convert(source, msg)
    assert ros_adapter.is_compressed_image(m)
    assert np.array_equal(ros_adapter.compressed_to_bgr(m), img)
    rec = ros_adapter.to_record('image', m, 50.0)
    assert isinstance(rec, ImageRecord) and rec.t == 3.0 and np.array_equal(rec.image, img)
    for data in (b'', b'\x89PNG\r\n\x1a\n not really a png', png.tobytes()[:40]):
        bad = CompressedImage(format='png')
        bad.data = array.array('B', data)
        with pytest.raises(InputDataError):
            ros_adapter.compressed_to_bgr(convert(source, bad))
        with pytest.raises(InputDataError):
            ros_adapter.to_record('image', convert(source, bad), 1.0)


# ---------------------------------------------------------------------------- scans, poses
def _scan(t: float = 4.25) -> LaserScan:
    msg = LaserScan(angle_min=-1.5, angle_increment=0.01, range_min=0.1, range_max=12.0)
    msg.header.stamp = stamp(t)
    msg.header.frame_id = 'laser'
    msg.ranges = array.array('f', [1.0, math.inf, math.nan, 2.5, -math.inf])
    return msg


def test_rclpy_scan_ranges_are_a_float32_view_with_inf_and_nan() -> None:
    msg = _scan()
    rec = ros_adapter.to_record('scan', msg, 0.0)
    assert isinstance(rec, ScanRecord)
    assert rec.ranges.dtype == np.float32
    assert np.shares_memory(rec.ranges, np.frombuffer(msg.ranges, np.float32))
    msg.ranges[0] = 7.0  # a view: the record sees the message's storage
    assert rec.ranges[0] == 7.0
    assert np.isposinf(rec.ranges[1]) and np.isnan(rec.ranges[2]) and np.isneginf(rec.ranges[4])
    assert (rec.t, rec.angle_min, rec.angle_increment) == (4.25, -1.5, pytest.approx(0.01))
    assert (rec.range_min, rec.range_max, rec.frame_id) == (pytest.approx(0.1), 12.0, 'laser')


def test_rosbags_scan_gives_the_same_record() -> None:
    a = ros_adapter.scan_record(_scan(), 0.0)
    b = ros_adapter.scan_record(as_rosbags(_scan()), 0.0)
    assert b.ranges.dtype == np.float32
    assert np.array_equal(a.ranges, b.ranges, equal_nan=True)
    for name in ('t', 'angle_min', 'angle_increment', 'range_min', 'range_max'):
        # rclpy keeps the Python float it was given; the CDR bytes carry float32
        assert np.float32(getattr(a, name)) == np.float32(getattr(b, name)), name
    assert a.frame_id == b.frame_id == 'laser'


def _set_pose(pose: Any, x: float, y: float, z: float, yaw: float) -> None:
    pose.position.x, pose.position.y, pose.position.z = x, y, z
    pose.orientation.z, pose.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)


@pytest.mark.parametrize('source', SOURCES)
def test_the_three_pose_types_give_the_same_record(source: str) -> None:
    x, y, z, yaw = 1.5, -2.25, 3.5, 2.5
    with_cov = PoseWithCovarianceStamped()
    _set_pose(with_cov.pose.pose, x, y, z, yaw)
    plain = PoseStamped()
    _set_pose(plain.pose, x, y, z, yaw)
    odom = Odometry(child_frame_id='base_link')
    _set_pose(odom.pose.pose, x, y, z, yaw)
    recs = []
    for msg in (with_cov, plain, odom):
        msg.header.stamp = stamp(17.5)
        msg.header.frame_id = 'map'
        recs.append(ros_adapter.to_record('pose', convert(source, msg), 0.0))
    assert recs[0] == PoseRecord(17.5, x, y, pytest.approx(yaw), 'map', z)
    assert recs[0] == recs[1] == recs[2]
    assert ros_adapter.to_record('odom', convert(source, odom), 0.0) == recs[0]


@pytest.mark.parametrize('source', SOURCES)
def test_zero_header_stamp_means_receive_time(source: str) -> None:
    p = FluidPressure(fluid_pressure=101000.0, variance=0.25)
    rec = ros_adapter.to_record('pressure', convert(source, p), 42.0)
    assert rec == PressureRecord(42.0, 101000.0, None, 0.25)
    p.header.stamp = stamp(7.5)
    assert ros_adapter.to_record('pressure', convert(source, p), 42.0).t == 7.5
    temp = Temperature(temperature=-3.5)
    assert ros_adapter.to_record('temperature', convert(source, temp), 9.0) == (
        TemperatureRecord(9.0, -3.5)
    )
    scan = _scan(0.0)
    assert ros_adapter.to_record('scan', convert(source, scan), 8.0).t == 8.0
    pose = PoseStamped()
    pose.pose.orientation.w = 1.0
    assert ros_adapter.to_record('pose', convert(source, pose), 6.0).t == 6.0
    assert ros_adapter.message_time(convert(source, String(data='x')), 5.0) == 5.0


# ---------------------------------------------------------------------------- elevator state
@pytest.mark.parametrize('source', SOURCES)
def test_elevator_state_json_from_the_detector(source: str) -> None:
    text = ElevatorState(1234.5, 'doors_open', 0.87654).to_json()
    rec = ros_adapter.to_record('elevator_state', convert(source, String(data=text)), 99.0)
    assert rec == ElevatorStateRecord(99.0, 'doors_open', pytest.approx(0.8765), text, 1234.5)
    assert rec.event_t == 1234.5


@pytest.mark.parametrize('source', SOURCES)
def test_elevator_state_bare_word_and_label_spelling(source: str) -> None:
    def rec(text: str) -> ElevatorStateRecord:
        out = ros_adapter.to_record('elevator_state', convert(source, String(data=text)), 8.0)
        assert isinstance(out, ElevatorStateRecord)
        return out

    word = rec('  Inside\n')
    assert (word.t, word.state, word.confidence, word.stamp) == (8.0, 'inside', 1.0, None)
    assert word.event_t == 8.0
    old = rec('{"label": "approaching", "confidence": 0.4}')
    assert (old.state, old.confidence, old.stamp) == ('approaching', 0.4, None)
    unstamped = rec('{"state": "none", "confidence": 0.9, "stamp": 0}')
    assert unstamped.stamp is None and unstamped.state == 'none'


@pytest.mark.parametrize(
    'text',
    [
        '{"state": "inside", ',
        '{"state": "flying"}',
        'upstairs',
        '',
        '{"confidence": 0.5}',
        '{"state": "inside", "confidence": 1.5}',
        '{"state": "inside", "confidence": -0.1}',
        '{"state": "inside", "confidence": NaN}',
        '{"state": "inside", "confidence": "high"}',
        '{"state": "inside", "stamp": "yesterday"}',
    ],
)
def test_bad_elevator_states_raise_input_data_error(text: str) -> None:
    for source in SOURCES:
        with pytest.raises(InputDataError):
            ros_adapter.to_record('elevator_state', convert(source, String(data=text)), 1.0)


def test_a_null_elevator_state_is_rejected() -> None:
    with pytest.raises(InputDataError):
        ros_adapter.to_record('elevator_state', String(data='{"state": null}'), 1.0)


# ---------------------------------------------------------------------------- table, grid
def _table() -> FloorTable:
    table = FloorTable()
    table.add(0, 0.0)
    table.add(1, 4.2)
    table.add(-1, -3.1, 'P1')
    table.current_floor = 1
    return table


@pytest.mark.parametrize('source', SOURCES)
def test_floor_table_record(source: str) -> None:
    data = _table().to_dict()
    msg = String(data=json.dumps(data))
    rec = ros_adapter.to_record('floor_table', convert(source, msg), 3.0)
    assert rec == FloorTableRecord(3.0, data)
    assert FloorTable.from_dict(rec.table).to_dict() == data
    for text in ('{"floors": ', '[1, 2]', '{"floor": []}', '{"floors": {"0": 1}}', '"x"'):
        with pytest.raises(InputDataError):
            ros_adapter.floor_table_record(convert(source, String(data=text)), 3.0)


def _grid(w: int, h: int, data: list[int], res: float = 0.05) -> OccupancyGrid:
    msg = OccupancyGrid()
    msg.header.stamp = stamp(21.0)
    msg.header.frame_id = 'map'
    msg.info.width, msg.info.height, msg.info.resolution = w, h, res
    _set_pose(msg.info.origin, 1.0, -2.0, 0.0, 0.5)
    msg.data = array.array('b', data)
    return msg


@pytest.mark.parametrize('source', SOURCES)
def test_grid_record_and_size_mismatch(source: str) -> None:
    cells = [0, 100, -1, 50, 0, 100]
    rec = ros_adapter.to_record('slam_map', convert(source, _grid(3, 2, cells)), 0.0)
    assert isinstance(rec, GridRecord)
    assert rec.grid.dtype == np.int8 and rec.grid.shape == (2, 3)
    assert rec.grid.tolist() == [[0, 100, -1], [50, 0, 100]]
    assert rec.t == 21.0 and rec.frame_id == 'map'
    assert rec.resolution == pytest.approx(0.05)
    assert rec.origin == (1.0, -2.0, pytest.approx(0.5))
    for bad in (_grid(3, 2, cells[:-1]), _grid(4, 2, cells), _grid(3, 2, cells, res=0.0)):
        with pytest.raises(InputDataError):
            ros_adapter.grid_record(convert(source, bad), 0.0)
    with pytest.raises(InputDataError):
        ros_adapter.grid_record(convert(source, _grid(0, 0, [])), 0.0)


def test_published_floor_layer_reads_back_as_its_grid() -> None:
    layer = OccupancyLayer()
    logodds = np.zeros((4, 5), np.float32)
    logodds[1, 2], logodds[2, 3], logodds[3, 0] = 5.0, -5.0, 5.0
    layer.load_grid(logodds, (-2, 3))
    msg = occupancy_grid(FloorLayer(1, layer, 3.0), 'map', stamp(11.0))
    for m in (msg, as_rosbags(msg)):
        rec = ros_adapter.grid_record(m, 0.0)
        assert np.array_equal(rec.grid, layer.trinary())
        assert rec.grid[1, 2] == 100 and rec.grid[2, 3] == 0 and rec.grid[0, 0] == -1
        assert rec.origin == (pytest.approx(layer.origin_xy[0]), layer.origin_xy[1], 0.0)
        assert rec.resolution == pytest.approx(layer.resolution) and rec.t == 11.0


# ---------------------------------------------------------------------------- the rest
def test_floor_riding_altitude_from_other_integer_and_float_types() -> None:
    assert ros_adapter.to_record('floor', Int8(data=-2), 4.0) == FloorRecord(4.0, -2)
    assert ros_adapter.to_record('riding', Bool(data=True), 4.0) == BoolRecord(4.0, True)
    rec = ros_adapter.to_record('altitude', Float32(data=2.5), 4.0)
    assert rec == ValueRecord(4.0, 2.5)


def test_unknown_kind_raises() -> None:
    with pytest.raises(ValueError, match='unknown stream kind'):
        ros_adapter.to_record('barometer', FluidPressure(), 0.0)
    assert set(ros_adapter.KINDS) >= {'pressure', 'scan', 'pose', 'image', 'floor_table'}


@pytest.mark.parametrize('source', SOURCES)
def test_floor_outputs_round_trip_through_their_messages(source: str) -> None:
    table = _table().to_dict()
    out = FloorOutput(t=55.5, altitude_m=-3.125, floor=-1, riding=True, table=table)
    recs = floor_outputs(out)
    assert [k for k, _ in recs] == ['floor_table', 'floor', 'riding', 'altitude']
    for kind, rec in recs:
        msg = floor_output_msg(rec)
        assert isinstance(msg, FLOOR_OUTPUT_TYPES[kind])
        back = ros_adapter.to_record(kind, convert(source, msg), rec.t)
        assert back == rec
    back = ros_adapter.to_record(
        'riding', convert(source, floor_output_msg(BoolRecord(1, False))), 1
    )
    assert back == BoolRecord(1.0, False)
    msg = floor_output_msg(FloorRecord(2.0, 7))
    assert isinstance(msg, Int32) and ros_adapter.to_record('floor', msg, 2.0).floor == 7
    with pytest.raises(TypeError):
        floor_output_msg(PressureRecord(0.0, 1.0))


def test_a_tf_lookup_becomes_the_same_planar_pose_as_a_pose_message() -> None:
    from geometry_msgs.msg import TransformStamped

    tf = TransformStamped()
    tf.header.stamp.sec, tf.header.frame_id = 12, 'map'
    tf.transform.translation.x, tf.transform.translation.y = 1.5, -2.0
    tf.transform.rotation.z, tf.transform.rotation.w = math.sin(0.3), math.cos(0.3)
    rec = ros_adapter.transform_pose_record(tf, 99.0)
    assert (rec.t, rec.x, rec.y, rec.frame_id) == (12.0, 1.5, -2.0, 'map')
    assert rec.yaw == pytest.approx(0.6)
    tf.header.stamp.sec = 0
    assert ros_adapter.transform_pose_record(tf, 99.0).t == 99.0  # unset stamp: receive time
