from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from multifloor_slam.elevators.classes import CLASS_NAMES
from multifloor_slam.elevators.datasets import MixParams, build_mixed_dataset, noise_image
from multifloor_slam.elevators.panels import (
    group_buttons,
    panel_kind,
    panels_from_buttons,
    photo_kind,
    read_yolo_labels,
    source_id,
    split_by_source,
)
from multifloor_slam.errors import ConfigError, InputDataError

SHARED = Path(__file__).resolve().parents[3] / 'shared' / 'data'
NAMES = ['1', '2', 'B1', 'G', 'up', 'down', 'open', 'empty', 'keyhole', 'text_lobby']
HALL = CLASS_NAMES.index('hall_call_panel')
CAR = CLASS_NAMES.index('car_operating_panel')


def _label_file(path: Path, rows: list[tuple[int, float, float, float, float]]) -> Path:
    path.write_text(''.join(f'{c} {x} {y} {w} {h}\n' for c, x, y, w, h in rows))
    return path


def test_buttons_group_into_panels_with_margin_and_kind(tmp_path: Path) -> None:
    # Two columns of floor buttons (one panel) and, far right, an up/down pair.
    rows = [
        (0, 0.20, 0.30, 0.05, 0.05),
        (1, 0.27, 0.30, 0.05, 0.05),
        (2, 0.20, 0.37, 0.05, 0.05),
        (3, 0.27, 0.37, 0.05, 0.05),
        (4, 0.80, 0.50, 0.05, 0.05),
        (5, 0.80, 0.57, 0.05, 0.05),
    ]
    classes, boxes = read_yolo_labels(_label_file(tmp_path / 'a.txt', rows))
    assert group_buttons(boxes) == [[0, 1, 2, 3], [4, 5]]
    panels = panels_from_buttons(classes, boxes, NAMES, margin=0.2)
    assert len(panels) == 2
    x1, y1, x2, y2 = panels[0].box
    # Union of the buttons (0.175..0.295 x 0.275..0.395) grown by 0.2 * 0.12.
    assert x1 == pytest.approx(0.175 - 0.024) and x2 == pytest.approx(0.295 + 0.024)
    assert y1 == pytest.approx(0.275 - 0.024) and y2 == pytest.approx(0.395 + 0.024)
    # A photo with a car panel is inside the car: the arrows are direction lanterns.
    assert [p.kind for p in panels] == ['car', 'car']
    assert photo_kind(panels) == 'car'
    assert panels[1].class_id == CAR


def test_kind_rule_on_button_names() -> None:
    assert panel_kind(['up', 'down']) == 'hall'
    assert panel_kind(['down', 'keyhole', 'empty']) == 'hall'
    assert panel_kind(['up', '12A']) == 'car'
    assert panel_kind(['B1']) == 'car'
    assert panel_kind(['open', 'up']) == 'car'
    assert panel_kind(['text_lobby']) == 'car'
    assert panel_kind(['empty', 'keyhole']) == 'unknown'
    classes = np.array([4, 5, 7])
    boxes = np.array([[0.1, 0.1, 0.15, 0.15], [0.1, 0.16, 0.15, 0.21], [0.8, 0.8, 0.85, 0.85]])
    panels = panels_from_buttons(classes, boxes, NAMES)
    # The lone neutral mark far away (a key switch, an indicator display) is no panel.
    assert [p.kind for p in panels] == ['hall']
    assert panels[0].class_id == HALL
    assert panels[0].box[2] < 0.5
    only_neutral = panels_from_buttons(np.array([7]), boxes[:1], NAMES)
    assert photo_kind(only_neutral) == 'unknown'
    assert photo_kind([]) == 'none'
    with pytest.raises(InputDataError, match='out of range'):
        panels_from_buttons(np.array([99]), boxes[:1], NAMES)


def test_split_by_source_keeps_copies_of_a_photo_together() -> None:
    names = [f'{i}_jpg.rf.{h:032x}.jpg' for i in range(40) for h in range(3)]
    assert source_id(names[0]) == '0_jpg'
    train, val = split_by_source(names, 0.25, seed=5)
    assert len(train) + len(val) == len(names)
    src_train, src_val = {source_id(n) for n in train}, {source_id(n) for n in val}
    assert not src_train & src_val
    assert len(src_val) == 10
    assert split_by_source(names, 0.25, seed=5) == (train, val)
    assert split_by_source(names, 0.25, seed=6)[1] != val


