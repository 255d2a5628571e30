"""Everything that touches a format.

``records`` (what crosses into the algorithms), ``ros_adapter`` (ROS messages -> records, rclpy or
rosbags), ``ros_messages`` (records and layers -> rclpy messages, for the nodes), bags through
``rosbags`` (``bag_reader``, ``bag_writer``, ``player``, ``salvage``, ``topics``), and the map and
building files (``building_files``, ``atomic_file``).
"""

from multifloor_slam.io.bag_reader import BagReader, read_bag
from multifloor_slam.io.bag_stats import ReadStats
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
from multifloor_slam.io.topics import DEFAULT_TOPICS

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
