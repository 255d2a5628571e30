"""``multifloor-slam simulate`` writes a bag and ground truth and reports errors cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

from multifloor_slam.cli.main import main
from multifloor_slam.io.bag_reader import BagReader


def test_simulate_cli_writes_bag_and_ground_truth(tmp_path: Path, capsys) -> None:
    out = tmp_path / 'demo'
    args = [
        'simulate',
        str(out),
        '--floors',
        '2',
        '--seed',
        '4',
        '--no-camera',
        '--duration',
        '30',
    ]
    assert main([*args, '--storage', 'sqlite3', '--no-clock']) == 0
    text = capsys.readouterr().out
    assert 'floors:       L0 L1' in text and 'sqlite3' in text
    assert (out / 'ground_truth' / 'L1.yaml').exists()
    with BagReader(out / 'bag') as bag:
        assert bag.message_counts['/scan'] == 300
        assert '/clock' not in bag.topics and '/camera/image_raw' not in bag.topics
    # An existing bag is refused (exit 2, clean message), --force overwrites it.
    assert main(args) == 2
    assert '--force' in capsys.readouterr().err
    assert main([*args, '--force', '--compressed', '--basement']) == 0
    with BagReader(out / 'bag') as bag:
        assert bag.topics['/clock'] == 'rosgraph_msgs/msg/Clock'
    assert (out / 'ground_truth' / 'B1.yaml').exists()


def test_simulate_cli_rejects_bad_values(tmp_path: Path, capsys) -> None:
    assert main(['simulate', str(tmp_path / 'x'), '--floors', '13']) == 2
    assert 'floors must be 1..12' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(['simulate', str(tmp_path / 'x'), '--elevators', '3'])
