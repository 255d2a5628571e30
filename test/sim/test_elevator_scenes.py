from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from multifloor_slam.errors import ConfigError
from multifloor_slam.sim.elevator_scenes import CLASSES, SceneParams, render_scene, write_dataset


def test_render_scene_is_deterministic_per_seed_and_index() -> None:
    a = render_scene(11, 4)
    b = render_scene(11, 4)
    assert np.array_equal(a.image, b.image)
    assert np.array_equal(a.boxes, b.boxes)
    assert np.array_equal(a.classes, b.classes)
    c = render_scene(12, 4)
    assert not np.array_equal(a.image, c.image)


def test_scenes_have_valid_boxes_inside_the_image_and_cover_every_class() -> None:
    seen = np.zeros(len(CLASSES), int)
    negatives = 0
    for i in range(60):
        scene = render_scene(3, i)
        h, w = scene.image.shape[:2]
        assert scene.image.dtype == np.uint8
        assert w == 320
        assert h in (240, 180)
        assert scene.boxes.shape == (len(scene.classes), 4)
        if len(scene.classes) == 0:
            negatives += 1
            continue
        assert (scene.boxes[:, 0] >= 0).all() and (scene.boxes[:, 2] <= w).all()
        assert (scene.boxes[:, 1] >= 0).all() and (scene.boxes[:, 3] <= h).all()
        assert (scene.boxes[:, 2] - scene.boxes[:, 0] >= 4).all()
        assert (scene.boxes[:, 3] - scene.boxes[:, 1] >= 4).all()
        seen += np.bincount(scene.classes, minlength=len(CLASSES))
    assert (seen > 0).all(), dict(zip(CLASSES, seen, strict=True))
    assert negatives > 0


def test_yolo_lines_are_normalised_centre_size() -> None:
    scene = next(s for s in (render_scene(5, i) for i in range(20)) if len(s.classes))
    h, w = scene.image.shape[:2]
    for line, box, cls in zip(scene.yolo_lines(), scene.boxes, scene.classes, strict=True):
        c, xc, yc, bw, bh = line.split()
        assert int(c) == cls
        assert float(xc) == pytest.approx((box[0] + box[2]) / 2 / w, abs=1e-5)
        assert float(yc) == pytest.approx((box[1] + box[3]) / 2 / h, abs=1e-5)
        assert float(bw) == pytest.approx((box[2] - box[0]) / w, abs=1e-5)
        assert float(bh) == pytest.approx((box[3] - box[1]) / h, abs=1e-5)


def test_write_dataset_writes_images_labels_and_data_yaml(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / 'ds', 10, seed=2, val_fraction=0.2)
    text = data.read_text()
    assert 'train: images/train' in text and 'val: images/val' in text
    for i, name in enumerate(CLASSES):
        assert f'{i}: {name}' in text
    train = sorted((tmp_path / 'ds' / 'images' / 'train').glob('*.jpg'))
    val = sorted((tmp_path / 'ds' / 'images' / 'val').glob('*.jpg'))
    assert len(train) == 8 and len(val) == 2
    for img in train + val:
        label = img.parents[2] / 'labels' / img.parent.name / f'{img.stem}.txt'
        assert label.is_file()
        assert cv2.imread(str(img)) is not None
    again = write_dataset(tmp_path / 'ds2', 10, seed=2, val_fraction=0.2)
    first = (tmp_path / 'ds' / 'images' / 'train' / train[0].name).read_bytes()
    assert (again.parent / 'images' / 'train' / train[0].name).read_bytes() == first


def test_invalid_scene_parameters_raise_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match='too small'):
        SceneParams(width=32)
    with pytest.raises(ConfigError, match='p_inside'):
        SceneParams(p_inside=1.5)
    with pytest.raises(ConfigError, match='n_images'):
        write_dataset(tmp_path, 0, seed=1)


