"""A simulated bag replays through rclpy and real subscribers receive it, with /clock."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from multifloor_slam.errors import BagError, ConfigError
from multifloor_slam.io.bag_reader import BagReader
from multifloor_slam.io.player import BagPlayer, PlayOptions, parse_remaps
from multifloor_slam.sim.simulator import SimConfig, SimResult, simulate

pytestmark = pytest.mark.ros

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def small_bag(tmp_path_factory: pytest.TempPathFactory) -> SimResult:
    cfg = SimConfig(floors=2, seed=3, elevators=1, visits=2, rooms_per_visit=0, camera_rate_hz=1.0)
    return simulate(cfg, tmp_path_factory.mktemp('replay'))


def test_player_publishes_clock_and_remapped_topics_to_real_subscribers(
    small_bag: SimResult, executor, spin
) -> None:
    import rclpy
    from rosgraph_msgs.msg import Clock
    from sensor_msgs.msg import FluidPressure, Image, LaserScan

    from multifloor_slam.nodes.common import SENSOR_QOS

    sub_node = rclpy.create_node('replay_listener')
    executor.add_node(sub_node)
    got: dict[str, list] = {'clock': [], 'scan': [], 'pressure': [], 'image': []}
    sub_node.create_subscription(Clock, '/clock', got['clock'].append, 10)
    sub_node.create_subscription(LaserScan, '/robot/scan', got['scan'].append, SENSOR_QOS)
    sub_node.create_subscription(FluidPressure, '/barometer/pressure', got['pressure'].append, 50)
    sub_node.create_subscription(Image, '/camera/image_raw', got['image'].append, 10)

    play_node = rclpy.create_node('replay_player')
    opts = PlayOptions(
        rate=10.0,
        topics=('scan', '/barometer/pressure', 'camera/image_raw'),
        remap=parse_remaps(['scan:=/robot/scan']),
        delay_s=1.0,
        duration_s=40.0,
    )
    player = BagPlayer(small_bag.bag_path, play_node, opts)
    stop = threading.Event()
    thread = threading.Thread(target=player.play, args=(stop,), daemon=True)
    thread.start()
    try:
        spin(executor, lambda: not thread.is_alive(), timeout_s=30.0)
        spin(executor, lambda: False, timeout_s=0.5)  # drain what is in flight
    finally:
        stop.set()
        thread.join(5.0)
        play_node.destroy_node()
    assert not thread.is_alive()
    stats = player.stats
    assert stats.published['/scan'] == pytest.approx(400, abs=2)  # 40 s of bag at 10 Hz
    assert '/odom' not in stats.published  # filtered out
    assert len(got['scan']) > 300
    assert len(got['pressure']) > 600
    assert len(got['image']) >= 30
    assert len(got['clock']) > 50
    # /clock is bag time, and it advances at ``rate`` times wall time.
    with BagReader(small_bag.bag_path) as bag:
        t0 = bag.start_time
        first_scan = next(bag.iter_kind('scan'))
    clock = np.array([c.clock.sec + c.clock.nanosec * 1e-9 for c in got['clock']])
    assert np.all(np.diff(clock) >= 0)
    assert t0 - 0.1 <= clock[0] and clock[-1] <= t0 + 41.0
    scan = got['scan'][0]
    assert len(scan.ranges) == 360 and scan.header.frame_id == 'laser'
    stamp = scan.header.stamp.sec + scan.header.stamp.nanosec * 1e-9
    assert stamp >= first_scan.t - 1e-6
    img = got['image'][0]
    assert (img.width, img.height, img.encoding) == (320, 240, 'bgr8')
    assert len(img.data) == 320 * 240 * 3


def test_player_loops_until_stopped(small_bag: SimResult, rclpy_session) -> None:
    import rclpy

    node = rclpy.create_node('replay_loop')
    opts = PlayOptions(rate=20.0, loop=True, topics=('pose',), clock=False, duration_s=2.0)
    player = BagPlayer(small_bag.bag_path, node, opts)
    stop = threading.Event()
    thread = threading.Thread(target=player.play, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10.0
        while player.stats.loops < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(5.0)
        node.destroy_node()
    assert not thread.is_alive()
    assert player.stats.loops >= 3
    assert player.stats.published['/pose'] >= 3 * 20  # 2 s of 10 Hz poses per loop


def test_player_rejects_unknown_topics_and_bad_options(
    small_bag: SimResult, rclpy_session
) -> None:
    import rclpy

    node = rclpy.create_node('replay_bad')
    try:
        with pytest.raises(BagError, match='no topic /nope'):
            BagPlayer(small_bag.bag_path, node, PlayOptions(topics=('nope',))).play()
    finally:
        node.destroy_node()
    with pytest.raises(ConfigError):
        parse_remaps(['scan=/x'])
    with pytest.raises(ConfigError):
        PlayOptions(rate=0.0)


def test_replay_cli_plays_a_bag_in_a_separate_process(
    small_bag: SimResult, executor, spin
) -> None:
    import rclpy
    from nav_msgs.msg import Odometry
    from rosgraph_msgs.msg import Clock

    node = rclpy.create_node('replay_cli_listener')
    executor.add_node(node)
    odom: list = []
    clock: list = []
    node.create_subscription(Odometry, '/odom', odom.append, 50)
    node.create_subscription(Clock, '/clock', clock.append, 10)
    env = dict(os.environ, PYTHONPATH=f'{REPO}{os.pathsep}{os.environ.get("PYTHONPATH", "")}')
    cmd = [
        sys.executable,
        '-m',
        'multifloor_slam',
        'replay',
        str(small_bag.bag_path),
        '--rate',
        '5',
        '--topics',
        'odom',
        '--duration',
        '20',
        '--delay',
        '3.0',  # discovery on a loaded machine
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        spin(executor, lambda: proc.poll() is not None, timeout_s=60.0)
        spin(executor, lambda: False, timeout_s=0.3)
    finally:
        if proc.poll() is None:
            proc.kill()
        out = proc.communicate(timeout=10)[0].decode()
    assert proc.returncode == 0, out
    assert 'published 400 messages' in out
    assert len(odom) > 300
    assert len(clock) > 20
