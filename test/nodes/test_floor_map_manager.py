"""floor_map_manager over real DDS: a 3-floor tour with SLAM jumps, save, restart, reload."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from geometry_msgs.msg import PoseWithCovarianceStamped
from mapping_tour import Tour, evaluate, make_tour
from nav_msgs.msg import OccupancyGrid
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import LaserScan
from std_msgs.msg import Bool, Float64, Int32, String
from std_srvs.srv import Trigger
from visualization_msgs.msg import MarkerArray

from multifloor_slam.io.building_files import load_building
from multifloor_slam.nodes.common import LATCHED_QOS, SENSOR_QOS, sensor_qos
from multifloor_slam.nodes.floor_map_manager import EVENT_QOS, FloorMapManagerNode

pytestmark = pytest.mark.ros


class Driver(Node):
    """Publishes the tour like a SLAM, a lidar, the floor estimator and the detector would."""

    def __init__(self) -> None:
        super().__init__('tour_driver')
        self.pubs = {
            'scan': self.create_publisher(LaserScan, 'scan', SENSOR_QOS),
            'pose': self.create_publisher(PoseWithCovarianceStamped, 'pose', sensor_qos(50)),
            'floor': self.create_publisher(Int32, 'floor/current', LATCHED_QOS),
            'riding': self.create_publisher(Bool, 'floor/riding', LATCHED_QOS),
            'altitude': self.create_publisher(Float64, 'floor/altitude', EVENT_QOS),
            'elevator': self.create_publisher(String, 'elevator/state', EVENT_QOS),
        }
        self.maps: dict[str, OccupancyGrid] = {}
        self.links: list[MarkerArray] = []

    def listen(self, labels: list[str]) -> None:
        for label in labels:
            self.create_subscription(
                OccupancyGrid,
                f'floors/{label}/map',
                lambda m, label=label: self.maps.__setitem__(label, m),
                LATCHED_QOS,
            )
        self.create_subscription(
            OccupancyGrid,
            'floor_map/current',
            lambda m: self.maps.__setitem__('current', m),
            LATCHED_QOS,
        )
        self.create_subscription(MarkerArray, 'elevator/links', self.links.append, LATCHED_QOS)

    def publish(self, tour: Tour, t: float, kind: str, value: Any) -> None:
        sec = math.floor(t)
        nsec = round((t - sec) * 1e9)
        if nsec >= 1_000_000_000:
            sec, nsec = sec + 1, nsec - 1_000_000_000
        if kind == 'scan':
            msg = LaserScan()
            msg.header.stamp.sec, msg.header.stamp.nanosec = sec, nsec
            msg.header.frame_id = 'laser'
            msg.angle_min = tour.angle_min
            msg.angle_increment = tour.angle_increment
            msg.angle_max = tour.angle_min + tour.angle_increment * (value.ranges.size - 1)
            msg.range_min, msg.range_max = tour.range_min, tour.range_max
            msg.ranges = value.ranges.astype(np.float32).tobytes()
        elif kind == 'pose':
            msg = PoseWithCovarianceStamped()
            msg.header.stamp.sec, msg.header.stamp.nanosec = sec, nsec
            msg.header.frame_id = 'map'
            x, y, yaw = value
            msg.pose.pose.position.x, msg.pose.pose.position.y = float(x), float(y)
            msg.pose.pose.orientation.z = math.sin(yaw / 2)
            msg.pose.pose.orientation.w = math.cos(yaw / 2)
        elif kind == 'floor':
            msg = Int32(data=int(value))
        elif kind == 'riding':
            msg = Bool(data=bool(value))
        elif kind == 'altitude':
            msg = Float64(data=float(value))
        else:
            msg = String(data=json.dumps({'state': value, 'confidence': 0.9}))
        self.pubs[kind].publish(msg)


@pytest.fixture(scope='module')
def tour() -> Tour:
    return make_tour(scan_rate_hz=4.0, speed_mps=2.0, seed=11)


def _manager(executor: Any, **params: Any) -> FloorMapManagerNode:
    overrides = [Parameter(k, value=v) for k, v in params.items()]
    node = FloorMapManagerNode(parameter_overrides=overrides)
    executor.add_node(node)
    return node


def _drive(
    executor: Any, spin: Any, driver: Driver, node: FloorMapManagerNode, tour: Tour
) -> None:
    for kind, pub in driver.pubs.items():
        assert spin(executor, lambda pub=pub: pub.get_subscription_count() > 0, 10.0), kind
    for t, kind, value in tour.mapper_inputs():
        stream = 'elevator_state' if kind == 'elevator' else kind
        want = node.received[stream] + 1
        driver.publish(tour, t, kind, value)
        assert spin(
            executor, lambda stream=stream, want=want: node.received[stream] >= want, 5.0
        ), (t, kind)


def test_tour_over_dds_gives_three_layers_then_save_restart_reload(
    executor: Any, spin: Any, tour: Tour, tmp_path: Path
) -> None:
    out = tmp_path / 'building'
    node = _manager(executor, output_dir=str(out), publish_period_s=0.2)
    driver = Driver()
    executor.add_node(driver)
    driver.listen(['L0', 'L1', 'L2'])
    _drive(executor, spin, driver, node, tour)

    mapper = node.mapper
    assert sorted(mapper.floors) == [0, 1, 2]
    assert mapper.stats['rides'] == 4
    quality = evaluate(mapper, tour)
    for index, q in quality.items():
        assert q['occupied_iou'] >= 0.9, (index, q)
        assert q['contamination'] < 0.005, (index, q)
        assert q['link_error_m'] <= 0.3, (index, q)

    # Published maps: latched, stacked at the floor elevations, same cells as the layers.
    assert spin(executor, lambda: {'L0', 'L1', 'L2', 'current'} <= set(driver.maps), 10.0)
    node.publish_maps()
    for label, index in (('L0', 0), ('L1', 1), ('L2', 2)):
        ok = spin(
            executor,
            lambda label=label, index=index: np.array_equal(
                np.frombuffer(driver.maps[label].data, np.int8),
                mapper.floors[index].layer.trinary().ravel(),
            ),
            5.0,
        )
        assert ok, label
        msg = driver.maps[label]
        assert msg.info.origin.position.z == pytest.approx(tour.plan.elevations[index], abs=0.1)
        assert msg.header.frame_id == 'map'

    # The tour ends on L0: the current-floor map is L0's, at its elevation.
    def current_is_l0() -> bool:
        msg = driver.maps['current']
        return abs(msg.info.origin.position.z) < 0.1 and np.array_equal(
            np.frombuffer(msg.data, np.int8), mapper.floors[0].layer.trinary().ravel()
        )

    assert spin(executor, current_is_l0, 5.0)
    assert spin(executor, lambda: bool(driver.links), 5.0)
    shafts = [m for m in driver.links[-1].markers if m.ns == 'elevator_shafts']
    assert len(shafts) == 2 and all(len(m.points) == 2 for m in shafts)

    # Save through the service.
    client = driver.create_client(Trigger, 'floor_map_manager/save_building')
    assert client.wait_for_service(timeout_sec=5.0)
    future = client.call_async(Trigger.Request())
    assert spin(executor, future.done, 20.0)
    result = future.result()
    assert result.success, result.message
    assert Path(result.message) == out / 'building.yaml'
    assert (out / 'L2.yaml').is_file()  # the Nav2 map of each floor
    assert sorted(load_building(out / 'building.yaml').floors) == [0, 1, 2]
    saved = {i: fl.layer.logodds.copy() for i, fl in mapper.floors.items()}

    # Restart: a new node continues the same building and publishes it to a late joiner.
    executor.remove_node(node)
    node.close()
    node.destroy_node()
    again = _manager(executor, building_file=str(out / 'building.yaml'), publish_period_s=0.2)
    assert sorted(again.mapper.floors) == [0, 1, 2]
    for i, grid in saved.items():
        np.testing.assert_array_equal(again.mapper.floors[i].layer.logodds, grid)
    late = Node('late_viewer')
    executor.add_node(late)
    got: dict[str, OccupancyGrid] = {}
    late.create_subscription(
        OccupancyGrid, 'floors/L1/map', lambda m: got.__setitem__('L1', m), LATCHED_QOS
    )
    assert spin(executor, lambda: 'L1' in got, 10.0)
    np.testing.assert_array_equal(
        np.frombuffer(got['L1'].data, np.int8), again.mapper.floors[1].layer.trinary().ravel()
    )

    # The table retracts floor 1 (floor 2 moves down to 1): L1 now carries old L2's map, and
    # floors/L2/map goes away instead of keeping a latched map of a floor that is no more.
    old_l2 = again.mapper.floors[2].layer.trinary().ravel().copy()
    assert late.count_publishers('floors/L2/map') == 1
    again.mapper.renumber({2: 1})
    again.publish_maps()
    assert spin(executor, lambda: late.count_publishers('floors/L2/map') == 0, 5.0)
    assert spin(
        executor, lambda: np.array_equal(np.frombuffer(got['L1'].data, np.int8), old_l2), 5.0
    )


def test_bad_inputs_are_counted_not_fatal(executor: Any, spin: Any) -> None:
    node = _manager(executor)
    driver = Driver()
    executor.add_node(driver)
    for kind in ('elevator', 'scan'):
        assert spin(executor, lambda k=kind: driver.pubs[k].get_subscription_count() > 0, 10.0)
    driver.pubs['elevator'].publish(String(data='{not json'))
    driver.pubs['scan'].publish(LaserScan())
    received = node.received
    assert spin(executor, lambda: received['scan'] >= 1 and received['elevator_state'] >= 1)
    assert node.bad_inputs == 2
    assert node.mapper.stats['scans_in'] == 0


@pytest.mark.parametrize('pose_type', ['pose_stamped', 'odometry'])
def test_pose_type_parameter_selects_the_pose_message(
    executor: Any, spin: Any, pose_type: str
) -> None:
    from geometry_msgs.msg import PoseStamped
    from nav_msgs.msg import Odometry

    node = _manager(executor, pose_type=pose_type, floor_wait_s=0.0)
    probe = Node('pose_source')
    executor.add_node(probe)
    msg_type = PoseStamped if pose_type == 'pose_stamped' else Odometry
    pub = probe.create_publisher(msg_type, 'pose', sensor_qos(10))
    assert spin(executor, lambda: pub.get_subscription_count() > 0, 10.0)
    msg = msg_type()
    msg.header.stamp.sec = 5
    pose = msg.pose if pose_type == 'pose_stamped' else msg.pose.pose
    pose.position.x, pose.orientation.w = 1.5, 1.0
    pub.publish(msg)
    assert spin(executor, lambda: node.received['pose'] == 1, 5.0)
    assert node.bad_inputs == 0
    scan = LaserScan()
    scan.header.stamp.sec = 5
    scan.angle_min, scan.angle_increment = -math.pi, 2 * math.pi / 360
    scan.range_min, scan.range_max = 0.05, 10.0
    scan.ranges = np.full(360, 2.0, np.float32).tobytes()
    scan_pub = probe.create_publisher(LaserScan, 'scan', SENSOR_QOS)
    assert spin(executor, lambda: scan_pub.get_subscription_count() > 0, 10.0)
    scan_pub.publish(scan)
    assert spin(executor, lambda: node.mapper.stats['scans_integrated'] == 1, 5.0)
    occ = node.mapper.floors[0].layer.occupied_points()
    assert np.allclose(np.hypot(occ[:, 0] - 1.5, occ[:, 1]).mean(), 2.0, atol=0.06)
