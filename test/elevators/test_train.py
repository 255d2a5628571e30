from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault('YOLO_CONFIG_DIR', tempfile.mkdtemp(prefix='yolo_cfg_'))

from multifloor_slam.cli.main import main
from multifloor_slam.errors import ConfigError


@pytest.mark.slow
def test_train_command_builds_and_trains_offline_from_the_committed_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from multifloor_slam.elevators.detector import DetectorParams, ElevatorDetector

    out = tmp_path / 'train'
    args = ['train', '--out', str(out), '--images', '12', '--epochs', '1', '--imgsz', '96']
    assert main([*args, '--batch', '4', '--seed', '3']) == 0
    weights = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert weights == out / 'elevator_yolo.pt'
    assert weights.is_file()
    assert (out / 'dataset' / 'data.yaml').is_file()
    detector = ElevatorDetector(DetectorParams(model_path=str(weights), imgsz=96, device='cpu'))
    assert sorted(detector.names.values()) == sorted(
        ['elevator_door_closed', 'elevator_door_open', 'elevator_panel', 'elevator_interior']
    )


def test_train_rejects_bad_arguments(tmp_path: Path) -> None:
    from multifloor_slam.elevators.train import TrainParams

    with pytest.raises(ConfigError, match='imgsz'):
        TrainParams(out_dir=str(tmp_path), imgsz=100)
    with pytest.raises(ConfigError, match='not found'):
        TrainParams(out_dir=str(tmp_path), data=str(tmp_path / 'none.yaml'))
