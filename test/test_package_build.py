"""The package builds with colcon into an install space that ROS 2 tooling can use."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = 'multifloor_slam'
#: The console scripts ``ros2 run`` needs (setup.py's entry points).
SCRIPTS = (
    'floor_estimator',
    'elevator_detector',
    'floor_map_manager',
    'floor_localizer',
    'route_planner',
    'multifloor-slam',
)


@pytest.mark.slow
def test_colcon_build_installs_package_launch_config_and_scripts(tmp_path: Path) -> None:
    src = tmp_path / 'src' / PACKAGE
    ignore = shutil.ignore_patterns(
        '.venv', '.git', 'build', 'install', 'log', '__pycache__', '*.egg-info'
    )
    shutil.copytree(REPO, src, ignore=ignore)
    env = dict(os.environ)
    result = subprocess.run(
        [
            sys.executable,
            '-m',
            'colcon',
            'build',
            '--base-paths',
            'src',
            '--event-handlers',
            'console_direct-',
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    install = tmp_path / 'install' / PACKAGE
    env['AMENT_PREFIX_PATH'] = str(install)
    probe = (
        'import os, sys\n'
        'from ament_index_python.packages import get_package_share_directory, get_package_prefix\n'
        f'share = get_package_share_directory("{PACKAGE}")\n'
        f'prefix = get_package_prefix("{PACKAGE}")\n'
        'print(share); print(prefix)\n'
    )
    out = subprocess.run(
        [sys.executable, '-c', probe], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    share, prefix = Path(out[0]), Path(out[1])
    assert share == install / 'share' / PACKAGE
    assert (share / 'package.xml').is_file()
    assert (share / 'launch' / 'multifloor_slam.launch.py').is_file()
    assert (share / 'config' / 'multifloor_slam.yaml').is_file()
    assert (share / 'config' / 'nav2_multifloor.yaml').is_file()
    for script in SCRIPTS:
        exe = prefix / 'lib' / PACKAGE / script
        assert exe.is_file() and os.access(exe, os.X_OK), f'{exe} missing'


def test_every_console_script_of_setup_py_is_checked() -> None:
    """A new node's entry point must be added to SCRIPTS (and so be checked in the build)."""
    text = (REPO / 'setup.py').read_text()
    declared = set(re.findall(r"'([\w-]+) = \{PACKAGE\}\.", text))
    assert declared == set(SCRIPTS)
