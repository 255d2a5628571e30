"""Stream kinds: their default topics (the package's contract), accepted types and CLI flags."""

from __future__ import annotations

#: Default topic per stream kind (the package's contract and the simulator's names).
DEFAULT_TOPICS: dict[str, str] = {
    'pressure': 'barometer/pressure',
    'temperature': 'barometer/temperature',
    'scan': 'scan',
    'pose': 'pose',
    'odom': 'odom',
    'image': 'camera/image_raw',
    'camera_info': 'camera/camera_info',
    'elevator_state': 'elevator/state',
    'floor': 'floor/current',
    'riding': 'floor/riding',
    'altitude': 'floor/altitude',
}

#: Command line flag that picks the topic of each kind (quoted in error messages).
TOPIC_FLAGS: dict[str, str] = {
    'pressure': '--pressure-topic',
    'temperature': '--temperature-topic',
    'scan': '--scan-topic',
    'pose': '--pose-topic',
    'odom': '--odom-topic',
    'image': '--image-topic',
    'camera_info': '--camera-info-topic',
    'elevator_state': '--elevator-state-topic',
    'floor': '--floor-topic',
    'riding': '--riding-topic',
    'altitude': '--altitude-topic',
}

_POSE_TYPES = (
    'geometry_msgs/msg/PoseWithCovarianceStamped',
    'geometry_msgs/msg/PoseStamped',
    'nav_msgs/msg/Odometry',
)
#: Message types accepted per kind.
KIND_TYPES: dict[str, tuple[str, ...]] = {
    'pressure': ('sensor_msgs/msg/FluidPressure',),
    'temperature': ('sensor_msgs/msg/Temperature',),
    'scan': ('sensor_msgs/msg/LaserScan',),
    'pose': _POSE_TYPES,
    'odom': _POSE_TYPES,
    'image': ('sensor_msgs/msg/Image', 'sensor_msgs/msg/CompressedImage'),
    'camera_info': ('sensor_msgs/msg/CameraInfo',),
    'elevator_state': ('std_msgs/msg/String',),
    'floor': (
        'std_msgs/msg/Int32',
        'std_msgs/msg/Int16',
        'std_msgs/msg/Int8',
        'std_msgs/msg/Int64',
    ),
    'riding': ('std_msgs/msg/Bool',),
    'altitude': ('std_msgs/msg/Float64', 'std_msgs/msg/Float32'),
}


def normalize_topic(name: str) -> str:
    """Topic name with exactly one leading '/' (bags store absolute names)."""
    return '/' + name.strip().lstrip('/')


__all__ = ['DEFAULT_TOPICS', 'KIND_TYPES', 'TOPIC_FLAGS', 'normalize_topic']
