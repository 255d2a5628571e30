"""``multifloor-slam run`` saves on every way out: SIGINT, SIGTERM, SIGHUP, and autosave.

The real command line runs in a subprocess; this process maps a little of floor 0 into it over
DDS (floor, SLAM poses, laser scans), waits until the node publishes the floor's map, then sends
the signal. The process must exit 0 and leave a building that loads, with what was mapped.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from geometry_msgs.msg import PoseWithCovarianceStamped
from nav_msgs.msg import OccupancyGrid
from rclpy.node import Node
from sensor_msgs.msg import LaserScan
from std_msgs.msg import Int32

from multifloor_slam.io.building_files import load_building
from multifloor_slam.nodes.common import LATCHED_QOS, SENSOR_QOS, sensor_qos

pytestmark = pytest.mark.ros

REPO = Path(__file__).resolve().parents[2]


def _start(
    tmp_path: Path, autosave_s: float, how: str = 'run'
) -> tuple[subprocess.Popen[str], Path]:
    """``multifloor-slam run``, or (``how='main'``) the node's own ``main`` as ``ros2 run``
    starts it."""
    out = tmp_path / 'building'
    params = tmp_path / 'params.yaml'
    params.write_text(
        'floor_map_manager:\n  ros__parameters:\n'
        f"    output_dir: '{out}'\n"
        '    publish_period_s: 0.2\n'
        f'    autosave_period_s: {autosave_s}\n'
    )
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED='1')
    if how == 'run':
        cmd = [sys.executable, '-m', 'multifloor_slam', 'run', '--params', str(params)]
        cmd += ['--nodes', 'floor_map_manager']
    else:
        main = 'from multifloor_slam.nodes.floor_map_manager import main; main()'
        cmd = [sys.executable, '-c', main, '--ros-args', '--params-file', str(params)]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return proc, out


def _map_a_room(executor: Any, spin: Any, proc: subprocess.Popen[str]) -> None:
    """Publish floor 0, poses and scans of a round room until the node's L0 map has walls."""
    node = Node('room_source')
    executor.add_node(node)
    floor = node.create_publisher(Int32, 'floor/current', LATCHED_QOS)
    poses = node.create_publisher(PoseWithCovarianceStamped, 'pose', sensor_qos(50))
    scans = node.create_publisher(LaserScan, 'scan', SENSOR_QOS)
    maps: list[OccupancyGrid] = []
    node.create_subscription(OccupancyGrid, 'floors/L0/map', maps.append, LATCHED_QOS)
    for pub in (floor, poses, scans):
        ok = spin(executor, lambda pub=pub: pub.get_subscription_count() > 0, 30.0)
        assert ok or proc.poll() is not None, 'the node did not come up'
        assert proc.poll() is None, proc.communicate(timeout=5)[0]
    floor.publish(Int32(data=0))
    ranges = np.full(360, 3.0, np.float32).tobytes()
    for k in range(40):
        stamp = (100 + k // 10, (k % 10) * 100_000_000)  # 10 Hz from t = 100 s
        pose = PoseWithCovarianceStamped()
        pose.header.stamp.sec, pose.header.stamp.nanosec = stamp
        pose.header.frame_id = 'map'
        pose.pose.pose.position.x = 0.02 * k
        pose.pose.pose.orientation.w = 1.0
        poses.publish(pose)
        scan = LaserScan()
        scan.header.stamp.sec, scan.header.stamp.nanosec = stamp
        scan.angle_min, scan.angle_increment = -math.pi, 2 * math.pi / 360
        scan.range_min, scan.range_max = 0.05, 10.0
        scan.ranges = ranges
        scans.publish(scan)
        spin(executor, lambda: False, 0.02)

    def has_walls() -> bool:
        return bool(maps) and int((np.frombuffer(maps[-1].data, np.int8) == 100).sum()) > 100

    assert spin(executor, has_walls, 20.0), 'no L0 map with walls from the node'


def _stop(proc: subprocess.Popen[str], sig: signal.Signals) -> str:
    proc.send_signal(sig)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate(timeout=10)
        raise AssertionError(f'run did not stop on {sig.name}:\n{out}') from None
    return out


@pytest.mark.parametrize('how', ['run', 'main'])
@pytest.mark.parametrize(
    'sig', [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name
)
def test_run_and_node_main_save_and_exit_0_on_the_signal(
    executor: Any, spin: Any, tmp_path: Path, sig: signal.Signals, how: str
) -> None:
    proc, out = _start(tmp_path, autosave_s=0.0, how=how)
    try:
        _map_a_room(executor, spin, proc)
        assert not (out / 'building.yaml').exists()  # autosave is off: only the stop saves
    finally:
        log = _stop(proc, sig)
    assert proc.returncode == 0, log
    assert 'Traceback' not in log, log
    building = load_building(out / 'building.yaml')
    assert sorted(building.floors) == [0]
    assert building.floors[0].layer.occupied_mask().sum() > 100, log
    assert f'{sig.name}: stopping' in log and 'building saved' in log, log


def test_autosave_writes_the_building_while_running(
    executor: Any, spin: Any, tmp_path: Path
) -> None:
    proc, out = _start(tmp_path, autosave_s=1.0)
    try:
        _map_a_room(executor, spin, proc)
        deadline = time.monotonic() + 10.0
        while not (out / 'building.yaml').exists() and time.monotonic() < deadline:
            spin(executor, lambda: False, 0.2)
        assert (out / 'building.yaml').exists(), 'no autosave within 10 s'
        assert proc.poll() is None  # written while running
        building = load_building(out / 'building.yaml')
        assert building.floors[0].layer.occupied_mask().sum() > 100
    finally:
        log = _stop(proc, signal.SIGTERM)
    assert proc.returncode == 0, log


def test_the_default_autosave_period_is_on_and_the_config_agrees() -> None:
    import yaml

    from multifloor_slam.nodes.floor_map_manager import FloorMapManagerParams

    config = yaml.safe_load((REPO / 'config' / 'multifloor_slam.yaml').read_text())
    listed = config['floor_map_manager']['ros__parameters']['autosave_period_s']
    assert FloorMapManagerParams().autosave_period_s == listed == 60.0
