"""``multifloor-slam run``: nodes in one process with the parameters file and sim time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rcl_interfaces.srv import GetParameters
from rclpy.node import Node

from multifloor_slam.cli.main import main

REPO = Path(__file__).resolve().parents[2]


def test_unknown_node_names_fail_clearly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(['run', '--nodes', 'floor_map_manager', 'slam_toolbox']) == 1
    err = capsys.readouterr().err
    assert "unknown node 'slam_toolbox'" in err and 'floor_map_manager' in err


def test_missing_params_file_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(['run', '--nodes', 'floor_map_manager', '--params', str(tmp_path / 'x.yaml')])
    assert code == 1
    assert 'does not exist' in capsys.readouterr().err


@pytest.mark.ros
def test_run_applies_the_params_file_and_sim_time_and_stops_cleanly(
    executor: Any, spin: Any, tmp_path: Path
) -> None:
    params = tmp_path / 'params.yaml'
    params.write_text(
        'floor_map_manager:\n  ros__parameters:\n    publish_period_s: 0.5\n'
        f"    output_dir: '{tmp_path / 'out'}'\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED='1')
    cmd = [sys.executable, '-m', 'multifloor_slam', 'run', '--params', str(params)]
    cmd += ['--use-sim-time', '--nodes', 'floor_map_manager']
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        probe = Node('run_probe')
        executor.add_node(probe)
        client = probe.create_client(GetParameters, '/floor_map_manager/get_parameters')
        assert spin(executor, client.service_is_ready, 30.0), 'node did not come up'
        request = GetParameters.Request(names=['publish_period_s', 'use_sim_time', 'output_dir'])
        future = client.call_async(request)
        assert spin(executor, future.done, 10.0)
        values = future.result().values
        assert values[0].double_value == 0.5
        assert values[1].bool_value is True
        assert values[2].string_value == str(tmp_path / 'out')
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out.decode()