def _photo(seed: int, h: int = 240, w: int = 320) -> np.ndarray:
    """A stand-in for a real photo: smooth colour blobs."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(0, 255, (6, 8, 3)).astype(np.float32)
    return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), np.uint8)


def test_render_on_photo_composites_doors_with_real_panel_crops_off_axis() -> None:
    from multifloor_slam.sim.elevator_scenes import (
        DOOR_CLOSED,
        DOOR_OPEN,
        HALL_PANEL,
        render_on_photo,
    )

    crop = np.full((60, 30, 3), (0, 0, 255), np.uint8)  # a pure red "hall panel photo"
    background = _photo(1)
    seen: set[int] = set()
    red_in_panel = 0
    for i in range(30):
        scene = render_on_photo(4, i, background, SceneParams(width=160), hall_crops=[crop])
        h, w = scene.image.shape[:2]
        assert w == 160 and scene.image.dtype == np.uint8
        assert set(scene.classes.tolist()) <= {DOOR_CLOSED, DOOR_OPEN, HALL_PANEL}
        assert (scene.boxes[:, :2] >= 0).all() and (scene.boxes[:, 2] <= w).all()
        assert (scene.boxes[:, 3] <= h).all()
        seen |= set(scene.classes.tolist())
        for box, c in zip(scene.boxes.astype(int), scene.classes, strict=True):
            if c == HALL_PANEL:
                patch = scene.image[box[1] : box[3], box[0] : box[2]].astype(float)
                red_in_panel += int(patch[..., 2].mean() > patch[..., :2].mean() + 20)
    assert {DOOR_CLOSED, DOOR_OPEN, HALL_PANEL} <= seen
    assert red_in_panel > 0
    again = render_on_photo(4, 3, background, SceneParams(width=160), hall_crops=[crop])
    first = render_on_photo(4, 3, background, SceneParams(width=160), hall_crops=[crop])
    assert np.array_equal(again.image, first.image)


def test_off_axis_doors_get_narrow_boxes_at_high_yaw() -> None:
    from multifloor_slam.sim.elevator_scenes import DOOR_CLOSED, DOOR_OPEN, render_on_photo

    def aspect(max_yaw: float) -> float:
        ratios = []
        for i in range(40):
            s = render_on_photo(9, i, _photo(2), SceneParams(width=160), max_yaw_deg=max_yaw)
            for (x1, y1, x2, y2), c in zip(s.boxes, s.classes, strict=True):
                if c in (DOOR_CLOSED, DOOR_OPEN) and y2 - y1 > 10:
                    ratios.append((x2 - x1) / (y2 - y1))
        return float(np.median(ratios))

    assert aspect(80.0) < aspect(0.0)


def test_interiors_carry_car_panels_from_real_crops() -> None:
    from multifloor_slam.sim.elevator_scenes import CAR_PANEL, HALL_PANEL, INTERIOR

    crop = np.full((80, 30, 3), (255, 0, 0), np.uint8)
    params = SceneParams(width=160, p_inside=1.0)
    classes = np.concatenate(
        [render_scene(2, i, params, car_crops=[crop]).classes for i in range(20)]
    )
    assert (classes == INTERIOR).sum() == 20
    assert (classes == CAR_PANEL).sum() > 0
    assert (classes == HALL_PANEL).sum() == 0
    wall = render_scene(3, 0, SceneParams(width=160, p_inside=0.0), background=_photo(5))
    assert wall.image.shape[1] == 160


def test_close_ups_frame_one_door_that_fills_the_view() -> None:
    far = SceneParams(p_inside=0.0, p_negative=0.0)
    close = SceneParams(p_inside=0.0, p_negative=0.0, p_close=1.0)
    doors = {'elevator_door_closed', 'elevator_door_open'}

    def widest_door(params: SceneParams, i: int) -> float:
        scene = render_scene(7, i, params)
        w = scene.image.shape[1]
        widths = [
            (b[2] - b[0]) / w
            for c, b in zip(scene.classes, scene.boxes, strict=True)
            if CLASSES[c] in doors
        ]
        return max(widths, default=0.0)

    far_w = [widest_door(far, i) for i in range(20)]
    close_w = [widest_door(close, i) for i in range(20)]
    # Every close-up keeps its door label though the door fills most of the frame (a landing
    # whose distractors left no room for an elevator has no door to frame).
    framed = [x for x in close_w if x > 0.0]
    assert len(framed) >= 16 and min(framed) >= 0.5
    assert np.median(close_w) > 1.5 * np.median(far_w)
    # p_close = 0 draws nothing extra: the scenes stay what they were.
    assert np.array_equal(render_scene(7, 3).image, render_scene(7, 3, SceneParams()).image)
