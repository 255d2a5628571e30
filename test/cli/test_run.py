"""``multifloor-slam run``: nodes in one process with the parameters file and sim time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rcl_interfaces.msg import ParameterType
from rcl_interfaces.srv import GetParameters
from rclpy.node import Node

from multifloor_slam.cli.main import main

REPO = Path(__file__).resolve().parents[2]


def test_unknown_node_names_fail_clearly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(['run', '--nodes', 'floor_map_manager', 'slam_toolbox']) == 2
    err = capsys.readouterr().err
    assert "unknown node 'slam_toolbox'" in err and 'floor_map_manager' in err


def test_missing_params_file_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(['run', '--nodes', 'floor_map_manager', '--params', str(tmp_path / 'x.yaml')])
    assert code == 2
    assert 'does not exist' in capsys.readouterr().err


@pytest.mark.parametrize(
    ('text', 'expected'),
    [
        ('floor_map_manager:\n  ros__parameters:\n    publish_period_s: [1\n', 'line 4'),
        ('floor_map_manager:\n  publish_period_s: 1.0\n', 'must be a mapping'),
        ('just a string\n', 'must be a mapping of node names'),
        ('floor_map_manager:\n  ros__parameters: 3\n', 'ros__parameters must be a mapping'),
        ('a: 1\n', 'must be a mapping'),
        ('floor_map_manager:\n  other:\n    x: {}\n', 'has no "ros__parameters"'),
    ],
)
def test_a_malformed_params_file_is_one_line_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    params = tmp_path / 'params.yaml'
    params.write_text(text)
    assert main(['run', '--nodes', 'floor_map_manager', '--params', str(params)]) == 2
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.startswith('multifloor-slam run: error:')]
    assert len(lines) == 1 and str(params) in lines[0] and expected in lines[0], err
    assert 'Traceback' not in err


def _run_cli(params: Path, *extra: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED='1')
    cmd = [sys.executable, '-m', 'multifloor_slam', 'run', '--params', str(params), *extra]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.ros
@pytest.mark.parametrize(
    ('value', 'expected'),
    [
        (
            "'fast'",
            "parameter 'publish_period_s' of floor_map_manager must be a number, not 'fast'",
        ),
        ('true', "parameter 'publish_period_s' of floor_map_manager must be a number, not True"),
        ('-1.0', 'floor_map_manager: publish_period_s must be > 0, got -1.0'),
    ],
)
def test_a_wrong_parameter_value_is_one_line_naming_it(
    tmp_path: Path, value: str, expected: str
) -> None:
    params = tmp_path / 'params.yaml'
    params.write_text(f'floor_map_manager:\n  ros__parameters:\n    publish_period_s: {value}\n')
    proc = _run_cli(params, '--nodes', 'floor_map_manager')
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [x for x in proc.stderr.splitlines() if x.startswith('multifloor-slam run: error:')]
    assert len(lines) == 1 and expected in lines[0] and str(params) in lines[0], proc.stderr
    assert 'Traceback' not in proc.stderr


@pytest.mark.ros
def test_run_applies_the_params_file_and_sim_time_and_stops_cleanly(
    executor: Any, spin: Any, tmp_path: Path
) -> None:
    """Also: an integer for a float parameter is taken as that float (``ros2 param`` refuses)."""
    params = tmp_path / 'params.yaml'
    params.write_text(
        'floor_map_manager:\n  ros__parameters:\n    publish_period_s: 2\n'
        '    icp_scans: 12.0\n'
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
        names = ['publish_period_s', 'use_sim_time', 'output_dir', 'icp_scans']
        # A request sent just after discovery can lose its reply (the server's reply writer has
        # not matched the probe's reader yet, seen on a loaded CI machine): ask again.
        for _ in range(3):
            future = client.call_async(GetParameters.Request(names=names))
            if spin(executor, future.done, 10.0):
                break
            client.remove_pending_request(future)
        assert future.done(), 'no reply to get_parameters in 3 tries'
        values = future.result().values
        assert values[0].type == ParameterType.PARAMETER_DOUBLE
        assert values[0].double_value == 2.0
        assert values[1].bool_value is True
        assert values[2].string_value == str(tmp_path / 'out')
        assert values[3].type == ParameterType.PARAMETER_INTEGER
        assert values[3].integer_value == 12
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out.decode()


def test_building_file_reaches_every_node_that_resumes(tmp_path: Path) -> None:
    """``--building`` sets building_file for all nodes (and output_dir when unset); a
    building_file in the map manager's section alone is passed on to the floor estimator."""
    from multifloor_slam.cli.run import building_overrides, ros_args

    building = tmp_path / 'my maps' / 'building.yaml'
    assert building_overrides({}, building) == {
        '': {'building_file': str(building)},
        'floor_map_manager': {'output_dir': str(building.parent)},
    }
    given = {'floor_map_manager': {'output_dir': '/elsewhere'}}
    assert building_overrides(given, building.parent) == {
        '': {'building_file': str(building.parent)}
    }
    only_manager = {'floor_map_manager': {'building_file': '/b/building.yaml'}}
    assert building_overrides(only_manager, None) == {
        'floor_estimator': {'building_file': '/b/building.yaml'}
    }
    both = {**only_manager, 'floor_estimator': {'building_file': '/other'}}
    assert building_overrides(both, None) == {}
    args = ros_args(tmp_path / 'p.yaml', False, '', {'floor_estimator': {'building_file': '123'}})
    # Quoted, so a path that looks like a number or a boolean stays a string.
    assert args[-2:] == ['-p', 'floor_estimator:building_file:="123"']
