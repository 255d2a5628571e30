"""Panel boxes and panel kinds from per-button labels of real panel photos.

The real panel photos (Roboflow "Elevator Button Recognition") label every **button**, named by
what is written on it. The detector wants one box per **panel** and the panel's kind, because a
car operating panel means the robot is inside the car and a hall call panel means it is at the
landing doors. So the buttons of a photo are grouped into panels (boxes grown by a gap of three
median button sizes and joined where they touch: connected components), each panel box is the
union of its buttons plus a margin, and its kind follows from the button names:

- ``car`` -- any floor designation (``1``, ``12A``, ``-1``, ``B1``, ``G``, ``L``, ``LG1``, ``PH``,
  ``sG``, ``text_lobby`` ...) or any in-car function (door open/close, alarm, emergency call,
  fan, hold ...): such buttons exist only on car operating panels;
- ``hall`` -- only up/down arrows (``up``, ``down``, ``updown``, ``text_DOWN``) besides neutral
  marks (indicator, key, led, text, blur, unknown ...);
- ``unknown`` -- only neutral marks.

A photo is one place: if any of its panels is a car panel, all are (arrows beside a car panel are
direction lanterns); else if any is a hall panel, all are. A group of neutral marks alone beside
such a panel (a floor indicator display, key switches) is no panel and gets no box. A photo of
neutral marks only stays ``unknown`` and is left out of training (counted in the data card).

Roboflow exports name augmented copies ``<source>_<ext>.rf.<hash>.jpg``; :func:`source_id`
strips the suffix so that a split keeps every copy of one photo on the same side.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from multifloor_slam.elevators.classes import CLASS_NAMES
from multifloor_slam.errors import InputDataError

#: Up/down call buttons: the only buttons a hall call panel has.
HALL_NAMES = frozenset({'up', 'down', 'updown', 'text_down', 'text_up'})
#: Marks that say nothing about the kind (on both panels, or not a button at all).
NEUTRAL_NAMES = frozenset(
    {
        '-',
        'blur',
        'empty',
        'indicator',
        'key',
        'keyhole',
        'bt_keyhole',
        'bt_switch',
        'switch',
        'led',
        'light',
        'text',
        'text_blur',
        'unknown',
        'speaker',
        'hat',
        'call',
        'text_call',
        'text_call lift',
        'text_car here',
        'text_in use',
        'text_inuse',
        'text_push',
    }
)
#: A floor designation: digits with an optional sign/suffix, or 1-3 letters with optional digits
#: and suffix (B1, G, L, LG1, P1A, PH2, sG ...), or a floor word.
_FLOOR = re.compile(r'^(-?\d+[a-z]?|s?[a-z]{1,3}\d*[a-z]?)$', re.IGNORECASE)
_FLOOR_WORDS = frozenset(
    {'text_ground', 'text_lobby', 'text_mezz', 'text_mez', 'text_plaza', 'text_street'}
)
_SOURCE = re.compile(r'\.rf\.[0-9a-f]+$')

KIND_CAR, KIND_HALL, KIND_UNKNOWN = 'car', 'hall', 'unknown'
_KIND_CLASS = {
    KIND_CAR: CLASS_NAMES.index('car_operating_panel'),
    KIND_HALL: CLASS_NAMES.index('hall_call_panel'),
}


def button_kind(name: str) -> str:
    """``'hall'``, ``'neutral'`` or ``'car'`` for one button name (see the module doc)."""
    low = name.strip().lower()
    if low in HALL_NAMES:
        return 'hall'
    if low in NEUTRAL_NAMES:
        return 'neutral'
    return 'car'


def is_floor_name(name: str) -> bool:
    """True for floor designations (``12A``, ``B1``, ``G``, ``text_lobby``); for the data card."""
    low = name.strip().lower()
    return bool(_FLOOR.match(low)) or low in _FLOOR_WORDS


def panel_kind(names: Iterable[str]) -> str:
    """Kind of a panel from its button names: ``'car'``, ``'hall'`` or ``'unknown'``."""
    kinds = {button_kind(n) for n in names}
    if 'car' in kinds:
        return KIND_CAR
    if 'hall' in kinds:
        return KIND_HALL
    return KIND_UNKNOWN


def source_id(image_name: str) -> str:
    """The source photo of a Roboflow export file (``12_jpg.rf.ab12.jpg`` -> ``12_jpg``)."""
    return _SOURCE.sub('', Path(image_name).stem)


@dataclass(frozen=True)
class Panel:
    """One panel: its box (normalised ``x1, y1, x2, y2``), kind and button count."""

    box: tuple[float, float, float, float]
    kind: str
    n_buttons: int

    @property
    def class_id(self) -> int:
        """Detector class id (:mod:`~multifloor_slam.elevators.classes`); only for known kinds."""
        return _KIND_CLASS[self.kind]


def read_yolo_labels(path: Path) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Class ids and normalised ``x1, y1, x2, y2`` boxes of a YOLO label file (empty if none)."""
    if not path.is_file():
        return np.zeros(0, np.int64), np.zeros((0, 4))
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    try:
        arr = np.array([[float(v) for v in r[:5]] for r in rows], np.float64).reshape(-1, 5)
    except ValueError as err:
        raise InputDataError(f'{path}: not a YOLO label file ({err})') from err
    xc, yc, w, h = arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4]
    boxes = np.stack([xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2], 1)
    return arr[:, 0].astype(np.int64), boxes


