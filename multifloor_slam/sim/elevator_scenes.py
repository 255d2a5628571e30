"""Procedural elevator scenes with YOLO labels, for training and testing the elevator detector.

The detector is judged on real photos, so the generator spends its effort on variety rather than
realism of any one look: landing doors (closed, partly open, open) in brushed steel, paint, glass
and wood, inside frames of steel, stone or paint, hall call panels and floor indicators; car
interiors with operating panels seen from inside; and distractors that share the elevator's
shapes but are not elevators (ordinary and double doors with handles, cabinets, fridges, windows,
corridors). Every scene is then seen through a random camera (perspective, distance, crop),
random light (gain, gamma, colour cast, uneven illumination), blur, sensor noise, occluders and
JPEG artefacts.

Each image comes from its own ``numpy`` generator seeded by ``(seed, index)``, so a data set is
reproducible image by image and any image can be regenerated alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from multifloor_slam.elevators.classes import CLASS_NAMES
from multifloor_slam.errors import ConfigError
from multifloor_slam.io.atomic_file import write_atomic

#: Class names of the detector, in class-id order.
CLASSES: tuple[str, ...] = CLASS_NAMES
DOOR_CLOSED, DOOR_OPEN, HALL_PANEL, CAR_PANEL, INTERIOR = (
    CLASS_NAMES.index(n)
    for n in (
        'elevator_door_closed',
        'elevator_door_open',
        'hall_call_panel',
        'car_operating_panel',
        'elevator_interior',
    )
)
#: Real panel photos cut to their panel box (BGR uint8), pasted instead of drawn panels.
Crops = Sequence[NDArray[np.uint8]]

Image = NDArray[np.float32]


@dataclass(frozen=True)
class SceneParams:
    """Shape and mix of generated scenes.

    Attributes:
        width: output image width (px).
        height: output image height (px); ``0`` picks 4:3 or 16:9 at random per image.
        p_inside: share of scenes seen from inside a car.
        p_negative: share of landing scenes with distractors only (no elevator).
        jpeg_quality: (min, max) JPEG quality of the written images.
        p_close: share of landing scenes framed on one elevator door from close by, the door
            0.55-1.05 frame widths wide: what a robot waiting in front of it sees (a door seen
            only from afar is not found when it fills the frame).
    """

    width: int = 320
    height: int = 0
    p_inside: float = 0.22
    p_negative: float = 0.18
    jpeg_quality: tuple[int, int] = (35, 95)
    p_close: float = 0.0

    def __post_init__(self) -> None:
        if self.width < 64 or (self.height and self.height < 64):
            raise ConfigError(f'scene size {self.width}x{self.height} too small (min 64)')
        for name in ('p_inside', 'p_negative', 'p_close'):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f'{name} must lie in [0, 1]')
        lo, hi = self.jpeg_quality
        if not 5 <= lo <= hi <= 100:
            raise ConfigError(
                f'jpeg_quality {self.jpeg_quality} must satisfy 5 <= lo <= hi <= 100'
            )


@dataclass(frozen=True)
class Scene:
    """One generated image with its labels.

    Attributes:
        image: BGR uint8 image.
        boxes: (n, 4) float boxes ``x1, y1, x2, y2`` in pixels.
        classes: (n,) class ids into :data:`CLASSES`.
    """

    image: NDArray[np.uint8]
    boxes: NDArray[np.float64]
    classes: NDArray[np.int64]

    def yolo_lines(self) -> list[str]:
        """Labels in YOLO text format: ``class xc yc w h`` normalised to the image size."""
        h, w = self.image.shape[:2]
        lines = []
        for (x1, y1, x2, y2), c in zip(self.boxes, self.classes, strict=True):
            xc, yc = (x1 + x2) / 2 / w, (y1 + y2) / 2 / h
            lines.append(f'{int(c)} {xc:.6f} {yc:.6f} {(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}')
        return lines


# ---------------------------------------------------------------------------------------------
# Materials


def _color(rng: np.random.Generator, lo: int = 0, hi: int = 255) -> NDArray[np.float32]:
    """A random BGR colour, usually muted: real buildings are mostly white, beige and grey."""
    grey = rng.uniform(lo, hi)
    sat = rng.uniform(0.0, 1.0) ** 2
    return (grey + sat * (rng.uniform(lo, hi, 3) - grey)).astype(np.float32)


def _smooth_noise(rng: np.random.Generator, h: int, w: int, scale: float) -> NDArray[np.float32]:
    """Low-frequency noise in [-1, 1] (stains, marble, uneven paint)."""
    sh, sw = max(2, int(h / scale)), max(2, int(w / scale))
    small = rng.uniform(-1, 1, (sh, sw)).astype(np.float32)
    return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), np.float32)


def _material(rng: np.random.Generator, kind: str, h: int, w: int) -> Image:
    """A (h, w, 3) float BGR texture of a named material."""
    h, w = max(h, 1), max(w, 1)
    if kind == 'steel':
        grey = rng.uniform(110, 215)
        raw_streak = rng.normal(0, rng.uniform(4, 14), (1, w)).astype(np.float32)
        streak = np.asarray(cv2.GaussianBlur(raw_streak, (0, 0), 0.8), np.float32)
        tex = np.repeat(streak, h, axis=0) + rng.normal(0, 3, (h, w)).astype(np.float32)
        band = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
        tex += rng.uniform(-40, 40) * np.exp(-((band - rng.uniform(-1, 1)) ** 2) / 0.1)
        tint = np.array([1.0, 1.0, 1.0]) + rng.normal(0, 0.04, 3)
        img = (grey + tex)[..., None] * tint[None, None, :].astype(np.float32)
    elif kind == 'wood':
        base = np.array([rng.uniform(20, 90), rng.uniform(60, 130), rng.uniform(100, 190)])
        x = np.arange(w, dtype=np.float32)[None, :] + 8 * _smooth_noise(rng, h, w, 40)
        grain = np.sin(x * rng.uniform(0.15, 0.6) + _smooth_noise(rng, h, w, 60) * 3)
        img = base[None, None, :].astype(np.float32) * (1 + 0.12 * grain[..., None])
    elif kind == 'glass':
        base = np.array([rng.uniform(60, 140), rng.uniform(70, 140), rng.uniform(40, 110)])
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        refl = np.sin((xx + yy * rng.uniform(0.3, 1.2)) / max(w, 1) * rng.uniform(3, 9))
        img = base[None, None, :].astype(np.float32) + 35 * refl[..., None]
    elif kind == 'marble':
        base = _color(rng, 120, 240)
        n = _smooth_noise(rng, h, w, rng.uniform(8, 30))
        img = base[None, None, :] * (1 + 0.15 * n[..., None])
    elif kind == 'tiles':
        base = _color(rng, 80, 230)
        img = np.broadcast_to(base, (h, w, 3)).astype(np.float32).copy()
        step = int(rng.uniform(8, 30))
        img[::step, :] *= 0.7
        img[:, ::step] *= 0.7
    else:
        base = _color(rng, 30, 245)
        img = base[None, None, :] * (1 + 0.05 * _smooth_noise(rng, h, w, 25)[..., None])
        img = np.broadcast_to(img, (h, w, 3)).astype(np.float32)
    img = img + rng.normal(0, 2, (h, w, 1)).astype(np.float32)
    return np.array(np.broadcast_to(img, (h, w, 3)), dtype=np.float32)


def _paste(canvas: Image, x1: float, y1: float, tex: Image) -> None:
    """Paste ``tex`` with its top-left at (x1, y1), clipped to the canvas."""
    h, w = tex.shape[:2]
    x1, y1 = round(x1), round(y1)
    cx1, cy1 = max(x1, 0), max(y1, 0)
    cx2, cy2 = min(x1 + w, canvas.shape[1]), min(y1 + h, canvas.shape[0])
    if cx2 <= cx1 or cy2 <= cy1:
        return
    canvas[cy1:cy2, cx1:cx2] = tex[cy1 - y1 : cy2 - y1, cx1 - x1 : cx2 - x1]


def _rect(canvas: Image, x1: float, y1: float, x2: float, y2: float, color: NDArray) -> None:
    cv2.rectangle(canvas, (round(x1), round(y1)), (round(x2), round(y2)), color.tolist(), -1)


def _crop_patch(rng: np.random.Generator, crops: Crops, w: float, h: float) -> Image:
    """One of ``crops`` (chosen by ``rng``) resized to ``w`` x ``h`` as a float image."""
    crop = crops[int(rng.integers(len(crops)))]
    size = (max(round(w), 2), max(round(h), 2))
    return np.asarray(cv2.resize(crop, size, interpolation=cv2.INTER_AREA), np.float32)


def _paste_crop(
    rng: np.random.Generator, canvas: Image, crops: Crops, cx: float, cy: float, height: float
) -> tuple[float, float, float, float]:
    """Paste a real panel crop ``height`` tall centred at (cx, cy), its aspect kept; its box."""
    crop = crops[int(rng.integers(len(crops)))]
    aspect = crop.shape[1] / max(crop.shape[0], 1)
    ph = height
    pw = ph * float(np.clip(aspect, 0.25, 1.5))
    patch = _crop_patch(rng, [crop], pw, ph)
    x1, y1 = cx - patch.shape[1] / 2, cy - patch.shape[0] / 2
    _paste(canvas, x1, y1, patch)
    return x1, y1, x1 + patch.shape[1], y1 + patch.shape[0]


# ---------------------------------------------------------------------------------------------
# Elevator parts


def _buttons(
    rng: np.random.Generator, canvas: Image, x1: float, y1: float, x2: float, y2: float, n: int
) -> None:
    """Round or square push buttons laid out in one or two columns inside a box."""
    cols = 1 if n <= 3 or (x2 - x1) < 0.45 * (y2 - y1) / max(n / 2, 1) else 2
    rows = int(np.ceil(n / cols))
    cw, rh = (x2 - x1) / cols, (y2 - y1) / rows
    r = max(1, int(min(cw, rh) * rng.uniform(0.22, 0.38)))
    ring = _color(rng, 120, 240)
    face = _color(rng, 20, 230)
    lit = np.array([rng.uniform(0, 120), rng.uniform(120, 255), 255.0])
    square = rng.random() < 0.3
    for i in range(n):
        cx = round(x1 + cw * (i % cols + 0.5))
        cy = round(y1 + rh * (i // cols + 0.5))
        col = lit if rng.random() < 0.15 else face
        if square:
            cv2.rectangle(canvas, (cx - r, cy - r), (cx + r, cy + r), ring.tolist(), -1)
            cv2.rectangle(
                canvas, (cx - r + 1, cy - r + 1), (cx + r - 1, cy + r - 1), col.tolist(), -1
            )
        else:
            cv2.circle(canvas, (cx, cy), r, ring.tolist(), -1, cv2.LINE_AA)
            cv2.circle(canvas, (cx, cy), max(1, r - max(1, r // 4)), col.tolist(), -1, cv2.LINE_AA)


def _hall_panel(
    rng: np.random.Generator, canvas: Image, cx: float, cy: float, s: float
) -> tuple[float, float, float, float]:
    """Hall call panel (up/down buttons on a plate) centred at (cx, cy); returns its box."""
    pw, ph = s * rng.uniform(0.10, 0.18), s * rng.uniform(0.18, 0.40)
    x1, y1 = cx - pw / 2, cy - ph / 2
    plate = _material(rng, str(rng.choice(['steel', 'paint', 'glass'])), int(ph), int(pw))
    _paste(canvas, x1, y1, plate)
    cv2.rectangle(
        canvas, (round(x1), round(y1)), (round(x1 + pw), round(y1 + ph)), (40, 40, 40), 1
    )
    n = int(rng.choice([1, 2, 2, 2]))
    my, mx = ph * 0.2, pw * 0.2
    if rng.random() < 0.5:
        _buttons(rng, canvas, x1 + mx, y1 + my, x1 + pw - mx, y1 + ph - my, n)
    else:
        color = (_color(rng, 0, 120) if rng.random() < 0.5 else _color(rng, 150, 255)).tolist()
        for k in range(n):
            ty = y1 + ph * (0.32 + 0.36 * k if n == 2 else 0.5)
            up = k == 0
            tri = np.array(
                [
                    [cx, ty + (-1 if up else 1) * ph * 0.12],
                    [cx - pw * 0.25, ty + (1 if up else -1) * ph * 0.1],
                    [cx + pw * 0.25, ty + (1 if up else -1) * ph * 0.1],
                ],
                np.int32,
            )
            cv2.fillPoly(canvas, [tri], color, cv2.LINE_AA)
    return x1, y1, x1 + pw, y1 + ph


def _car_panel(
    rng: np.random.Generator, canvas: Image, x1: float, y1: float, w: float, h: float
) -> tuple[float, float, float, float]:
    """Car operating panel: a tall plate with a display and a grid of floor buttons."""
    plate = _material(rng, str(rng.choice(['steel', 'paint', 'glass', 'marble'])), int(h), int(w))
    _paste(canvas, x1, y1, plate)
    cv2.rectangle(canvas, (round(x1), round(y1)), (round(x1 + w), round(y1 + h)), (50, 50, 50), 1)
    if rng.random() < 0.7:
        _rect(
            canvas, x1 + w * 0.15, y1 + h * 0.04, x1 + w * 0.85, y1 + h * 0.14, _color(rng, 0, 40)
        )
    n = int(rng.integers(4, 17))
    _buttons(rng, canvas, x1 + w * 0.12, y1 + h * 0.18, x1 + w * 0.88, y1 + h * 0.92, n)
    return x1, y1, x1 + w, y1 + h


def _indicator(rng: np.random.Generator, canvas: Image, cx: float, y2: float, s: float) -> None:
    """Floor indicator above a door: a dark display with a digit and/or an arrow."""
    w, h = s * rng.uniform(0.15, 0.45), s * rng.uniform(0.06, 0.12)
    patch = np.zeros((max(int(h), 4), max(int(w), 4), 3), np.uint8)
    patch[:] = _color(rng, 0, 50).astype(np.uint8)
    color = rng.choice([[0, 0, 255], [0, 160, 255], [40, 255, 40], [255, 255, 255]])
    text = str(rng.choice(['1', '2', '3', 'G', 'B1', '12', '5', '-1', 'L']))
    scale = patch.shape[0] / 30.0
    cv2.putText(
        patch,
        text,
        (round(patch.shape[1] * 0.3), round(patch.shape[0] * 0.8)),
        cv2.FONT_HERSHEY_SIMPLEX,
        max(scale, 0.2),
        [int(c) for c in color],
        max(1, round(scale * 2)),
        cv2.LINE_AA,
    )
    _paste(canvas, cx - w / 2, y2 - h, patch.astype(np.float32))


def _car_interior(rng: np.random.Generator, h: int, w: int, with_panel: bool) -> Image:
    """The inside of a car seen through its doorway or from within: walls, rail, light, floor."""
    h, w = max(h, 4), max(w, 4)
    wall = str(rng.choice(['steel', 'steel', 'wood', 'paint', 'marble', 'glass']))
    img = _material(rng, wall, h, w)
    n_seams = int(rng.integers(0, 5))
    for k in range(1, n_seams + 1):
        x = round(w * k / (n_seams + 1))
        cv2.line(img, (x, 0), (x, h), (img[h // 2, x] * 0.6).tolist(), 1)
    floor_y = round(h * rng.uniform(0.78, 0.92))
    img[floor_y:] = _material(rng, str(rng.choice(['tiles', 'marble', 'paint'])), h - floor_y, w)
    if rng.random() < 0.75:
        ry = round(h * rng.uniform(0.45, 0.6))
        t = max(2, round(h * 0.02))
        rail = _color(rng, 150, 250)
        cv2.rectangle(img, (round(w * 0.05), ry), (round(w * 0.95), ry + t), rail.tolist(), -1)
    img[: max(1, round(h * 0.06))] = _color(rng, 200, 255)
    if rng.random() < 0.3:
        mirror = np.flip(img, 1) * 0.7 + 40
        y1, y2 = round(h * 0.1), round(h * 0.7)
        img[y1:y2, round(w * 0.3) : round(w * 0.7)] = mirror[
            y1:y2, round(w * 0.3) : round(w * 0.7)
        ]
    if with_panel:
        pw = w * rng.uniform(0.08, 0.16)
        _car_panel(rng, img, w * rng.uniform(0.02, 0.8), h * 0.3, pw, h * rng.uniform(0.25, 0.4))
    img *= rng.uniform(0.6, 1.2)
    return img


def draw_elevator(
    rng: np.random.Generator,
    canvas: Image,
    x0: float,
    floor_y: float,
    dw: float,
    labels: list,
    *,
    openness: float | None = None,
    hall_crops: Crops = (),
) -> tuple[float, float]:
    """Draw a landing elevator (frame, car behind, doors, indicator, hall panel) onto ``canvas``.

    Args:
        rng: draws every choice of looks; the same generator state gives the same elevator.
        canvas: float BGR image drawn on in place.
        x0: left edge of the door opening (px).
        floor_y: floor line (px); the door is ``dw * U(1.7, 2.4)`` tall above it.
        dw: width of the door opening (px).
        labels: ``(class_id, (x1, y1, x2, y2))`` of the door (first) and the panel are appended.
        openness: door open fraction in [0, 1]; None picks one at random. The random stream
            is the same either way, so an elevator keeps its looks while its doors move.
        hall_crops: real hall call panel photos to paste instead of a drawn hall panel.

    Returns:
        The x extent ``(left, right)`` of everything drawn.
    """
    dh = dw * rng.uniform(1.7, 2.4)
    y0 = floor_y - dh
    ft = dw * rng.uniform(0.05, 0.18)
    frame_kind = str(rng.choice(['steel', 'steel', 'marble', 'paint', 'wood']))
    frame = _material(rng, frame_kind, int(dh + ft), int(dw + 2 * ft))
    _paste(canvas, x0 - ft, y0 - ft, frame)
    if rng.random() < 0.5:
        header = _material(rng, frame_kind, int(ft * 2), int(dw + 2 * ft))
        _paste(canvas, x0 - ft, y0 - ft * 3, header * 0.9)
    inside = _car_interior(rng, int(dh), int(dw), with_panel=rng.random() < 0.4)
    _paste(canvas, x0, y0, inside)
    state = rng.choice(['closed', 'closed', 'partly', 'open', 'open'])
    openness_drawn = {'closed': 0.0, 'partly': rng.uniform(0.25, 0.75), 'open': 1.0}[str(state)]
    openness = openness_drawn if openness is None else float(np.clip(openness, 0.0, 1.0))
    door_kind = str(rng.choice(['steel', 'steel', 'steel', 'paint', 'glass', 'wood']))
    centre = rng.random() < 0.65
    tex = _material(rng, door_kind, int(dh), int(dw))
    if door_kind == 'glass':
        tex = 0.5 * tex + 0.5 * inside[: tex.shape[0], : tex.shape[1]]
    seam = (float(tex.mean()) * 0.45,) * 3
    if centre:
        half = dw / 2 * (1 - openness)
        if half >= 1:
            _paste(canvas, x0, y0, tex[:, : round(half)])
            _paste(canvas, x0 + dw - half, y0, tex[:, round(dw - half) :])
            for xs in (x0 + half, x0 + dw - half):
                cv2.line(canvas, (round(xs), round(y0)), (round(xs), round(floor_y)), seam, 1)
    else:
        cover = dw * (1 - openness)
        if cover >= 1:
            one = round(cover * 0.5)
            _paste(canvas, x0, y0, tex[:, : round(cover)])
            cv2.line(
                canvas, (round(x0 + one), round(y0)), (round(x0 + one), round(floor_y)), seam, 1
            )
            cv2.line(
                canvas,
                (round(x0 + cover), round(y0)),
                (round(x0 + cover), round(floor_y)),
                seam,
                1,
            )
    sill = max(2, round(dw * 0.03))
    _rect(canvas, x0 - ft, floor_y - sill, x0 + dw + ft, floor_y, _color(rng, 90, 200))
    cls = DOOR_CLOSED if openness == 0.0 else DOOR_OPEN
    labels.append((cls, (x0, y0, x0 + dw, floor_y)))
    if rng.random() < 0.7:
        _indicator(rng, canvas, x0 + dw / 2, y0 - ft * (3.2 if ft * 3.5 < dh * 0.2 else 1.1), dw)
    left = x0 - ft
    right = x0 + dw + ft
    if rng.random() < 0.8:
        side = 1 if rng.random() < 0.7 else -1
        px = (
            right + dw * rng.uniform(0.12, 0.3) if side > 0 else left - dw * rng.uniform(0.12, 0.3)
        )
        cy = floor_y - dh * rng.uniform(0.45, 0.6)
        if hall_crops:
            box = _paste_crop(rng, canvas, hall_crops, px, cy, dw * rng.uniform(0.15, 0.4))
        else:
            box = _hall_panel(rng, canvas, px, cy, dw)
        labels.append((HALL_PANEL, box))
        left, right = min(left, box[0]), max(right, box[2])
    return left, right


# ---------------------------------------------------------------------------------------------
# Distractors


def _handle(
    rng: np.random.Generator, canvas: Image, x: float, y: float, s: float, vert: bool
) -> None:
    color = _color(rng, 20, 230).tolist()
    length, t = s * rng.uniform(0.15, 0.35), max(2, round(s * 0.03))
    if vert:
        cv2.rectangle(
            canvas,
            (round(x), round(y - length / 2)),
            (round(x + t), round(y + length / 2)),
            color,
            -1,
        )
    else:
        cv2.rectangle(
            canvas,
            (round(x - length / 2), round(y)),
            (round(x + length / 2), round(y + t)),
            color,
            -1,
        )
        cv2.circle(canvas, (round(x), round(y + t / 2)), t, color, -1)


def _distractor(
    rng: np.random.Generator, canvas: Image, x0: float, floor_y: float, s: float
) -> tuple[float, float]:
    """One non-elevator object standing on the floor with its left edge at ``x0``."""
    kind = str(
        rng.choice(['door', 'door', 'double_door', 'cabinet', 'fridge', 'window', 'poster'])
    )
    if kind in ('door', 'double_door'):
        w = s * (rng.uniform(0.8, 1.1) if kind == 'door' else rng.uniform(1.4, 2.0))
        h = s * rng.uniform(1.9, 2.3)
        ft = s * rng.uniform(0.03, 0.1)
        _paste(
            canvas,
            x0 - ft,
            floor_y - h - ft,
            _material(rng, 'paint', int(h + ft), int(w + 2 * ft)),
        )
        mat = str(rng.choice(['wood', 'paint', 'paint', 'steel', 'glass']))
        tex = _material(rng, mat, int(h), int(w))
        _paste(canvas, x0, floor_y - h, tex)
        if kind == 'double_door':
            cv2.line(
                canvas,
                (round(x0 + w / 2), round(floor_y - h)),
                (round(x0 + w / 2), round(floor_y)),
                (30, 30, 30),
                1,
            )
            for hx in (x0 + w / 2 - s * 0.12, x0 + w / 2 + s * 0.08):
                _handle(rng, canvas, hx, floor_y - h * 0.47, s, vert=rng.random() < 0.5)
        else:
            hx = x0 + w * (0.85 if rng.random() < 0.5 else 0.1)
            _handle(rng, canvas, hx, floor_y - h * 0.47, s, vert=rng.random() < 0.3)
        if rng.random() < 0.3:
            _rect(
                canvas,
                x0 + w * 0.25,
                floor_y - h * 0.9,
                x0 + w * 0.75,
                floor_y - h * 0.6,
                _color(rng, 120, 230),
            )
        if rng.random() < 0.25:
            sign = _color(rng, 0, 255)
            _rect(
                canvas,
                x0 + w * 0.3,
                floor_y - h - ft * 3,
                x0 + w * 0.7,
                floor_y - h - ft * 1.5,
                sign,
            )
        return x0 - ft, x0 + w + ft
    if kind == 'cabinet':
        w, h = s * rng.uniform(0.8, 2.0), s * rng.uniform(0.8, 2.1)
        mat = str(rng.choice(['wood', 'paint', 'steel']))
        _paste(canvas, x0, floor_y - h, _material(rng, mat, int(h), int(w)))
        n = int(rng.integers(2, 5))
        for k in range(1, n):
            xs = round(x0 + w * k / n)
            cv2.line(canvas, (xs, round(floor_y - h)), (xs, round(floor_y)), (25, 25, 25), 1)
        for k in range(n):
            _handle(rng, canvas, x0 + w * (k + 0.5) / n, floor_y - h * 0.6, s * 0.6, vert=True)
        return x0, x0 + w
    if kind == 'fridge':
        w, h = s * rng.uniform(0.6, 1.0), s * rng.uniform(1.6, 2.0)
        mat = 'steel' if rng.random() < 0.5 else 'paint'
        tex = _material(rng, mat, int(h), int(w))
        if mat == 'paint':
            tex = tex * 0.2 + 200
        _paste(canvas, x0, floor_y - h, tex)
        split = floor_y - h * rng.uniform(0.55, 0.7)
        cv2.line(canvas, (round(x0), round(split)), (round(x0 + w), round(split)), (40, 40, 40), 1)
        _handle(rng, canvas, x0 + w * 0.85, split - h * 0.15, s, vert=True)
        _handle(rng, canvas, x0 + w * 0.85, split + h * 0.15, s, vert=True)
        return x0, x0 + w
    if kind == 'window':
        w, h = s * rng.uniform(0.8, 2.0), s * rng.uniform(0.8, 1.6)
        y1 = floor_y - h - s * rng.uniform(0.6, 1.0)
        sky = np.linspace(0, 1, max(int(h), 1), dtype=np.float32)[:, None, None]
        top, bottom = _color(rng, 150, 255), _color(rng, 80, 230)
        tex = np.broadcast_to(top * (1 - sky) + bottom * sky, (int(h), int(w), 3)).astype(
            np.float32
        )
        _paste(canvas, x0, y1, tex)
        color = _color(rng, 150, 255).tolist()
        t = max(2, round(s * 0.04))
        nx, ny = int(rng.integers(1, 4)), int(rng.integers(1, 3))
        for k in range(nx + 1):
            xs = round(x0 + w * k / nx)
            cv2.line(canvas, (xs, round(y1)), (xs, round(y1 + h)), color, t)
        for k in range(ny + 1):
            ys = round(y1 + h * k / ny)
            cv2.line(canvas, (round(x0), ys), (round(x0 + w), ys), color, t)
        return x0, x0 + w
    w, h = s * rng.uniform(0.4, 1.0), s * rng.uniform(0.5, 1.0)
    y1 = floor_y - h - s * rng.uniform(0.7, 1.2)
    _paste(canvas, x0, y1, _material(rng, 'paint', int(h), int(w)))
    for _ in range(int(rng.integers(1, 5))):
        c = (rng.uniform(x0, x0 + w), rng.uniform(y1, y1 + h))
        cv2.circle(
            canvas,
            (round(c[0]), round(c[1])),
            int(s * rng.uniform(0.05, 0.2)),
            _color(rng).tolist(),
            -1,
        )
    return x0, x0 + w


# ---------------------------------------------------------------------------------------------
# Backgrounds and scenes


def _background(rng: np.random.Generator, h: int, w: int) -> tuple[Image, float]:
    """A wall with a floor strip; returns the image and the floor line (y)."""
    floor_y = h * rng.uniform(0.72, 0.95)
    wall = _material(rng, str(rng.choice(['paint', 'paint', 'marble', 'tiles', 'wood'])), h, w)
    floor = _material(rng, str(rng.choice(['tiles', 'marble', 'paint', 'wood'])), h, w)
    img = wall.copy()
    img[round(floor_y) :] = floor[round(floor_y) :]
    if rng.random() < 0.5:
        cv2.line(
            img,
            (0, round(floor_y)),
            (w, round(floor_y)),
            _color(rng, 0, 120).tolist(),
            max(1, h // 80),
        )
    if rng.random() < 0.3:
        ceil = round(h * rng.uniform(0.0, 0.12))
        img[:ceil] = _color(rng, 180, 255)
    return img, floor_y


def _corridor(rng: np.random.Generator, img: Image) -> None:
    """Overlay a corridor vanishing into the wall (a common non-elevator view)."""
    h, w = img.shape[:2]
    vx, vy = w * rng.uniform(0.2, 0.8), h * rng.uniform(0.3, 0.55)
    rw, rh = w * rng.uniform(0.1, 0.3), h * rng.uniform(0.15, 0.35)
    inner = np.array(
        [[vx - rw, vy - rh], [vx + rw, vy - rh], [vx + rw, vy + rh], [vx - rw, vy + rh]]
    )
    outer = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    colors = [
        _color(rng, 150, 255),
        _color(rng, 60, 220),
        _color(rng, 40, 200),
        _color(rng, 60, 220),
    ]
    for k in range(4):
        quad = np.array([outer[k], outer[(k + 1) % 4], inner[(k + 1) % 4], inner[k]], np.int32)
        cv2.fillPoly(img, [quad], colors[k].tolist())
    cv2.fillPoly(img, [inner.astype(np.int32)], _color(rng, 20, 200).tolist())
    for k in range(int(rng.integers(0, 4))):
        f = (k + 1) / 5
        ly = round(vy - rh - (vy - rh) * (1 - f))
        cv2.line(
            img,
            (round(vx - rw * (1 + 3 * (1 - f))), ly),
            (round(vx + rw * (1 + 3 * (1 - f))), ly),
            (250, 250, 250),
            2,
        )


def _landing(
    rng: np.random.Generator,
    h: int,
    w: int,
    negative: bool,
    background: NDArray[np.uint8] | None = None,
    hall_crops: Crops = (),
) -> tuple[Image, list]:
    """Frontal view of a wall with 0-3 elevators and distractors, before the camera warp.

    With ``background`` (a real photo) the wall is that photo, stretched to the canvas.
    """
    if background is None:
        img, floor_y = _background(rng, h, w)
    else:
        img = np.asarray(cv2.resize(background, (w, h)), np.float32)
        floor_y = h * rng.uniform(0.72, 0.95)
    labels: list = []
    if background is None and rng.random() < 0.25:
        _corridor(rng, img)
    s = w * rng.uniform(0.12, 0.35)
    x = -s * rng.uniform(0, 0.6)
    n_elev = 0 if negative else int(rng.choice([1, 1, 1, 2, 2, 3]))
    slots = ['e'] * n_elev + ['d'] * int(
        rng.integers(0, 3) if not negative else rng.integers(1, 4)
    )
    rng.shuffle(slots)
    for slot in slots:
        x += s * rng.uniform(0.25, 0.8)
        if slot == 'e':
            _, x = draw_elevator(rng, img, x + s * 0.2, floor_y, s, labels, hall_crops=hall_crops)
        else:
            _, x = _distractor(rng, img, x, floor_y, s)
        if x > w * 1.05:
            break
    return img, labels


def draw_car_inside(
    rng: np.random.Generator, h: int, w: int, car_crops: Crops = ()
) -> tuple[Image, list]:
    """A car seen from within: back wall or the doors, side walls in perspective, panel.

    ``car_crops`` are real car operating panel photos put on the wall instead of drawn panels.

    Returns the (h, w) float BGR image, frontal (before any camera warp), and its labels
    ``(class_id, (x1, y1, x2, y2))``, the interior box covering the whole image.
    """
    labels: list = []
    img = _car_interior(rng, h, w, with_panel=False)
    mx, my = w * rng.uniform(0.12, 0.3), h * rng.uniform(0.08, 0.2)
    inner = np.array([[mx, my], [w - mx, my], [w - mx, h - my], [mx, h - my]])
    side_kind = str(rng.choice(['steel', 'wood', 'paint', 'marble']))
    side = _material(rng, side_kind, h, w)
    mask = np.zeros((h, w), np.uint8)
    left = np.array([[0, 0], inner[0], inner[3], [0, h]], np.int32)
    right = np.array([[w, 0], inner[1], inner[2], [w, h]], np.int32)
    cv2.fillPoly(mask, [left, right], 255)
    shade = rng.uniform(0.7, 1.0)
    img[mask > 0] = side[mask > 0] * shade
    ceiling = np.array([[0, 0], [w, 0], inner[1], inner[0]], np.int32)
    cv2.fillPoly(img, [ceiling], _color(rng, 170, 255).tolist())
    floor = np.array([[0, h], [w, h], inner[2], inner[3]], np.int32)
    cv2.fillPoly(img, [floor], _color(rng, 30, 160).tolist())
    facing_doors = rng.random() < 0.4
    ix1, iy1, ix2, iy2 = inner[0][0], inner[0][1], inner[2][0], inner[2][1]
    if facing_doors:
        dw = (ix2 - ix1) * rng.uniform(0.55, 0.8)
        dx = ix1 + (ix2 - ix1 - dw) / 2
        dy = iy1 + (iy2 - iy1) * 0.08
        open_ = rng.random() < 0.4
        tex = _material(rng, 'steel', int(iy2 - dy), int(dw))
        if open_:
            hall, _ = _background(rng, int(iy2 - dy), int(dw))
            tex = hall
        _paste(img, dx, dy, tex)
        if not open_:
            cv2.line(
                img,
                (round(dx + dw / 2), round(dy)),
                (round(dx + dw / 2), round(iy2)),
                (50, 50, 50),
                1,
            )
        labels.append((DOOR_OPEN if open_ else DOOR_CLOSED, (dx, dy, dx + dw, iy2)))
        px = ix1 + (dx - ix1) * 0.15
        py, pw, ph = iy1 + (iy2 - iy1) * 0.3, (dx - ix1) * 0.7, (iy2 - iy1) * 0.35
        if car_crops:
            patch = _crop_patch(rng, car_crops, pw, ph)
            _paste(img, px, py, patch)
            box = (px, py, px + patch.shape[1], py + patch.shape[0])
        else:
            box = _car_panel(rng, img, px, py, pw, ph)
        labels.append((CAR_PANEL, box))
    elif rng.random() < 0.7:
        # Operating panel on a side wall: drawn frontal, then squeezed into the wall's perspective.
        on_left = rng.random() < 0.5
        pw, ph = w * rng.uniform(0.1, 0.16), h * rng.uniform(0.3, 0.45)
        if car_crops:
            patch = _crop_patch(rng, car_crops, int(pw), int(ph))
        else:
            patch = np.zeros((int(ph), int(pw), 3), np.float32)
            _car_panel(rng, patch, 0, 0, pw - 1, ph - 1)
        f0, f1 = sorted(rng.uniform(0.15, 0.85, 2))
        f1 = max(f1, f0 + 0.12)

        def wall_pt(f: float, v: float) -> list[float]:
            top = (1 - f) * np.array([0.0, 0.0]) + f * inner[0]
            bot = (1 - f) * np.array([0.0, h]) + f * inner[3]
            p = top + v * (bot - top)
            return [w - p[0], p[1]] if not on_left else [p[0], p[1]]

        v0, v1 = rng.uniform(0.3, 0.4), rng.uniform(0.55, 0.7)
        dst = np.array(
            [wall_pt(f0, v0), wall_pt(f1, v0), wall_pt(f1, v1), wall_pt(f0, v1)], np.float32
        )
        src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
        m = cv2.getPerspectiveTransform(src, dst)
        warped = cv2.warpPerspective(patch, m, (w, h))
        pmask = cv2.warpPerspective(np.ones(patch.shape[:2], np.float32), m, (w, h)) > 0.5
        img[pmask] = warped[pmask]
        labels.append((CAR_PANEL, (*dst.min(0), *dst.max(0))))
    labels.append((INTERIOR, (0.0, 0.0, float(w), float(h))))
    return img, labels


# ---------------------------------------------------------------------------------------------
# Camera and image degradations


def _camera(
    rng: np.random.Generator,
    w: int,
    h: int,
    out_w: int,
    out_h: int,
    inside: bool,
    focus: NDArray | None = None,
) -> NDArray:
    """A homography from the frontal canvas to the output: camera yaw/pitch/roll, zoom, shift.

    With ``focus`` (a canvas box ``x1, y1, x2, y2``) the view is framed on it from close by.
    """
    f = w * rng.uniform(0.75, 1.4)
    k = np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1]])
    lim = 12 if inside else 32
    yaw, pitch, roll = np.radians(
        [rng.uniform(-lim, lim), rng.uniform(-10, 10), rng.uniform(-4, 4)]
    )
    ry = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    rx = np.array(
        [[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]]
    )
    rz = np.array([[np.cos(roll), -np.sin(roll), 0], [np.sin(roll), np.cos(roll), 0], [0, 0, 1]])
    hom = k @ (rz @ rx @ ry) @ np.linalg.inv(k)
    corners = cv2.perspectiveTransform(
        np.array([[[0, 0], [w, 0], [w, h], [0, h]]], np.float64), hom
    )[0]
    # Inner rectangle of the warped canvas: crop inside it so no border shows.
    x1 = max(corners[0, 0], corners[3, 0])
    x2 = min(corners[1, 0], corners[2, 0])
    y1 = max(corners[0, 1], corners[1, 1])
    y2 = min(corners[2, 1], corners[3, 1])
    cw, ch = max(x2 - x1, 8.0), max(y2 - y1, 8.0)
    zoom = 1.0 if inside else rng.uniform(1.0, 1.7)
    scale = max(out_w / cw, out_h / ch) * zoom * (rng.uniform(1.0, 1.15) if inside else 1.0)
    vis_w, vis_h = out_w / scale, out_h / scale
    ox = x1 + rng.uniform(0, max(cw - vis_w, 0))
    oy = y1 + rng.uniform(0, max(ch - vis_h, 0))
    if focus is not None:
        (bx1, by1), (bx2, by2) = _warp_boxes(focus[None], hom).reshape(2, 2)
        bw = max(bx2 - bx1, 1.0)
        scale = out_w * rng.uniform(0.55, 1.05) / bw
        cx = (bx1 + bx2) / 2 + bw * rng.uniform(-0.1, 0.1)
        cy = by1 + (by2 - by1) * rng.uniform(0.3, 0.6)
        ox, oy = cx - out_w / (2 * scale), cy - out_h / (2 * scale)
    crop = np.array([[scale, 0, -ox * scale], [0, scale, -oy * scale], [0, 0, 1]])
    return crop @ hom


def _warp_boxes(boxes: NDArray, hom: NDArray) -> NDArray:
    """Boxes of planar rectangles after a homography (the bounding box of the warped corners)."""
    if len(boxes) == 0:
        return boxes.reshape(0, 4)
    x1, y1, x2, y2 = boxes.T
    pts = np.stack(
        [
            np.stack([x1, y1], 1),
            np.stack([x2, y1], 1),
            np.stack([x2, y2], 1),
            np.stack([x1, y2], 1),
        ],
        1,
    )
    warped = cv2.perspectiveTransform(pts.reshape(1, -1, 2).astype(np.float64), hom).reshape(
        -1, 4, 2
    )
    return np.concatenate([warped.min(1), warped.max(1)], 1)


def _lighting(rng: np.random.Generator, img: Image) -> Image:
    h, w = img.shape[:2]
    img = img * rng.uniform(0.45, 1.35) + rng.uniform(-30, 30)
    img = img * (1 + rng.normal(0, 0.08, 3)).astype(np.float32)[None, None, :]
    if rng.random() < 0.6:
        g = _smooth_noise(rng, h, w, max(h, w) / rng.uniform(1, 3))
        img = img * (1 + rng.uniform(0.1, 0.5) * g)[..., None]
    if rng.random() < 0.3:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.2, 0.8) * max(w, h)
        img = (
            img
            + rng.uniform(30, 90) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / r**2)[..., None]
        )
    img = np.clip(img, 0, 255)
    gamma = rng.uniform(0.6, 1.6)
    return (255.0 * (img / 255.0) ** gamma).astype(np.float32)


def _occluders(rng: np.random.Generator, img: Image, boxes: NDArray) -> NDArray[np.bool_]:
    """People and clutter in front of the scene; returns which labels stay visible enough."""
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.choice([0, 0, 0, 0, 1, 1, 2]))):
        color = _color(rng, 0, 230).tolist()
        cx, bw = rng.uniform(0, w), w * rng.uniform(0.06, 0.18)
        top = h * rng.uniform(0.2, 0.7)
        if rng.random() < 0.6:
            head = max(2, round(bw * 0.3))
            for m in (img, mask):
                val = color if m is img else 255
                cv2.circle(m, (round(cx), round(top - head)), head, val, -1, cv2.LINE_AA)
                cv2.rectangle(
                    m, (round(cx - bw / 2), round(top)), (round(cx + bw / 2), h), val, -1
                )
        else:
            y1 = h * rng.uniform(0.7, 0.92)
            for m in (img, mask):
                val = color if m is img else 255
                cv2.rectangle(m, (round(cx - bw), round(y1)), (round(cx + bw), h), val, -1)
    keep = np.ones(len(boxes), bool)
    if mask.any():
        for i, (x1, y1, x2, y2) in enumerate(boxes.astype(int)):
            region = mask[max(y1, 0) : max(y2, 0), max(x1, 0) : max(x2, 0)]
            keep[i] = region.size == 0 or region.mean() / 255 < 0.45
    return keep


def _degrade(rng: np.random.Generator, img: Image) -> Image:
    if rng.random() < 0.5:
        if rng.random() < 0.5:
            img = np.asarray(cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.6)), np.float32)
        else:
            n = int(rng.integers(3, 9))
            line = np.zeros((n, n), np.float32)
            line[n // 2] = 1.0 / n
            rot = cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), rng.uniform(0, 180), 1.0)
            kernel = np.asarray(cv2.warpAffine(line, rot, (n, n)), np.float32)
            img = np.asarray(cv2.filter2D(img, -1, kernel / max(kernel.sum(), 1e-6)), np.float32)
    sigma = rng.uniform(0, 12)
    img = img + rng.normal(0, sigma, img.shape).astype(np.float32)
    return img


def _finish(
    rng: np.random.Generator, img: Image, classes: NDArray[np.int64], boxes: NDArray
) -> Scene:
    """Light, occlude and degrade a warped image; keep the labels that stay visible enough."""
    out_h, out_w = img.shape[:2]
    img = _lighting(rng, img)
    keep = _occluders(rng, img, boxes)
    img = _degrade(rng, img)
    area = np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0, None), 1)
    clipped = boxes.copy()
    clipped[:, [0, 2]] = np.clip(clipped[:, [0, 2]], 0, out_w)
    clipped[:, [1, 3]] = np.clip(clipped[:, [1, 3]], 0, out_h)
    carea = np.prod(np.clip(clipped[:, 2:] - clipped[:, :2], 0, None), 1)
    visible = carea / np.maximum(area, 1e-9)
    is_panel = (classes == HALL_PANEL) | (classes == CAR_PANEL)
    min_vis = np.where(classes == INTERIOR, 0.0, np.where(is_panel, 0.6, 0.3))
    size_ok = np.minimum(clipped[:, 2] - clipped[:, 0], clipped[:, 3] - clipped[:, 1]) >= 4
    # A door seen from close by shows only part of itself, yet fills the view.
    fills = np.isin(classes, (DOOR_CLOSED, DOOR_OPEN)) & (carea >= 0.3 * out_w * out_h)
    keep &= ((visible >= min_vis) | fills) & size_ok
    image = np.clip(img, 0, 255).astype(np.uint8)
    return Scene(image=image, boxes=clipped[keep], classes=classes[keep])


def render_scene(
    seed: int,
    index: int = 0,
    params: SceneParams | None = None,
    *,
    background: NDArray[np.uint8] | None = None,
    hall_crops: Crops = (),
    car_crops: Crops = (),
) -> Scene:
    """Render image ``index`` of the data set ``seed`` with its labels (deterministic).

    Args:
        seed: data-set seed; different seeds give independent images.
        index: image number within the data set.
        params: scene mix and output size.
        background: a real photo (BGR uint8) used as the landing wall instead of a drawn one.
        hall_crops: real hall call panel photos pasted beside the doors instead of drawn ones.
        car_crops: real car operating panel photos put on the car walls instead of drawn ones.

    Returns:
        The image (BGR uint8, before JPEG compression) and its boxes in pixels.
    """
    p = params or SceneParams()
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(index)]))
    out_w = p.width
    out_h = p.height or (round(p.width * 3 / 4) if rng.random() < 0.7 else round(p.width * 9 / 16))
    w, h = round(out_w * 1.3), round(out_h * 1.3)
    inside = rng.random() < p.p_inside
    if inside:
        canvas, labels = draw_car_inside(rng, h, w, car_crops)
    else:
        negative = rng.random() < p.p_negative
        canvas, labels = _landing(rng, h, w, negative, background, hall_crops)
    doors = [b for c, b in labels if c in (DOOR_CLOSED, DOOR_OPEN)]
    focus = None
    if p.p_close > 0.0 and not inside and doors and rng.random() < p.p_close:
        focus = np.asarray(doors[int(rng.integers(len(doors)))], np.float64)
    hom = _camera(rng, w, h, out_w, out_h, inside, focus)
    img = np.asarray(
        cv2.warpPerspective(
            canvas, hom, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        ),
        np.float32,
    )
    classes = np.array([c for c, _ in labels], np.int64)
    raw = np.array([b for _, b in labels], np.float64).reshape(-1, 4)
    return _finish(rng, img, classes, _warp_boxes(raw, hom))


def _plane_homography(
    rng: np.random.Generator, pw: int, ph: int, out_w: int, out_h: int, max_yaw_deg: float
) -> NDArray:
    """Homography from a frontal (ph, pw) wall patch to the image, the wall turned off-axis.

    The wall turns up to ``max_yaw_deg`` about the vertical (a robot driving along a corridor
    sees doors nearly edge-on), tilts a little and lies at a random distance and place.
    """
    f = out_w * rng.uniform(0.55, 1.2)
    k = np.array([[f, 0, out_w / 2], [0, f, out_h / 2], [0, 0, 1]])
    yaw = np.radians(rng.uniform(-max_yaw_deg, max_yaw_deg))
    pitch, roll = np.radians([rng.uniform(-12, 12), rng.uniform(-4, 4)])
    ry = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    rx = np.array(
        [[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]]
    )
    rz = np.array([[np.cos(roll), -np.sin(roll), 0], [np.sin(roll), np.cos(roll), 0], [0, 0, 1]])
    rot = rz @ rx @ ry
    # Patch pixels to plane units: the patch is 1 unit wide, centred on the plane origin.
    unit = np.array([[1 / pw, 0, -0.5], [0, 1 / pw, -0.5 * ph / pw], [0, 0, 1]])
    # Distance: the patch would span 0.5-1.6 image widths if seen frontally; >= 0.8 keeps the
    # near edge in front of the camera at any yaw.
    z = max(f / (out_w * rng.uniform(0.5, 1.6)), 0.8)
    t = np.array([rng.uniform(-0.3, 0.3) * z, rng.uniform(-0.12, 0.12) * z, z])
    return np.asarray(k @ np.column_stack([rot[:, 0], rot[:, 1], t]) @ unit)


def render_on_photo(
    seed: int,
    index: int,
    background: NDArray[np.uint8],
    params: SceneParams | None = None,
    *,
    wall: NDArray[np.uint8] | None = None,
    hall_crops: Crops = (),
    max_yaw_deg: float = 80.0,
) -> Scene:
    """Synthetic landing elevator(s) on a wall turned up to ``max_yaw_deg``, in a real photo.

    A frontal wall patch (``wall``, a real photo, or a drawn wall) gets one or two elevators
    (with real hall panel crops where given); the parts drawn are cut out with a feathered
    mask, warped as a plane seen off-axis and laid over ``background``; the whole image then
    gets the light, blur, noise and occluders of :func:`render_scene`.
    """
    p = params or SceneParams()
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(index), 7]))
    out_w = p.width
    out_h = p.height or (round(p.width * 3 / 4) if rng.random() < 0.7 else round(p.width * 9 / 16))
    bh, bw = background.shape[:2]
    cw, ch = bw * rng.uniform(0.6, 1.0), bh * rng.uniform(0.6, 1.0)
    cx, cy = rng.uniform(0, bw - cw), rng.uniform(0, bh - ch)
    crop = background[int(cy) : int(cy + ch), int(cx) : int(cx + cw)]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    img = np.asarray(cv2.resize(crop, (out_w, out_h), interpolation=cv2.INTER_AREA), np.float32)
    pw, ph = round(out_w * 1.2), round(out_h * 1.2)
    if wall is not None:
        patch = np.asarray(cv2.resize(wall, (pw, ph)), np.float32)
    else:
        patch, _ = _background(rng, ph, pw)
    before = patch.copy()
    floor_y = ph * rng.uniform(0.85, 0.98)
    labels: list = []
    s = pw * rng.uniform(0.18, 0.32)
    x = pw * rng.uniform(0.02, 0.3)
    for _ in range(int(rng.choice([1, 1, 1, 2]))):
        _, right = draw_elevator(rng, patch, x, floor_y, s, labels, hall_crops=hall_crops)
        x = right + s * rng.uniform(0.3, 0.8)
        if x + s > pw:
            break
    drawn = (np.abs(patch - before).sum(2) > 1.0).astype(np.uint8)
    drawn = cv2.morphologyEx(drawn, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    mask = np.asarray(cv2.GaussianBlur(drawn.astype(np.float32), (0, 0), 1.2), np.float32)
    patch = patch * rng.uniform(0.7, 1.2)
    hom = _plane_homography(rng, pw, ph, out_w, out_h, max_yaw_deg)
    size = (out_w, out_h)
    warped = np.asarray(cv2.warpPerspective(patch, hom, size, flags=cv2.INTER_LINEAR), np.float32)
    alpha = np.asarray(cv2.warpPerspective(mask, hom, size, flags=cv2.INTER_LINEAR), np.float32)
    img = img * (1 - alpha[..., None]) + warped * alpha[..., None]
    classes = np.array([c for c, _ in labels], np.int64)
    raw = np.array([b for _, b in labels], np.float64).reshape(-1, 4)
    return _finish(rng, img, classes, _warp_boxes(raw, hom))


def write_dataset(
    out_dir: str | Path,
    n_images: int,
    seed: int,
    *,
    val_fraction: float = 0.1,
    params: SceneParams | None = None,
) -> Path:
    """Write a YOLO data set (``images/{train,val}``, ``labels/{train,val}``, ``data.yaml``).

    Args:
        out_dir: target directory (created).
        n_images: total number of images.
        seed: data-set seed (image ``i`` is :func:`render_scene` ``(seed, i)``).
        val_fraction: share of images put in the validation split (the last ones).
        params: scene mix and output size.

    Returns:
        Path of the data YAML to pass to Ultralytics.
    """
    if n_images < 1:
        raise ConfigError(f'n_images must be >= 1, got {n_images}')
    if not 0.0 <= val_fraction < 1.0:
        raise ConfigError(f'val_fraction must lie in [0, 1), got {val_fraction}')
    p = params or SceneParams()
    root = Path(out_dir).resolve()
    n_val = round(n_images * val_fraction) if n_images > 1 else 0
    for split in ('train', 'val'):
        (root / 'images' / split).mkdir(parents=True, exist_ok=True)
        (root / 'labels' / split).mkdir(parents=True, exist_ok=True)
    for i in range(n_images):
        split = 'val' if i >= n_images - n_val else 'train'
        scene = render_scene(seed, i, p)
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(i), 1]))
        quality = int(rng.integers(p.jpeg_quality[0], p.jpeg_quality[1] + 1))
        ok, buf = cv2.imencode('.jpg', scene.image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise RuntimeError('JPEG encoding failed')
        stem = f'{seed}_{i:06d}'
        write_atomic(root / 'images' / split / f'{stem}.jpg', buf.tobytes())
        text = '\n'.join(scene.yolo_lines())
        write_atomic(
            root / 'labels' / split / f'{stem}.txt', (text + '\n' if text else '').encode()
        )
    names = '\n'.join(f'  {i}: {n}' for i, n in enumerate(CLASSES))
    val = 'images/val' if n_val else 'images/train'
    yaml_text = f'path: {root}\ntrain: images/train\nval: {val}\nnames:\n{names}\n'
    data_yaml = root / 'data.yaml'
    write_atomic(data_yaml, yaml_text.encode())
    return data_yaml


__all__ = [
    'CLASSES',
    'Scene',
    'SceneParams',
    'draw_car_inside',
    'draw_elevator',
    'render_on_photo',
    'render_scene',
    'write_dataset',
]
