"""Navigation messages: a floor's map for Nav2, AMCL's initial pose, route legs as Paths.

Only the navigation nodes (and tests standing in for Nav2) import this module: it imports the
ROS message packages. The messages are Nav2's own types (nav_msgs, geometry_msgs).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped, PoseWithCovarianceStamped
from nav_msgs.msg import OccupancyGrid, Path

from multifloor_slam.io.ros_adapter import yaw_from_quaternion
from multifloor_slam.io.ros_messages import occupancy_grid
from multifloor_slam.maps.building import FloorLayer
from multifloor_slam.navigation.localization import InitialPose


def stamp(t: float) -> Time:
    """Seconds -> builtin_interfaces/Time."""
    sec = math.floor(t)
    nsec = min(round((t - sec) * 1e9), 999_999_999)
    return Time(sec=int(sec), nanosec=int(nsec))


def nav2_map(fl: FloorLayer, frame_id: str, t: float) -> OccupancyGrid:
    """A floor as map_server publishes it: 0 free / 100 occupied / -1 unknown, origin z 0.

    map_server forces the origin z to 0; the floor's elevation would only confuse AMCL and the
    costmaps, which work in the plane of the shown floor.
    """
    msg = occupancy_grid(fl, frame_id, stamp(t))
    msg.info.origin.position.z = 0.0
    return msg


def restamp(msg: OccupancyGrid, t: float) -> OccupancyGrid:
    """The same map with a new stamp (cheap: the cells are not touched)."""
    msg.header.stamp = stamp(t)
    msg.info.map_load_time = msg.header.stamp
    return msg


def initial_pose_msg(pose: InitialPose, frame_id: str) -> PoseWithCovarianceStamped:
    """The arrival pose as AMCL's ``initialpose`` (stamped at the pose's own time).

    AMCL integrates the odometry from the stamp to now itself (``handleInitialPose``).
    """
    msg = PoseWithCovarianceStamped()
    msg.header.frame_id = frame_id
    msg.header.stamp = stamp(pose.t)
    msg.pose.pose.position.x = float(pose.x)
    msg.pose.pose.position.y = float(pose.y)
    msg.pose.pose.orientation.z = math.sin(pose.yaw / 2.0)
    msg.pose.pose.orientation.w = math.cos(pose.yaw / 2.0)
    msg.pose.covariance = [float(v) for v in pose.covariance()]
    return msg


def pose_variances(msg: PoseWithCovarianceStamped) -> tuple[float, float]:
    """(position variance, yaw variance) of a PoseWithCovarianceStamped (0 when absent)."""
    cov = msg.pose.covariance
    var_xy = max(float(cov[0]), float(cov[7]))
    var_yaw = float(cov[35])
    ok = math.isfinite(var_xy) and math.isfinite(var_yaw)
    return (max(var_xy, 0.0), max(var_yaw, 0.0)) if ok else (0.0, 0.0)


def planar_pose(msg: PoseWithCovarianceStamped | PoseStamped) -> tuple[float, float, float]:
    """(x, y, yaw) of a PoseStamped or PoseWithCovarianceStamped."""
    pose = msg.pose.pose if isinstance(msg, PoseWithCovarianceStamped) else msg.pose
    return (
        float(pose.position.x),
        float(pose.position.y),
        yaw_from_quaternion(pose.orientation),
    )


def path_msg(
    points: Sequence[tuple[float, float]],
    frame_id: str,
    t: float,
    final_yaw: float | None = None,
    yaws: Sequence[float] | None = None,
) -> Path:
    """A polyline as nav_msgs/Path: each pose faces the next point; the last ``final_yaw``.

    ``yaws`` gives every pose its heading instead (a ride leg: boarding and leaving poses,
    each facing its own floor's doors, not the other floor's point).
    """
    if yaws is not None and len(yaws) != len(points):
        raise ValueError(f'{len(yaws)} headings for {len(points)} points')
    msg = Path()
    msg.header.frame_id = frame_id
    msg.header.stamp = stamp(t)
    poses = []
    for i, (x, y) in enumerate(points):
        if yaws is not None:
            yaw = float(yaws[i])
        elif i + 1 < len(points):
            nx, ny = points[i + 1]
            yaw = math.atan2(ny - y, nx - x)
        elif final_yaw is not None:
            yaw = final_yaw
        elif i > 0:
            px, py = points[i - 1]
            yaw = math.atan2(y - py, x - px)
        else:
            yaw = 0.0
        ps = PoseStamped()
        ps.header = msg.header
        ps.pose.position.x, ps.pose.position.y = float(x), float(y)
        ps.pose.orientation.z = math.sin(yaw / 2.0)
        ps.pose.orientation.w = math.cos(yaw / 2.0)
        poses.append(ps)
    msg.poses = poses
    return msg


__all__ = [
    'initial_pose_msg',
    'nav2_map',
    'path_msg',
    'planar_pose',
    'pose_variances',
    'restamp',
    'stamp',
]