def group_buttons(boxes: NDArray[np.float64], gap: float = 3.0) -> list[list[int]]:
    """Connected components of button boxes grown by ``gap`` times the median button size.

    Buttons, indicators and key switches of one plate sit within a few buttons of each other
    (a gap of one button split plates into their button blocks: 40 % of the photos got 2-4
    "panels"); the hall panels of two landing doors are further apart.
    """
    n = len(boxes)
    if n == 0:
        return []
    size = float(np.median(np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])))
    grown = boxes + np.array([-1, -1, 1, 1]) * gap * size / 2
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            a, b = grown[i], grown[j]
            if a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]:
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def panels_from_buttons(
    classes: NDArray[np.int64],
    boxes: NDArray[np.float64],
    names: Sequence[str],
    *,
    gap: float = 3.0,
    margin: float = 0.15,
) -> list[Panel]:
    """Panels of one photo from its button labels.

    Args:
        classes: button class ids into ``names``.
        boxes: normalised ``x1, y1, x2, y2`` button boxes.
        names: button class names of the data set.
        gap: grouping distance in median button sizes (:func:`group_buttons`).
        margin: margin added around each panel, as a share of its smaller side (clipped to the
            image).

    Returns:
        Panels. A photo with a car panel is taken inside the car: all its panels are car panels
        (up/down arrows beside a car panel are direction lanterns). Otherwise a photo with up/down
        buttons is a landing: all its panels are hall call panels. Groups of neutral marks alone
        in such a photo are dropped. A photo of neutral marks only keeps ``'unknown'`` panels.
    """
    panels = []
    for group in group_buttons(boxes, gap):
        b = boxes[group]
        x1, y1 = b[:, 0].min(), b[:, 1].min()
        x2, y2 = b[:, 2].max(), b[:, 3].max()
        m = margin * min(x2 - x1, y2 - y1)
        box = (max(0.0, x1 - m), max(0.0, y1 - m), min(1.0, x2 + m), min(1.0, y2 + m))
        try:
            kind = panel_kind(names[int(c)] for c in classes[group])
        except IndexError as err:
            raise InputDataError(f'button class id out of range ({len(names)} names)') from err
        panels.append(Panel(box=box, kind=kind, n_buttons=len(group)))
    kinds = {p.kind for p in panels}
    if kinds - {KIND_UNKNOWN}:
        # Marks alone (an indicator display, a key switch) beside a real panel are no panel.
        panels = [p for p in panels if p.kind != KIND_UNKNOWN]
    if KIND_CAR in kinds:
        # Inside the car: arrows beside a car panel are direction lanterns, not a hall panel.
        return [Panel(p.box, KIND_CAR, p.n_buttons) for p in panels]
    if KIND_HALL in kinds:
        return [Panel(p.box, KIND_HALL, p.n_buttons) for p in panels]
    return panels


def photo_kind(panels: Sequence[Panel]) -> str:
    """``'car'``, ``'hall'``, ``'mixed'`` (both kinds), ``'unknown'`` or ``'none'`` (no panel)."""
    kinds = {p.kind for p in panels}
    if not kinds:
        return 'none'
    if KIND_UNKNOWN in kinds:
        return KIND_UNKNOWN
    return kinds.pop() if len(kinds) == 1 else 'mixed'


def split_by_source(
    names: Sequence[str], val_fraction: float, seed: int
) -> tuple[list[str], list[str]]:
    """Split file names into (train, val) so that all copies of one source photo share a side.

    Sources are shuffled with ``seed`` and the first ``round(val_fraction * n_sources)`` go to
    val; the order within each side follows ``names``.
    """
    sources = sorted({source_id(n) for n in names})
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(sources))
    n_val = round(val_fraction * len(sources))
    val_sources = {sources[i] for i in order[:n_val]}
    train = [n for n in names if source_id(n) not in val_sources]
    val = [n for n in names if source_id(n) in val_sources]
    return train, val


def read_names(data_yaml: Path) -> list[str]:
    """Class names from a Roboflow/Ultralytics ``data.yaml`` (list or id-to-name mapping)."""
    import yaml

    try:
        doc = yaml.safe_load(data_yaml.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise InputDataError(f'cannot read {data_yaml}: {err}') from err
    names = doc.get('names') if isinstance(doc, dict) else None
    if isinstance(names, dict):
        return [str(names[k]) for k in sorted(names)]
    if isinstance(names, list):
        return [str(n) for n in names]
    raise InputDataError(f'{data_yaml} has no names list')


__all__ = [
    'HALL_NAMES',
    'KIND_CAR',
    'KIND_HALL',
    'KIND_UNKNOWN',
    'NEUTRAL_NAMES',
    'Panel',
    'button_kind',
    'group_buttons',
    'is_floor_name',
    'panel_kind',
    'panels_from_buttons',
    'photo_kind',
    'read_names',
    'read_yolo_labels',
    'source_id',
    'split_by_source',
]
