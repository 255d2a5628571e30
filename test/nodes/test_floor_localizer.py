"""floor_localizer over real DDS, with rclpy subscribers standing in for AMCL.

A navigation tour through the mapped 3-floor test building is replayed (floor/current,
floor/riding, odom, amcl_pose) into the node; the stand-in AMCL listens on ``map`` (transient
local, as Nav2's AMCL subscribes) and ``initialpose`` (system-default QoS, as AMCL does).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from geometry_msgs.msg import PoseWithCovarianceStamped
from nav_msgs.msg import OccupancyGrid, Odometry
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from std_msgs.msg import Bool, Int32, String

from multifloor_slam.errors import ConfigError
from multifloor_slam.io.building_files import save_building
from multifloor_slam.io.ros_navigation import planar_pose, stamp
from multifloor_slam.maps.building import Building
from multifloor_slam.nodes.common import LATCHED_QOS
from multifloor_slam.nodes.floor_localizer import FloorLocalizerNode

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'navigation'))
from localization_tour import EXPECTED_FLOORS, NavTour, make_nav_tour, mapped_building

pytestmark = pytest.mark.ros

#: AMCL's map subscription: KeepLast(1), transient local, reliable (amcl_node.cpp initPubSub).
AMCL_MAP_QOS = LATCHED_QOS
#: AMCL's initialpose subscription: rclcpp SystemDefaultsQoS (reliable, volatile).
AMCL_POSE_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


class StandIns(Node):
    """The floor estimator, the odometry and AMCL around the localizer."""

    def __init__(self) -> None:
        super().__init__('nav_stand_ins')
        self.pubs = {
            'floor': self.create_publisher(Int32, 'floor/current', LATCHED_QOS),
            'riding': self.create_publisher(Bool, 'floor/riding', LATCHED_QOS),
            'odom': self.create_publisher(Odometry, 'odom', QoSProfile(depth=50)),
            'pose': self.create_publisher(PoseWithCovarianceStamped, 'amcl_pose', LATCHED_QOS),
        }
        self.maps: list[OccupancyGrid] = []
        self.poses: list[PoseWithCovarianceStamped] = []
        self.labels: list[str] = []
        self.create_subscription(OccupancyGrid, 'map', self.maps.append, AMCL_MAP_QOS)
        self.create_subscription(
            PoseWithCovarianceStamped, 'initialpose', self.poses.append, AMCL_POSE_QOS
        )
        self.create_subscription(
            String, 'floor/label', lambda m: self.labels.append(m.data), LATCHED_QOS
        )

    def publish(self, t: float, kind: str, value: Any) -> None:
        if kind == 'floor':
            self.pubs[kind].publish(Int32(data=int(value)))
        elif kind == 'riding':
            self.pubs[kind].publish(Bool(data=bool(value)))
        else:
            x, y, yaw = value
            msg = Odometry() if kind == 'odom' else PoseWithCovarianceStamped()
            msg.header.stamp = stamp(t)
            msg.header.frame_id = 'odom' if kind == 'odom' else 'map'
            pose = msg.pose.pose
            pose.position.x, pose.position.y = float(x), float(y)
            pose.orientation.z, pose.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)
            if kind == 'pose':
                cov = [0.0] * 36
                cov[0] = cov[7] = 0.03**2
                cov[35] = 0.01**2
                msg.pose.covariance = cov
            self.pubs[kind].publish(msg)


@pytest.fixture(scope='module')
def building() -> Building:
    return mapped_building()


@pytest.fixture(scope='module')
def building_file(building: Building, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_building(building, tmp_path_factory.mktemp('nav') / 'building')


@pytest.fixture(scope='module')
def tour() -> NavTour:
    return make_nav_tour(odom_hz=5.0, amcl_hz=1.0)


def _node(executor: Any, **params: Any) -> FloorLocalizerNode:
    node = FloorLocalizerNode(
        parameter_overrides=[Parameter(k, value=v) for k, v in params.items()]
    )
    executor.add_node(node)
    return node


def _yaw_err_deg(a: float, b: float) -> float:
    return math.degrees(abs((a - b + math.pi) % (2 * math.pi) - math.pi))


def test_replayed_tour_switches_maps_and_sets_amcl_initial_poses(
    executor: Any, spin: Any, building: Building, building_file: Path, tour: NavTour
) -> None:
    node = _node(executor, building_file=str(building_file))
    amcl = StandIns()
    executor.add_node(amcl)
    for kind, pub in amcl.pubs.items():
        assert spin(executor, lambda pub=pub: pub.get_subscription_count() > 0, 10.0), kind
    for t, kind, value in tour.inputs:
        want = node.received[kind] + 1
        amcl.publish(t, kind, value)
        assert spin(executor, lambda k=kind, w=want: node.received[k] >= w, 5.0), (t, kind)
    assert spin(executor, lambda: len(amcl.maps) >= len(EXPECTED_FLOORS), 5.0)
    assert spin(executor, lambda: len(amcl.poses) >= len(tour.arrivals), 5.0)

    # One map per shown floor, in order: the start floor, then each arrival (no L1 at the stop).
    shown = []
    for msg in amcl.maps:
        assert msg.header.frame_id == 'map' and msg.info.origin.position.z == 0.0
        cells = np.frombuffer(msg.data, np.int8)
        match = [
            i
            for i, fl in building.floors.items()
            if fl.layer.trinary().size == cells.size
            and np.array_equal(fl.layer.trinary().ravel(), cells)
        ]
        assert len(match) == 1
        assert msg.info.resolution == pytest.approx(building.resolution)
        assert set(np.unique(cells)) <= {-1, 0, 100}
        shown.append(match[0])
    assert shown == EXPECTED_FLOORS
    assert spin(executor, lambda: amcl.labels[-1:] == ['L0'], 5.0)
    assert amcl.labels == ['L0', 'L1', 'L2', 'L0']

    # initialpose on every arrival: frame map, within 0.3 m and 5 deg of the truth at its stamp.
    assert len(amcl.poses) == len(tour.arrivals)
    for msg, (t_end, floor) in zip(amcl.poses, tour.arrivals, strict=True):
        assert msg.header.frame_id == 'map'
        t = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        assert t > t_end and tour.true_floor(t) == floor
        x, y, yaw = planar_pose(msg)
        tx, ty, tyaw = tour.true_pose(t)
        assert math.hypot(x - tx, y - ty) < 0.3, (floor, x, y, tx, ty)
        assert _yaw_err_deg(yaw, tyaw) < 5.0, (floor, yaw, tyaw)
        cov = msg.pose.covariance
        assert 0.0 < cov[0] == cov[7] < 1.0 and 0.0 < cov[35] < math.radians(10) ** 2

    # A late subscriber (AMCL restarted) gets the shown floor's map at once.
    late = Node('late_amcl')
    executor.add_node(late)
    got: list[OccupancyGrid] = []
    late.create_subscription(OccupancyGrid, 'map', got.append, AMCL_MAP_QOS)
    assert spin(executor, lambda: bool(got), 10.0)
    np.testing.assert_array_equal(
        np.frombuffer(got[0].data, np.int8), building.floors[0].layer.trinary().ravel()
    )


def test_a_missing_building_file_is_a_config_error(executor: Any, tmp_path: Path) -> None:
    del executor
    with pytest.raises(ConfigError, match='building_file'):
        FloorLocalizerNode()
    from multifloor_slam.errors import MapFileError

    with pytest.raises(MapFileError, match='missing'):
        FloorLocalizerNode(
            parameter_overrides=[Parameter('building_file', value=str(tmp_path / 'nothing'))]
        )


def test_nav_params_file_lists_every_parameter_with_its_default() -> None:
    import dataclasses

    import yaml

    from multifloor_slam.navigation.localization import LocalizerParams
    from multifloor_slam.nodes.floor_localizer import FloorLocalizerNodeParams

    repo = Path(__file__).resolve().parents[2]
    data = yaml.safe_load((repo / 'config' / 'nav2_multifloor.yaml').read_text())
    section = data['floor_localizer']['ros__parameters']
    defaults = {
        f.name: f.default
        for cls in (FloorLocalizerNodeParams, LocalizerParams)
        for f in dataclasses.fields(cls)
    }
    assert section == defaults
    amcl = data['amcl']['ros__parameters']
    assert amcl['first_map_only'] is False and amcl['set_initial_pose'] is False
    assert amcl['map_topic'] == 'map' and amcl['global_frame_id'] == section['frame_id']
