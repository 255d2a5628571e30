"""Plain records: the only thing that crosses from messages into the algorithms.

Stamps ``t`` are float seconds: the header stamp when the message has one, else the log time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class PressureRecord:
    """A barometer sample (Pa); temperature from a paired Temperature topic, if any."""

    t: float
    pressure_pa: float
    temperature_c: float | None = None
    variance: float = 0.0


@dataclass(frozen=True)
class ScanRecord:
    """A laser scan; ``ranges`` keeps inf/nan as recorded (REP 117)."""

    t: float
    ranges: NDArray[np.float32]
    angle_min: float
    angle_increment: float
    range_min: float
    range_max: float
    frame_id: str = ''


@dataclass(frozen=True)
class PoseRecord:
    """A planar pose (from PoseWithCovarianceStamped, PoseStamped or Odometry)."""

    t: float
    x: float
    y: float
    yaw: float
    frame_id: str = ''
    z: float = 0.0


@dataclass(frozen=True)
class ImageRecord:
    """A camera frame as a (H, W, 3) uint8 BGR array (possibly a read-only view)."""

    t: float
    image: NDArray[np.uint8]
    frame_id: str = ''


@dataclass(frozen=True)
class CameraInfoRecord:
    """Camera intrinsics."""

    t: float
    width: int
    height: int
    k: NDArray[np.float64]
    distortion_model: str = ''


@dataclass(frozen=True)
class ElevatorStateRecord:
    """``elevator/state``: a state word (none/approaching/doors_open/inside) and confidence.

    ``t`` is when it was received (log time, node clock); ``stamp`` is the camera frame's stamp
    the detector wrote into the JSON, None when it wrote none.
    """

    t: float
    state: str
    confidence: float = 1.0
    raw: str = ''
    stamp: float | None = None

    @property
    def event_t(self) -> float:
        """The frame stamp when known, else the receive time."""
        return self.t if self.stamp is None else self.stamp


@dataclass(frozen=True)
class FloorRecord:
    """``floor/current``: a floor index."""

    t: float
    floor: int


@dataclass(frozen=True)
class BoolRecord:
    """A std_msgs/Bool sample (``floor/riding``)."""

    t: float
    value: bool


@dataclass(frozen=True)
class ValueRecord:
    """A std_msgs/Float64 (or Float32) sample (``floor/altitude``)."""

    t: float
    value: float


@dataclass(frozen=True)
class TemperatureRecord:
    """A sensor_msgs/Temperature sample (deg C)."""

    t: float
    temperature_c: float


@dataclass(frozen=True)
class FloorTableRecord:
    """``floor/table``: the floor estimator's learned table (``FloorTable.to_dict()``)."""

    t: float
    table: dict[str, Any]


@dataclass(frozen=True)
class GridRecord:
    """A SLAM's own occupancy grid (nav_msgs/OccupancyGrid): int8 -1..100, rows = y up."""

    t: float
    grid: NDArray[np.int8]
    resolution: float
    origin: tuple[float, float, float]  # x, y, yaw of cell (0, 0)'s corner
    frame_id: str = ''


Record = (
    PressureRecord
    | ScanRecord
    | PoseRecord
    | ImageRecord
    | CameraInfoRecord
    | ElevatorStateRecord
    | FloorRecord
    | BoolRecord
    | ValueRecord
    | TemperatureRecord
    | FloorTableRecord
    | GridRecord
)

__all__ = [
    'BoolRecord',
    'CameraInfoRecord',
    'ElevatorStateRecord',
    'FloorRecord',
    'FloorTableRecord',
    'GridRecord',
    'ImageRecord',
    'PoseRecord',
    'PressureRecord',
    'Record',
    'ScanRecord',
    'TemperatureRecord',
    'ValueRecord',
]
