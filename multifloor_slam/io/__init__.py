"""Bags (through ``rosbags``) and map/building file formats."""

from multifloor_slam.io.bag_reader import DEFAULT_TOPICS, BagReader, ReadStats, read_bag
from multifloor_slam.io.bag_writer import BagWriter, kilted_typestore
from multifloor_slam.io.records import (
    BoolRecord,
    CameraInfoRecord,
    ElevatorStateRecord,
    FloorRecord,
    ImageRecord,
    PoseRecord,
    PressureRecord,
    Record,
    ScanRecord,
    TemperatureRecord,
    ValueRecord,
)
from multifloor_slam.io.salvage import SalvageReport, salvage_mcap

__all__ = [
    'DEFAULT_TOPICS',
    'BagReader',
    'BagWriter',
    'BoolRecord',
    'CameraInfoRecord',
    'ElevatorStateRecord',
    'FloorRecord',
    'ImageRecord',
    'PoseRecord',
    'PressureRecord',
    'ReadStats',
    'Record',
    'SalvageReport',
    'ScanRecord',
    'TemperatureRecord',
    'ValueRecord',
    'kilted_typestore',
    'read_bag',
    'salvage_mcap',
]
