from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault('YOLO_CONFIG_DIR', tempfile.mkdtemp(prefix='yolo_cfg_'))

from multifloor_slam.cli.main import main
from multifloor_slam.elevators.classes import CLASS_NAMES
from multifloor_slam.errors import ConfigError


@pytest.mark.slow
def test_train_command_builds_and_trains_offline_from_the_committed_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    from multifloor_slam.elevators.detector import DetectorParams, ElevatorDetector

    out = tmp_path / 'train'
    args = ['train', '--out', str(out), '--images', '12', '--epochs', '1', '--imgsz', '96']
    before = torch.get_num_threads()
    try:
        # Ultralytics would train on cores - 1 threads: 3 is nobody's default choice here
        assert main([*args, '--batch', '4', '--seed', '3', '--threads', '3']) == 0
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)
    weights = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert weights == out / 'elevator_yolo.pt'
    assert weights.is_file()
    assert (out / 'dataset' / 'data.yaml').is_file()
    detector = ElevatorDetector(DetectorParams(model_path=str(weights), imgsz=96, device='cpu'))
    assert sorted(detector.names.values()) == sorted(list(CLASS_NAMES))


def test_train_rejects_bad_arguments(tmp_path: Path) -> None:
    from multifloor_slam.elevators.train import TrainParams

    with pytest.raises(ConfigError, match='imgsz'):
        TrainParams(out_dir=str(tmp_path), imgsz=100)
    with pytest.raises(ConfigError, match='not found'):
        TrainParams(out_dir=str(tmp_path), data=str(tmp_path / 'none.yaml'))
    with pytest.raises(ConfigError, match='threads'):
        TrainParams(out_dir=str(tmp_path), threads=-1)


@pytest.mark.slow
def test_train_on_the_real_mix_fine_tunes_the_shipped_model_and_writes_the_card(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from test_datasets import _fake_data

    from multifloor_slam.elevators.detector import DetectorParams, ElevatorDetector
    from multifloor_slam.elevators.train import repo_models_dir

    panels, doors = _fake_data(tmp_path)
    out = tmp_path / 'mix'
    args = ['train', '--out', str(out), '--panels', str(panels), '--doors', str(doors)]
    args += ['--mix-scale', '0.01', '--epochs', '1', '--imgsz', '64', '--batch', '4']
    args += ['--weights', str(repo_models_dir() / 'elevator_yolo.pt')]
    assert main(args) == 0
    weights = Path(capsys.readouterr().out.strip().splitlines()[-1])
    card = json.loads((out / 'elevator_yolo.data_card.json').read_text())
    assert card['classes'] == list(CLASS_NAMES)
    assert card['training']['epochs_done'] == 1
    assert card['training']['weights_file'] == weights.name
    assert card['training']['weights'].endswith('elevator_yolo.pt')
    assert (out / 'elevator_yolo.data_card.md').is_file()
    detector = ElevatorDetector(DetectorParams(model_path=str(weights), imgsz=64, device='cpu'))
    assert [detector.names[i] for i in range(len(CLASS_NAMES))] == list(CLASS_NAMES)


def test_real_mix_needs_both_folders(tmp_path: Path) -> None:
    from multifloor_slam.elevators.train import TrainParams

    with pytest.raises(ConfigError, match='together'):
        TrainParams(out_dir=str(tmp_path), panels=str(tmp_path))


def test_mix_takes_drawn_scenes_only_when_asked_and_noise_as_asked(tmp_path: Path) -> None:
    """The shipped recipe has no fully drawn scenes; ``--synthetic-scenes`` adds them, scaled."""
    from multifloor_slam.elevators.train import TrainParams, mix_params

    folders = {'panels': str(tmp_path), 'doors': str(tmp_path)}
    assert mix_params(TrainParams(out_dir=str(tmp_path), **folders)).synthetic_scene == 0
    asked = TrainParams(out_dir=str(tmp_path), synthetic_scenes=300, mix_scale=0.5, **folders)
    mix = mix_params(asked)
    assert mix.synthetic_scene == 150 and mix.noise == 25
    more_noise = TrainParams(out_dir=str(tmp_path), noise_images=200, **folders)
    assert mix_params(more_noise).noise == 200
    close = TrainParams(out_dir=str(tmp_path), close_ups=0.3, **folders)
    assert mix_params(close).close_ups == 0.3
    with pytest.raises(ConfigError, match='close_ups'):
        mix_params(TrainParams(out_dir=str(tmp_path), close_ups=1.5, **folders))
    with pytest.raises(ConfigError, match='synthetic_scenes'):
        TrainParams(out_dir=str(tmp_path), synthetic_scenes=-1)
