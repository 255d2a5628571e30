"""The mixed training set of the elevator detector: real panels, real doors, synthetic elevators.

No labelled real photos of elevator doors or car interiors exist here, so the set mixes:

- ``real_panels`` -- real button-panel photos, labelled with panel boxes and kinds
  (:mod:`~multifloor_slam.elevators.panels`); photos of only neutral marks are left out;
- ``real_doors`` -- real ordinary-door and corridor photos with empty labels: hard negatives
  (the old model called 30 % of them an elevator);
- ``synthetic_on_photo`` -- synthetic landing doors on a wall turned up to 80 deg off-axis, laid
  into a real door/corridor photo, with real hall call panel crops beside them;
- ``synthetic_real_wall`` -- synthetic landings whose wall is a real photo (camera warp);
- ``synthetic_interior`` -- synthetic car interiors with real car operating panel crops;
- ``synthetic_scene`` -- fully drawn scenes (landings and cars), the artwork the simulator's
  camera draws with (none in the shipped recipe: 300 of them raised the drawn scenes' door AP50
  from 0.60/0.64 to 0.73/0.77, but blotchy noise then read as a car operating panel);
- ``noise`` -- noise images with empty labels (the old model fired on noise).

Every split is by source photo (no photo's copies on both sides), seeded. Real images are linked,
not copied. Only the panels ``train`` split and the doors ``train``/``valid`` splits are read:
the panels ``valid`` and doors ``test`` splits are the held-back benchmark.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from multifloor_slam.elevators.classes import CLASS_NAMES
from multifloor_slam.elevators.panels import (
    KIND_CAR,
    KIND_HALL,
    Panel,
    panels_from_buttons,
    photo_kind,
    read_names,
    read_yolo_labels,
    split_by_source,
)
from multifloor_slam.errors import ConfigError, InputDataError
from multifloor_slam.io.atomic_file import write_atomic
from multifloor_slam.sim.elevator_scenes import SceneParams, render_on_photo, render_scene

_IMAGE_EXT = ('.jpg', '.jpeg', '.png', '.bmp')
PANELS_CREDIT = (
    'CC BY 4.0, "Elevator Button Recognition" by Sun Moon University (Roboflow Universe)'
)
DOORS_CREDIT = (
    'CC BY 4.0, "findforway" (Roboflow Universe, door-open workspace), '
    'via github:nayefzedane/real-time-project---Robot-door-detection'
)
SYNTHETIC_CREDIT = 'procedural (multifloor_slam.sim.elevator_scenes), AGPL-3.0 with this package'


@dataclass(frozen=True)
class MixParams:
    """How many images of each source go into training; validation takes a share more.

    Attributes:
        panels_dir: real panel photos (``data.yaml``, ``train/images``, ``train/labels``).
        doors_dir: real ordinary-door photos (``train/images``, ``valid/images``).
        seed: split and generation seed.
        real_panels: real panel photos in train (at most those usable).
        hall_repeat: copies of each hall-call panel photo in train (they are about one in
            nine panel photos; repeating them evens out the two panel kinds).
        real_doors: door negatives in train.
        synthetic_on_photo / synthetic_real_wall / synthetic_interior / synthetic_scene / noise:
            generated images.
        val_fraction: validation images per source, as a share of its train count.
        imgsz: width of generated images.
        close_ups: share of the drawn landings (``synthetic_real_wall``, ``synthetic_scene``)
            framed on one door from close by (``SceneParams.p_close``).
    """

    panels_dir: str
    doors_dir: str
    seed: int = 0
    real_panels: int = 1400
    hall_repeat: int = 3
    real_doors: int = 500
    synthetic_on_photo: int = 500
    synthetic_real_wall: int = 100
    synthetic_interior: int = 200
    synthetic_scene: int = 0
    noise: int = 50
    val_fraction: float = 0.12
    imgsz: int = 320
    close_ups: float = 0.0

    def __post_init__(self) -> None:
        for name in ('panels_dir', 'doors_dir'):
            if not Path(getattr(self, name)).is_dir():
                raise ConfigError(f'{name} is not a directory: {getattr(self, name)}')
        counts = (
            self.real_panels,
            self.real_doors,
            self.synthetic_on_photo,
            self.synthetic_real_wall,
            self.synthetic_interior,
            self.synthetic_scene,
            self.noise,
        )
        if min(counts) < 0:
            raise ConfigError('image counts must be >= 0')
        if self.hall_repeat < 1:
            raise ConfigError(f'hall_repeat must be >= 1, got {self.hall_repeat}')
        if not 0.0 <= self.close_ups <= 1.0:
            raise ConfigError(f'close_ups must lie in [0, 1], got {self.close_ups}')
        if not 0.0 < self.val_fraction < 1.0:
            raise ConfigError(f'val_fraction must lie in (0, 1), got {self.val_fraction}')


@dataclass
class _Writer:
    """Writes images and labels into ``root`` and counts them for the data card."""

    root: Path
    images: Counter = field(default_factory=Counter)
    boxes: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        for kind in ('images', 'labels'):
            for split in ('train', 'val'):
                (self.root / kind / split).mkdir(parents=True, exist_ok=True)

    def add(
        self,
        split: str,
        source: str,
        stem: str,
        lines: list[str],
        *,
        link: Path | None = None,
        image: NDArray[np.uint8] | None = None,
        quality: int = 90,
    ) -> None:
        """One image (linked from ``link`` or encoded from ``image``) and its YOLO lines."""
        if link is not None:
            target = self.root / 'images' / split / f'{stem}{link.suffix.lower()}'
            if target.is_symlink() or target.exists():
                target.unlink()
            os.symlink(link.resolve(), target)
        elif image is not None:
            ok, buf = cv2.imencode('.jpg', image, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if not ok:
                raise InputDataError(f'cannot encode image {stem}')
            write_atomic(self.root / 'images' / split / f'{stem}.jpg', buf.tobytes())
        text = '\n'.join(lines)
        write_atomic(
            self.root / 'labels' / split / f'{stem}.txt', (text + '\n' if text else '').encode()
        )
        self.images[(split, source)] += 1
        for line in lines:
            self.boxes[(split, source, CLASS_NAMES[int(line.split()[0])])] += 1


def list_images(folder: Path) -> list[Path]:
    """Image files of a folder, sorted by name (raises when there are none)."""
    if not folder.is_dir():
        raise InputDataError(f'no image folder {folder}')
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in _IMAGE_EXT)
    if not files:
        raise InputDataError(f'{folder} holds no images')
    return files


def read_image(path: Path) -> NDArray[np.uint8] | None:
    """A BGR image, or None when the file is not a readable image."""
    image = cv2.imread(str(path))
    return None if image is None else np.asarray(image, np.uint8)


def _panel_lines(panels: list[Panel]) -> list[str]:
    lines = []
    for p in panels:
        x1, y1, x2, y2 = p.box
        xc, yc, w, h = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
        lines.append(f'{p.class_id} {xc:.6f} {yc:.6f} {w:.6f} {h:.6f}')
    return lines


def _scene_lines(boxes: NDArray, classes: NDArray, w: int, h: int) -> list[str]:
    lines = []
    for (x1, y1, x2, y2), c in zip(boxes, classes, strict=True):
        xc, yc = (x1 + x2) / 2 / w, (y1 + y2) / 2 / h
        lines.append(f'{int(c)} {xc:.6f} {yc:.6f} {(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}')
    return lines


def _crop(image: NDArray[np.uint8], box: tuple[float, float, float, float]) -> NDArray[np.uint8]:
    h, w = image.shape[:2]
    x1, y1, x2, y2 = (round(box[0] * w), round(box[1] * h), round(box[2] * w), round(box[3] * h))
    return image[y1:y2, x1:x2].copy()


def noise_image(rng: np.random.Generator, w: int, h: int) -> NDArray[np.uint8]:
    """Uniform, Gaussian, coloured or smooth noise: nothing to detect."""
    kind = int(rng.integers(4))
    if kind == 0:
        img = rng.uniform(0, 255, (h, w, 3))
    elif kind == 1:
        img = rng.normal(rng.uniform(60, 200), rng.uniform(10, 80), (h, w, 3))
    elif kind == 2:
        img = rng.uniform(0, 255, (h, w, 1)) * rng.uniform(0.3, 1.0, 3)
    else:
        cells = rng.integers(2, 64, 2)  # blotches of 5 to 160 px at 320 px
        small = rng.uniform(0, 255, (int(cells[0]), int(cells[1]), 3))
        img = np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), np.float64)
        img = img + rng.normal(0, rng.uniform(0, 30), (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def build_mixed_dataset(params: MixParams, out_dir: str | Path) -> Path:
    """Write the mixed YOLO data set and its data card into ``out_dir``; returns ``data.yaml``.

    Raises:
        InputDataError: a data folder lacks images, labels or names.
    """
    p = params
    root = Path(out_dir).resolve()
    writer = _Writer(root)
    rng = np.random.default_rng(np.random.SeedSequence([p.seed, 11]))
    panels_root, doors_root = Path(p.panels_dir), Path(p.doors_dir)
    names = read_names(panels_root / 'data.yaml')

    # Real panels: label every photo, drop the undecidable, split by source photo.
    kinds: Counter = Counter()
    usable: dict[str, tuple[Path, list[Panel]]] = {}
    for img in list_images(panels_root / 'train' / 'images'):
        classes, boxes = read_yolo_labels(panels_root / 'train' / 'labels' / f'{img.stem}.txt')
        panels = panels_from_buttons(classes, boxes, names)
        kind = photo_kind(panels)
        kinds[kind] += 1
        if kind in (KIND_CAR, KIND_HALL):
            usable[img.name] = (img, panels)
    order = list(usable)
    train_names, val_names = split_by_source(order, p.val_fraction, p.seed)
    n_train = min(p.real_panels, len(train_names))
    n_val = min(round(n_train * p.val_fraction), len(val_names))
    picked_train = [train_names[i] for i in sorted(rng.permutation(len(train_names))[:n_train])]
    picked_val = [val_names[i] for i in sorted(rng.permutation(len(val_names))[:n_val])]
    hall_crops: list[NDArray[np.uint8]] = []
    car_crops: list[NDArray[np.uint8]] = []
    for split, chosen in (('train', picked_train), ('val', picked_val)):
        for name in chosen:
            img, panels = usable[name]
            lines = _panel_lines(panels)
            writer.add(split, 'real_panels', f'panel_{img.stem}', lines, link=img)
            if split == 'train' and photo_kind(panels) == KIND_HALL:
                for copy in range(1, p.hall_repeat):
                    stem = f'panel_{img.stem}_copy{copy}'
                    writer.add(split, 'real_panels_hall_copy', stem, lines, link=img)
    # Crops for compositing come from the train side only (all of it, not just the picked).
    for name in train_names:
        img, panels = usable[name]
        for panel in panels:
            if len(hall_crops) + len(car_crops) > 2000:
                break
            if panel.n_buttons < (1 if panel.kind == KIND_HALL else 4):
                continue
            image = read_image(img)
            if image is None:
                continue
            crop = _crop(image, panel.box)
            if min(crop.shape[:2]) >= 12:
                (hall_crops if panel.kind == KIND_HALL else car_crops).append(crop)

    # Real doors: negatives and backgrounds; train from the doors train split, val from valid.
    door_files = {s: list_images(doors_root / s / 'images') for s in ('train', 'valid')}
    backgrounds: dict[str, list[Path]] = {}
    for split, folder in (('train', 'train'), ('val', 'valid')):
        files = door_files[folder]
        count = p.real_doors if split == 'train' else round(p.real_doors * p.val_fraction)
        idx = sorted(rng.permutation(len(files))[: min(count, len(files))])
        for i in idx:
            writer.add(split, 'real_doors', f'door_{files[i].stem}', [], link=files[i])
        backgrounds[split] = files

    # Synthetic on real photos; val scenes use the doors valid photos and their own seeds.
    scene = SceneParams(width=p.imgsz, p_close=p.close_ups)
    interior = SceneParams(width=p.imgsz, p_inside=1.0)
    landing = SceneParams(width=p.imgsz, p_inside=0.0, p_negative=0.1, p_close=p.close_ups)
    for split in ('train', 'val'):
        frac = 1.0 if split == 'train' else p.val_fraction
        seed = p.seed * 2 + (0 if split == 'train' else 1)
        bgs = backgrounds[split]
        jobs = (
            ('synthetic_on_photo', p.synthetic_on_photo),
            ('synthetic_real_wall', p.synthetic_real_wall),
            ('synthetic_interior', p.synthetic_interior),
            ('synthetic_scene', p.synthetic_scene),
            ('noise', p.noise),
        )
        for source, total in jobs:
            for i in range(round(total * frac)):
                pick = np.random.default_rng(np.random.SeedSequence([seed, i, len(source)]))
                bg = read_image(bgs[int(pick.integers(len(bgs)))])
                wall = read_image(bgs[int(pick.integers(len(bgs)))])
                if bg is None or wall is None:
                    raise InputDataError('a door photo cannot be read')
                if source == 'synthetic_on_photo':
                    use_wall = wall if pick.random() < 0.6 else None
                    sc = render_on_photo(seed, i, bg, scene, wall=use_wall, hall_crops=hall_crops)
                elif source == 'synthetic_real_wall':
                    sc = render_scene(seed, i, landing, background=bg, hall_crops=hall_crops)
                elif source == 'synthetic_interior':
                    sc = render_scene(seed, i, interior, car_crops=car_crops)
                elif source == 'synthetic_scene':
                    sc = render_scene(seed, i, scene)
                else:
                    # Half at the camera's 4:3, half square: square noise fills the network's
                    # whole input unpadded, and that is where stage 8 still fired on it.
                    h = p.imgsz if i % 2 else round(p.imgsz * 3 / 4)
                    writer.add(
                        split,
                        source,
                        f'noise_{seed}_{i:05d}',
                        [],
                        image=noise_image(pick, p.imgsz, h),
                    )
                    continue
                h, w = sc.image.shape[:2]
                lines = _scene_lines(sc.boxes, sc.classes, w, h)
                quality = int(pick.integers(35, 96))
                writer.add(
                    split,
                    source,
                    f'{source}_{seed}_{i:05d}',
                    lines,
                    image=sc.image,
                    quality=quality,
                )

    class_lines = '\n'.join(f'  {i}: {n}' for i, n in enumerate(CLASS_NAMES))
    yaml_text = f'path: {root}\ntrain: images/train\nval: images/val\nnames:\n{class_lines}\n'
    write_atomic(root / 'data.yaml', yaml_text.encode())
    card = data_card(p, writer, kinds, len(hall_crops), len(car_crops))
    write_data_card(card, root)
    return root / 'data.yaml'


def data_card(
    params: MixParams, writer: _Writer, kinds: Counter, n_hall_crops: int, n_car_crops: int
) -> dict:
    """The data card: sources, licences, counts per split/source/class, the panel kind rule."""
    images: dict[str, dict[str, int]] = {}
    for (split, source), n in sorted(writer.images.items()):
        images.setdefault(split, {})[source] = n
    boxes: dict[str, dict[str, dict[str, int]]] = {}
    for (split, source, cls), n in sorted(writer.boxes.items()):
        boxes.setdefault(split, {}).setdefault(source, {})[cls] = n
    per_class: dict[str, dict[str, int]] = {}
    for (split, _source, cls), n in writer.boxes.items():
        per_class.setdefault(split, dict.fromkeys(CLASS_NAMES, 0))[cls] += n
    return {
        'classes': list(CLASS_NAMES),
        'params': asdict(params),
        'sources': {
            'real_panels': {
                'path': params.panels_dir,
                'split_used': 'train (valid held back for the benchmark)',
                'licence': PANELS_CREDIT,
            },
            'real_doors': {
                'path': params.doors_dir,
                'split_used': 'train -> train, valid -> val (test held back for the benchmark)',
                'licence': DOORS_CREDIT,
            },
            'synthetic': {'licence': SYNTHETIC_CREDIT},
        },
        'panel_kind_rule': (
            'any floor designation or in-car function button => car_operating_panel, and then '
            'every panel of that photo; else any up/down button => hall_call_panel for every '
            'panel '
            'of the photo; a group of neutral marks alone beside such a panel (an indicator '
            'display, key switches) is no panel; photos of neutral marks only are left out'
        ),
        'panel_photos_by_kind': dict(sorted(kinds.items())),
        'panel_crops': {'hall_call_panel': n_hall_crops, 'car_operating_panel': n_car_crops},
        'split': 'by source photo (Roboflow <name>.rf.<hash> copies kept together), seeded',
        'images': images,
        'boxes_per_class': per_class,
        'boxes': boxes,
    }


def write_data_card(card: dict, folder: str | Path, stem: str = 'data_card') -> tuple[Path, Path]:
    """Write the card as ``<stem>.json`` and a readable ``<stem>.md``; returns both paths."""
    folder = Path(folder)
    js = folder / f'{stem}.json'
    md = folder / f'{stem}.md'
    write_atomic(js, (json.dumps(card, indent=2) + '\n').encode())
    lines = [
        '# Elevator detector training data',
        '',
        'Classes: ' + ', '.join(f'{i} `{n}`' for i, n in enumerate(card['classes'])),
        '',
        '## Sources and licences',
        '',
    ]
    for name, src in card['sources'].items():
        lines.append(
            f'- **{name}**: {src["licence"]}'
            + (f' (`{src["path"]}`, {src["split_used"]})' if 'path' in src else '')
        )
    lines += [
        '',
        f'Split: {card["split"]}.',
        '',
        f'Panel kind rule: {card["panel_kind_rule"]}.',
        '',
        'Panel photos by kind (train split read): '
        + ', '.join(f'{k} {v}' for k, v in card['panel_photos_by_kind'].items()),
        '',
        '## Images per split and source',
        '',
        '| split | source | images | ' + ' | '.join(card['classes']) + ' |',
        '|---|---|---|' + '---|' * len(card['classes']),
    ]
    for split, sources in card['images'].items():
        for source, n in sources.items():
            per = card['boxes'].get(split, {}).get(source, {})
            lines.append(
                f'| {split} | {source} | {n} | '
                + ' | '.join(str(per.get(c, 0)) for c in card['classes'])
                + ' |'
            )
    if 'training' in card:
        lines += ['', '## Training', '', '```', json.dumps(card['training'], indent=2), '```']
    write_atomic(md, ('\n'.join(lines) + '\n').encode())
    return js, md


__all__ = [
    'DOORS_CREDIT',
    'PANELS_CREDIT',
    'MixParams',
    'build_mixed_dataset',
    'data_card',
    'list_images',
    'noise_image',
    'read_image',
    'write_data_card',
]
