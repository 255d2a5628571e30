"""route_planner over real DDS: a goal PoseStamped whose frame names the floor, legs as Paths."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest
from geometry_msgs.msg import PoseStamped, PoseWithCovarianceStamped
from nav_msgs.msg import Path as PathMsg
from rclpy.node import Node
from rclpy.parameter import Parameter
from std_msgs.msg import Int32, String

from multifloor_slam.io.building_files import save_building
from multifloor_slam.nodes.common import LATCHED_QOS, RELIABLE_QOS

pytest.importorskip(
    'multifloor_slam.navigation.routes',
    reason='the route planner (navigation/routes.py, issue 14 part E2) is not there yet',
)
from multifloor_slam.nodes.route_planner import LEGS_QOS, RoutePlannerNode

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'navigation'))
from localization_tour import mapped_building

pytestmark = pytest.mark.ros


class Robot(Node):
    """The floor estimator, AMCL and a Nav2 user around the route planner."""

    def __init__(self) -> None:
        super().__init__('route_user')
        self.floor = self.create_publisher(Int32, 'floor/current', LATCHED_QOS)
        self.pose = self.create_publisher(PoseWithCovarianceStamped, 'amcl_pose', LATCHED_QOS)
        self.goal = self.create_publisher(PoseStamped, 'route/goal', RELIABLE_QOS)
        self.plans: list[dict[str, Any]] = []
        self.paths: list[PathMsg] = []
        self.create_subscription(
            String, 'route/plan', lambda m: self.plans.append(json.loads(m.data)), LATCHED_QOS
        )
        self.create_subscription(PathMsg, 'route/path', self.paths.append, LATCHED_QOS)

    def at(self, floor: int, x: float, y: float) -> None:
        self.floor.publish(Int32(data=floor))
        msg = PoseWithCovarianceStamped()
        msg.header.frame_id = 'map'
        msg.pose.pose.position.x, msg.pose.pose.position.y = x, y
        msg.pose.pose.orientation.w = 1.0
        self.pose.publish(msg)

    def send_goal(self, frame: str, x: float, y: float, yaw: float = 0.0) -> None:
        msg = PoseStamped()
        msg.header.frame_id = frame
        msg.pose.position.x, msg.pose.position.y = x, y
        msg.pose.orientation.z, msg.pose.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)
        self.goal.publish(msg)


@pytest.fixture(scope='module')
def building_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_building(mapped_building(), tmp_path_factory.mktemp('route') / 'building')


def _start(executor: Any, spin: Any, building_file: Path) -> tuple[RoutePlannerNode, Robot]:
    node = RoutePlannerNode(
        parameter_overrides=[Parameter('building_file', value=str(building_file))]
    )
    executor.add_node(node)
    robot = Robot()
    executor.add_node(robot)
    for pub in (robot.floor, robot.pose, robot.goal):
        assert spin(executor, lambda pub=pub: pub.get_subscription_count() > 0, 10.0)
    return node, robot


def test_goal_on_another_floor_gives_legs_as_paths_and_the_current_leg(
    executor: Any, spin: Any, building_file: Path
) -> None:
    node, robot = _start(executor, spin, building_file)
    robot.at(0, 6.0, 8.0)
    assert spin(executor, lambda: node.floor == 0 and node.pose is not None, 5.0)
    robot.send_goal('L2', 16.0, 8.0, yaw=math.pi / 2)
    assert spin(executor, lambda: bool(robot.plans), 20.0)
    plan = robot.plans[-1]
    assert plan['ok'], plan
    kinds = [leg['kind'] for leg in plan['legs']]
    assert kinds == ['drive', 'ride', 'drive', 'ride', 'drive']  # A: L0-L1, B: L1-L2
    assert [leg['floor'] for leg in plan['legs'] if leg['kind'] == 'drive'] == [0, 1, 2]

    # Every leg as a Path, in order, for a late subscriber too.
    legs: list[PathMsg] = []
    late = Node('late_nav2_user')
    executor.add_node(late)
    late.create_subscription(PathMsg, 'route/legs', legs.append, LEGS_QOS)
    assert spin(executor, lambda: len(legs) == len(kinds), 10.0)
    for msg, leg in zip(legs, plan['legs'], strict=True):
        assert msg.header.frame_id == 'map'
        points = [c for p in msg.poses for c in (p.pose.position.x, p.pose.position.y)]
        if leg['kind'] == 'drive':
            assert points == pytest.approx([c for w in leg['waypoints'] for c in w], abs=1e-3)
        else:
            assert len(points) == 4
            headings = [
                2 * math.atan2(p.pose.orientation.z, p.pose.orientation.w) for p in msg.poses
            ]
            want = [leg['board_pose'][2], leg['leave_pose'][2]]  # each facing its floor's doors
            assert [math.cos(a - b) for a, b in zip(headings, want, strict=True)] == pytest.approx(
                [1.0, 1.0], abs=1e-6
            )
    end = legs[-1].poses[-1].pose
    assert (end.position.x, end.position.y) == pytest.approx((16.0, 8.0), abs=0.05)
    assert 2 * math.atan2(end.orientation.z, end.orientation.w) == pytest.approx(math.pi / 2)

    # route/path is the drive leg of the floor the robot is on, and follows the floor.
    assert spin(executor, lambda: bool(robot.paths), 5.0)
    first = robot.paths[-1].poses[0].pose.position
    assert (first.x, first.y) == pytest.approx((6.0, 8.0), abs=0.05)
    # It ends at the staging pose facing the car doors (the boarding heading), not the goal's.
    last = robot.paths[-1].poses[-1].pose
    bx, by, byaw = plan['legs'][1]['board_pose']
    assert (last.position.x, last.position.y) == pytest.approx((bx, by), abs=0.05)
    yaw = 2 * math.atan2(last.orientation.z, last.orientation.w)
    assert math.cos(yaw - byaw) == pytest.approx(1.0, abs=1e-6)
    assert math.cos(yaw - math.pi / 2) < 0.99  # the goal heading differs here
    robot.floor.publish(Int32(data=1))
    assert spin(executor, lambda: len(robot.paths) >= 2, 5.0)
    wps = plan['legs'][2]['waypoints']
    got = [c for p in robot.paths[-1].poses for c in (p.pose.position.x, p.pose.position.y)]
    assert got == pytest.approx([c for w in wps for c in w], abs=1e-3)


@pytest.mark.parametrize(
    ('frame', 'x', 'y', 'words'),
    [('L7', 5.0, 5.0, 'L7'), ('L2', 12.0, 3.0, 'goal'), ('map', 500.0, 5.0, 'goal')],
)
def test_bad_goals_publish_a_clear_error(
    executor: Any, spin: Any, building_file: Path, frame: str, x: float, y: float, words: str
) -> None:
    node, robot = _start(executor, spin, building_file)
    robot.at(0, 6.0, 8.0)
    assert spin(executor, lambda: node.pose is not None, 5.0)
    robot.send_goal(frame, x, y)
    assert spin(executor, lambda: bool(robot.plans), 20.0)
    plan = robot.plans[-1]
    assert plan['ok'] is False and words in plan['error'], plan


def test_nav_params_file_lists_every_route_planner_parameter_with_its_default() -> None:
    import dataclasses

    import yaml

    from multifloor_slam.navigation.route_types import RouteParams
    from multifloor_slam.nodes.route_planner import RoutePlannerNodeParams

    repo = Path(__file__).resolve().parents[2]
    data = yaml.safe_load((repo / 'config' / 'nav2_multifloor.yaml').read_text())
    defaults = {
        f.name: f.default
        for cls in (RoutePlannerNodeParams, RouteParams)
        for f in dataclasses.fields(cls)
    }
    assert data['route_planner']['ros__parameters'] == defaults
