"""The floor_estimator node over real DDS: a two-ride pressure trace in, floors and events out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from multifloor_slam.sim.pressure import BarometerNoise, ElevatorKinematics
from multifloor_slam.sim.rides import Building, simulate_rides

pytestmark = pytest.mark.ros

BUILDING = Building.from_storeys([3.4, 4.6])  # L0 0 m, L1 3.4 m, L2 8.0 m


def _trace(floors: list[int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    sc = simulate_rides(
        BUILDING,
        floors,
        [14.0] * (len(floors) - 1) + [12.0],
        ElevatorKinematics(v_max=2.0),
        BarometerNoise(rate_hz=5.0, white_pa=0.5),
        np.random.default_rng(seed),
    )
    return sc.t + 1000.0, sc.pressure_pa


class _Probe:
    """A helper node that publishes pressure and records what the estimator publishes."""

    def __init__(self, executor: object) -> None:
        from rclpy.node import Node
        from sensor_msgs.msg import FluidPressure
        from std_msgs.msg import Int32, String

        from multifloor_slam.nodes.common import LATCHED_QOS, RELIABLE_QOS, SENSOR_QOS

        self.node = Node('floor_probe')
        self.floors: list[int] = []
        self.events: list[dict] = []
        self.pub = self.node.create_publisher(FluidPressure, 'barometer/pressure', SENSOR_QOS)
        self.node.create_subscription(
            Int32, 'floor/current', lambda m: self.floors.append(m.data), LATCHED_QOS
        )
        self.node.create_subscription(
            String, 'floor/event', lambda m: self.events.append(json.loads(m.data)), RELIABLE_QOS
        )
        executor.add_node(self.node)  # type: ignore[attr-defined]

    def play(self, executor: object, spin: object, est: object, t: np.ndarray, p: np.ndarray):
        from sensor_msgs.msg import FluidPressure

        for ti, pi in zip(t, p, strict=True):
            msg = FluidPressure()
            msg.header.stamp.sec = int(ti)
            msg.header.stamp.nanosec = int((ti - int(ti)) * 1e9)
            msg.fluid_pressure = float(pi)
            target = est.samples_received + 1  # type: ignore[attr-defined]
            self.pub.publish(msg)
            # Best effort drops nothing here as long as each sample is taken before the next.
            assert spin(executor, lambda n=target: est.samples_received >= n, 5.0)  # type: ignore[operator,attr-defined]


def _start_node(executor: object, **overrides: object):
    from rclpy.parameter import Parameter

    from multifloor_slam.nodes.floor_estimator import FloorEstimatorNode

    params = [Parameter(k, value=v) for k, v in overrides.items()]
    node = FloorEstimatorNode(parameter_overrides=params)
    executor.add_node(node)  # type: ignore[attr-defined]
    return node


def test_node_publishes_floors_and_ride_events_over_dds(executor, spin, tmp_path: Path) -> None:
    table_file = tmp_path / 'floors.yaml'
    node = _start_node(executor, floor_table_file=str(table_file))
    probe = _Probe(executor)
    assert spin(executor, lambda: probe.floors == [0], 10.0), probe.floors  # latched start

    t, p = _trace([0, 2, 1], seed=3)
    probe.play(executor, spin, node, t, p)
    assert spin(executor, lambda: len(probe.events) >= 2 and probe.floors[-1:] == [1], 10.0)

    rides = [(e['from_floor'], e['to_floor']) for e in probe.events if e['source'] == 'ride']
    assert rides == [(0, 2), (2, 1)], probe.events
    assert probe.floors == [0, 2, 1]
    up = probe.events[0]
    assert up['to_label'] == 'L2' and up['new_floor'] is True
    assert abs(up['dz_m'] - 8.0) < 0.6 and 0.0 < up['confidence'] <= 1.0
    assert up['t_start'] > 1000.0  # header stamps, not the wall clock
    assert table_file.exists()  # saved after the rides


def test_trips_over_dds_follow_odometry_out_of_the_car(executor, spin) -> None:
    """floor/trip: one line per trip once odometry shows the robot drove out of the car."""
    from nav_msgs.msg import Odometry
    from rclpy.node import Node
    from sensor_msgs.msg import FluidPressure
    from std_msgs.msg import String

    from multifloor_slam.nodes.common import RELIABLE_QOS, SENSOR_QOS, sensor_qos

    sc = simulate_rides(
        BUILDING,
        [0, 2, 1],
        [14.0, 14.0, 12.0],
        ElevatorKinematics(v_max=2.0),
        BarometerNoise(rate_hz=5.0, white_pa=0.5),
        np.random.default_rng(3),
    )
    stops = np.array([r.t_stop for r in sc.rides]) + 1000.0
    node = _start_node(executor)
    probe = Node('trip_probe')
    executor.add_node(probe)
    trips: list[dict] = []
    probe.create_subscription(
        String, 'floor/trip', lambda m: trips.append(json.loads(m.data)), RELIABLE_QOS
    )
    pub_p = probe.create_publisher(FluidPressure, 'barometer/pressure', SENSOR_QOS)
    pub_o = probe.create_publisher(Odometry, 'odom', sensor_qos(50))
    assert spin(executor, lambda: pub_o.get_subscription_count() > 0, 10.0)
    x = 0.0
    for ti, pi in zip(sc.t + 1000.0, sc.pressure_pa, strict=True):
        sec, nsec = int(ti), int((ti - int(ti)) * 1e9)
        # The robot stands in the car while it rides, and drives out 3-8 s after each stop.
        x += 0.2 * float(np.any((ti - stops >= 3.0) & (ti - stops <= 8.0)))
        odom = Odometry()
        odom.header.stamp.sec, odom.header.stamp.nanosec = sec, nsec
        odom.pose.pose.position.x = x
        odom.pose.pose.orientation.w = 1.0
        want_o = node.odom_received + 1
        pub_o.publish(odom)
        assert spin(executor, lambda n=want_o: node.odom_received >= n, 5.0)
        msg = FluidPressure()
        msg.header.stamp.sec, msg.header.stamp.nanosec = sec, nsec
        msg.fluid_pressure = float(pi)
        want = node.samples_received + 1
        pub_p.publish(msg)
        assert spin(executor, lambda n=want: node.samples_received >= n, 5.0)
    assert spin(executor, lambda: len(trips) >= 2, 5.0), trips
    got = [(t['from_floor'], t['to_floor'], t['evidence'], t['stops']) for t in trips]
    assert got == [(0, 2, 'odometry', []), (2, 1, 'odometry', [])]
    for trip, stop in zip(trips, stops, strict=True):
        assert stop + 3.0 < trip['t_exit'] < stop + 8.5


def test_restarted_node_reloads_its_table_and_floor(executor, spin, tmp_path: Path) -> None:
    table_file = tmp_path / 'floors.yaml'
    node = _start_node(executor, floor_table_file=str(table_file))
    probe = _Probe(executor)
    t, p = _trace([0, 1, 2], seed=5)
    probe.play(executor, spin, node, t, p)
    assert spin(executor, lambda: probe.floors[-1:] == [2], 10.0), probe.floors
    executor.remove_node(node)
    node.close()
    node.destroy_node()

    from multifloor_slam.floors.floor_table import FloorTable

    saved = FloorTable.load(table_file)
    assert saved.current_floor == 2 and saved.indices == [0, 1, 2]

    node2 = _start_node(executor, floor_table_file=str(table_file))
    assert node2.estimator.floor == 2
    assert spin(executor, lambda: probe.floors[-1:] == [2], 10.0)
    # Ride back down to L0: a known floor now, snapped rather than discovered.
    t2, p2 = _trace([2, 0], seed=6)
    p2 = p2 + (p[-1] - p2[0])  # same building, pressure continues where it stopped
    probe.play(executor, spin, node2, t2 + (t[-1] - t2[0]) + 60.0, p2)
    assert spin(executor, lambda: probe.floors[-1:] == [0], 10.0), probe.floors
    last = [e for e in probe.events if e['source'] == 'ride'][-1]
    assert (last['from_floor'], last['to_floor'], last['new_floor']) == (2, 0, False)


def test_config_file_sets_every_parameter_to_its_default(executor) -> None:
    import dataclasses

    from multifloor_slam.floors.estimator import FloorEstimatorParams
    from multifloor_slam.nodes.floor_estimator import FloorEstimatorNode

    config = Path(__file__).resolve().parents[2] / 'config' / 'multifloor_slam.yaml'
    node = FloorEstimatorNode(cli_args=['--ros-args', '--params-file', str(config)])
    executor.add_node(node)
    for field in dataclasses.fields(FloorEstimatorParams):
        assert node.get_parameter(field.name).value == field.default, field.name
    import yaml

    listed = yaml.safe_load(config.read_text())['floor_estimator']['ros__parameters']
    from rclpy.node import Node

    bare = Node('bare_node_for_builtin_params')
    builtin = set(bare._parameters)
    bare.destroy_node()
    assert set(listed) == set(node._parameters) - builtin


def test_node_resumes_from_the_saved_building_unless_a_table_file_exists(
    executor, spin, tmp_path: Path
) -> None:
    """building_file: the table and last floor the map manager saved; floor_table_file wins."""
    import yaml

    from multifloor_slam.floors.floor_table import FloorTable

    saved = FloorTable(current_floor=2)
    for index, z in ((0, 0.0), (1, 3.4), (2, 8.0)):
        saved.add(index, z)
    building = tmp_path / 'building'
    building.mkdir()
    doc = {'format': 'multifloor_slam/building 2', 'floors': [], 'floor_table': saved.to_dict()}
    (building / 'building.yaml').write_text(yaml.safe_dump(doc))

    node = _start_node(executor, building_file=str(building))
    probe = _Probe(executor)
    assert node.estimator.floor == 2 and node.stage.table.indices == [0, 1, 2]
    assert spin(executor, lambda: probe.floors[-1:] == [2], 10.0), probe.floors  # latched
    executor.remove_node(node)
    node.destroy_node()

    table_file = tmp_path / 'floors.yaml'
    other = FloorTable(current_floor=1)
    other.add(0, 0.0)
    other.add(1, 3.4)
    other.save(table_file)
    node = _start_node(
        executor, building_file=str(building / 'building.yaml'), floor_table_file=str(table_file)
    )
    assert node.estimator.floor == 1 and node.stage.table.indices == [0, 1]