def _fake_data(root: Path) -> tuple[Path, Path]:
    """A tiny panels folder (hall, car, neutral photos) and a doors folder, Roboflow layout."""
    rng = np.random.default_rng(0)
    panels = root / 'panels'
    (panels / 'train' / 'images').mkdir(parents=True)
    (panels / 'train' / 'labels').mkdir(parents=True)
    (panels / 'data.yaml').write_text('nc: 10\nnames: ' + json.dumps(NAMES) + '\n')
    layouts = {
        'hall': [(4, 0.5, 0.4, 0.1, 0.1), (5, 0.5, 0.52, 0.1, 0.1)],
        'car': [
            (0, 0.4, 0.4, 0.1, 0.1),
            (1, 0.52, 0.4, 0.1, 0.1),
            (2, 0.4, 0.52, 0.1, 0.1),
            (3, 0.52, 0.52, 0.1, 0.1),
        ],
        'neutral': [(7, 0.5, 0.5, 0.1, 0.1)],
    }
    for i in range(12):
        kind = ('hall', 'car', 'car', 'neutral')[i % 4]
        for copy in range(2):
            stem = f'{i}_jpg.rf.{copy:032x}'
            img = rng.integers(0, 255, (96, 96, 3), dtype=np.uint8)
            cv2.imwrite(str(panels / 'train' / 'images' / f'{stem}.jpg'), img)
            _label_file(panels / 'train' / 'labels' / f'{stem}.txt', layouts[kind])
    doors = root / 'doors'
    for split in ('train', 'valid'):
        (doors / split / 'images').mkdir(parents=True)
        for i in range(4):
            img = rng.integers(0, 255, (80, 100, 3), dtype=np.uint8)
            cv2.imwrite(str(doors / split / 'images' / f'Door{i}_png.rf.{i:032x}.jpg'), img)
    return panels, doors


def test_mixed_dataset_and_data_card(tmp_path: Path) -> None:
    panels, doors = _fake_data(tmp_path)
    params = MixParams(
        str(panels),
        str(doors),
        seed=1,
        real_panels=100,
        real_doors=3,
        synthetic_on_photo=4,
        synthetic_real_wall=2,
        synthetic_interior=3,
        synthetic_scene=2,
        noise=2,
        val_fraction=0.25,
        imgsz=96,
    )
    data = build_mixed_dataset(params, tmp_path / 'ds')
    text = data.read_text()
    for i, name in enumerate(CLASS_NAMES):
        assert f'{i}: {name}' in text
    card = json.loads((tmp_path / 'ds' / 'data_card.json').read_text())
    assert card['classes'] == list(CLASS_NAMES)
    # 24 files = 12 sources x 2 copies; 6 neutral-only files are left out.
    assert card['panel_photos_by_kind'] == {'car': 12, 'hall': 6, 'unknown': 6}
    assert 'Sun Moon University' in card['sources']['real_panels']['licence']
    assert 'findforway' in card['sources']['real_doors']['licence']
    assert card['images']['train']['real_doors'] == 3
    assert card['images']['train']['noise'] == 2
    assert card['images']['train']['synthetic_interior'] == 3
    assert card['images']['train']['synthetic_scene'] == 2
    n_panels = card['images']['train']['real_panels'] + card['images']['val'].get('real_panels', 0)
    assert n_panels <= 18
    md = (tmp_path / 'ds' / 'data_card.md').read_text()
    assert 'CC BY 4.0' in md and '| train | real_panels |' in md
    # No source photo of the panels on both sides.
    sides = {
        split: {
            source_id(p.name.removeprefix('panel_'))
            for p in (tmp_path / 'ds' / 'images' / split).glob('panel_*')
        }
        for split in ('train', 'val')
    }
    assert sides['train'] and not sides['train'] & sides['val']
    # Door photos and noise carry empty labels; panel labels use the panel class ids only.
    for label in (tmp_path / 'ds' / 'labels' / 'train').glob('door_*.txt'):
        assert label.read_text() == ''
    for label in (tmp_path / 'ds' / 'labels' / 'train').glob('panel_*.txt'):
        ids = {int(line.split()[0]) for line in label.read_text().splitlines()}
        assert ids and ids <= {HALL, CAR}
    images = list((tmp_path / 'ds' / 'images' / 'train').iterdir())
    assert all(cv2.imread(str(p)) is not None for p in images)
    # Noise comes at the camera's 4:3 and at the network's square input.
    noise_shapes = {cv2.imread(str(p)).shape[:2] for p in images if p.name.startswith('noise_')}
    assert noise_shapes == {(72, 96), (96, 96)}
    # Hall-call photos (the rare kind) are repeated hall_repeat times in train only.
    labels = tmp_path / 'ds' / 'labels'
    hall = [
        f
        for f in (labels / 'train').glob('panel_*.txt')
        if '_copy' not in f.stem and f.read_text().startswith(f'{HALL} ')
    ]
    copies = list((labels / 'train').glob('panel_*_copy*.txt'))
    assert hall and len(copies) == (params.hall_repeat - 1) * len(hall)
    assert card['images']['train']['real_panels_hall_copy'] == len(copies)
    assert not list((labels / 'val').glob('*_copy*'))


def test_mix_rejects_missing_folders_and_noise_is_noise(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match='panels_dir'):
        MixParams(str(tmp_path / 'nope'), str(tmp_path))
    img = noise_image(np.random.default_rng(3), 64, 48)
    assert img.shape == (48, 64, 3) and img.dtype == np.uint8 and img.std() > 1


@pytest.mark.skipif(not (SHARED / 'elevator-panels').is_dir(), reason='../shared/data absent')
def test_real_panel_photos_mostly_get_a_kind() -> None:
    from multifloor_slam.elevators.panels import read_names

    root = SHARED / 'elevator-panels'
    names = read_names(root / 'data.yaml')
    labels = sorted((root / 'train' / 'labels').glob('*.txt'))[:200]
    kinds = [photo_kind(panels_from_buttons(*read_yolo_labels(p), names)) for p in labels]
    assert kinds.count('unknown') + kinds.count('none') < 0.1 * len(kinds)
    assert kinds.count('hall') > 0 and kinds.count('car') > kinds.count('hall')
