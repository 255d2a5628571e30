"""The package's records and layers as rclpy messages: what the nodes publish.

The reverse of :mod:`multifloor_slam.io.ros_adapter`. Only the nodes (and tests that stand in
for DDS) import this module, because it imports the ROS message packages.
"""

from __future__ import annotations

import array
import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point
from nav_msgs.msg import OccupancyGrid
from sensor_msgs.msg import Image
from std_msgs.msg import Bool, Float64, Header, Int32, String
from visualization_msgs.msg import Marker, MarkerArray

from multifloor_slam.elevators.detector import Detection
from multifloor_slam.floors.floor_table import floor_label
from multifloor_slam.io.records import (
    BoolRecord,
    FloorRecord,
    FloorTableRecord,
    Record,
    ValueRecord,
)
from multifloor_slam.maps.building import ElevatorLink, FloorLayer

#: Message type published per floor-stage output kind.
FLOOR_OUTPUT_TYPES: dict[str, type] = {
    'floor_table': String,
    'floor': Int32,
    'riding': Bool,
    'altitude': Float64,
}


def floor_output_msg(rec: Record) -> Any:
    """A floor-stage output record -> the message the floor estimator publishes."""
    if isinstance(rec, FloorRecord):
        return Int32(data=int(rec.floor))
    if isinstance(rec, BoolRecord):
        return Bool(data=bool(rec.value))
    if isinstance(rec, ValueRecord):
        return Float64(data=float(rec.value))
    if isinstance(rec, FloorTableRecord):
        return String(data=json.dumps(rec.table, separators=(',', ':')))
    raise TypeError(f'not a floor output: {type(rec).__name__}')


def occupancy_grid(fl: FloorLayer, frame_id: str, stamp: Time) -> OccupancyGrid:
    """A floor layer as a Nav2-style OccupancyGrid (origin z = the floor's elevation)."""
    layer = fl.layer
    msg = OccupancyGrid()
    msg.header.frame_id = frame_id
    msg.header.stamp = stamp
    msg.info.map_load_time = stamp
    msg.info.resolution = float(layer.resolution)
    h, w = layer.shape
    msg.info.width, msg.info.height = int(w), int(h)
    ox, oy = layer.origin_xy
    msg.info.origin.position.x = float(ox)
    msg.info.origin.position.y = float(oy)
    msg.info.origin.position.z = float(fl.elevation_m)
    msg.info.origin.orientation.w = 1.0
    # array.array from bytes: no per-element checks (a numpy array takes 0.4 s for 4 M cells).
    msg.data = array.array('b', layer.trinary().tobytes())
    return msg


def link_markers(
    links: Iterable[ElevatorLink], elevations: Mapping[int, float], frame_id: str, stamp: Time
) -> MarkerArray:
    """Elevator shafts (line strips through the floors) and one label per floor and link."""
    out = MarkerArray()
    clear = Marker()
    clear.header.frame_id = frame_id
    clear.action = Marker.DELETEALL
    out.markers.append(clear)
    for link in links:
        floors = [f for f in link.floors if f in elevations]
        shaft = Marker()
        shaft.header.frame_id = frame_id
        shaft.header.stamp = stamp
        shaft.ns = 'elevator_shafts'
        shaft.id = link.id
        shaft.type = Marker.LINE_STRIP
        shaft.action = Marker.ADD
        shaft.pose.orientation.w = 1.0
        shaft.scale.x = 0.15
        shaft.color.r, shaft.color.g, shaft.color.b, shaft.color.a = 0.1, 0.4, 1.0, 0.9
        for f in floors:
            x, y = link.positions[f]
            shaft.points.append(Point(x=float(x), y=float(y), z=float(elevations[f])))
        if len(shaft.points) >= 2:
            out.markers.append(shaft)
        for f in floors:
            x, y = link.positions[f]
            text = Marker()
            text.header.frame_id = frame_id
            text.header.stamp = stamp
            text.ns = 'elevator_labels'
            text.id = link.id * 1000 + (f % 1000)
            text.type = Marker.TEXT_VIEW_FACING
            text.action = Marker.ADD
            text.pose.position.x, text.pose.position.y = float(x), float(y)
            text.pose.position.z = float(elevations[f]) + 0.6
            text.pose.orientation.w = 1.0
            text.scale.z = 0.5
            text.color.r = text.color.g = text.color.b = text.color.a = 1.0
            text.text = f'E{link.id} {floor_label(f)}'
            out.markers.append(text)
    return out


def bgr_image(img: np.ndarray, header: Header) -> Image:
    """A BGR array as a ``bgr8`` Image (bytes assigned once, no per-pixel copy)."""
    out = Image()
    out.header = header
    out.height, out.width = int(img.shape[0]), int(img.shape[1])
    out.encoding = 'bgr8'
    out.step = int(img.shape[1]) * 3
    out.data = array.array('B', np.ascontiguousarray(img).tobytes())
    return out


def detection_array(header: Header, detections: Iterable[Detection]) -> Any:
    """``vision_msgs/Detection2DArray`` (raises ImportError where vision_msgs is missing)."""
    from vision_msgs.msg import Detection2D, Detection2DArray, ObjectHypothesisWithPose

    out = Detection2DArray(header=header)
    for d in detections:
        x1, y1, x2, y2 = d.box_xyxy
        det = Detection2D(header=header)
        det.bbox.center.position.x = (x1 + x2) / 2
        det.bbox.center.position.y = (y1 + y2) / 2
        det.bbox.size_x, det.bbox.size_y = x2 - x1, y2 - y1
        hyp = ObjectHypothesisWithPose()
        hyp.hypothesis.class_id = d.class_name
        hyp.hypothesis.score = d.confidence
        det.results.append(hyp)
        out.detections.append(det)
    return out


__all__ = [
    'FLOOR_OUTPUT_TYPES',
    'bgr_image',
    'detection_array',
    'floor_output_msg',
    'link_markers',
    'occupancy_grid',
]
