"""Plain records the bag reader yields: floats and numpy arrays, no message types.

Stamps ``t`` are float seconds: the header stamp when the message has one, else the log time.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    """``elevator/state``: a state word (none/approaching/doors_open/inside) and confidence."""

    t: float
    state: str
    confidence: float | None = None
    raw: str = ''


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
)

__all__ = [
    'BoolRecord',
    'CameraInfoRecord',
    'ElevatorStateRecord',
    'FloorRecord',
    'ImageRecord',
    'PoseRecord',
    'PressureRecord',
    'Record',
    'ScanRecord',
    'TemperatureRecord',
    'ValueRecord',
]
