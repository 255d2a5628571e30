"""A live run for the end-to-end tests: ``multifloor-slam run`` fed by ``multifloor-slam replay``.

Shared by ``test/test_live_equals_offline.py`` and ``test/cli/test_run_restart.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
#: Replay speed: fast, yet slow enough for best-effort delivery on a loaded 2-core machine.
RATE = 4.0
CLI = [sys.executable, '-m', 'multifloor_slam']


def params_file(path: Path, out: Path, building: Path | None = None) -> Path:
    """The package's parameters file at ``path``, with ``output_dir`` (``building_file``) set."""
    config = yaml.safe_load((REPO / 'config' / 'multifloor_slam.yaml').read_text())
    manager = config['floor_map_manager']['ros__parameters']
    manager['output_dir'] = str(out)
    manager['publish_period_s'] = 2.0
    if building is not None:
        manager['building_file'] = str(building)
    config['floor_estimator']['ros__parameters']['floor_table_file'] = ''
    path.write_text(yaml.safe_dump(config))
    return path


def run_and_replay(bag: Path, params: Path, replay_args: Sequence[str] = ()) -> str:
    """``run --use-sim-time`` + ``replay`` of ``bag`` (with ``replay_args``), then SIGINT.

    Checks both exit 0 and returns the nodes' log.
    """
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED='1')
    nodes = subprocess.Popen(
        [*CLI, 'run', '--params', str(params), '--use-sim-time'],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        time.sleep(4.0)  # nodes up and discovered before the first message
        replay = subprocess.run(
            [*CLI, 'replay', str(bag), '--rate', str(RATE), '--delay', '2', *replay_args],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert replay.returncode == 0, replay.stdout + replay.stderr
        time.sleep(2.0)
    finally:
        nodes.send_signal(signal.SIGINT)
        log, _ = nodes.communicate(timeout=60)
    assert nodes.returncode == 0, log
    return log
