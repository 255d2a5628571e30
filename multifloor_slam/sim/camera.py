"""A simple camera: one ray per image column, walls drawn by material (elevator doors, panels).

``render_camera_view(scene_state, rng)`` is the one function that turns what the camera sees
(per-column depth and material from the ray caster) into a BGR image. The detector's image
generator can replace it without touching the simulator.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from multifloor_slam.sim.building import Material

#: Camera mount height above the floor (m).
CAMERA_HEIGHT = 1.0
#: Ceiling height seen by the camera (m).
CEILING_HEIGHT = 2.6
#: Elevator door leaf height (m).
DOOR_HEIGHT = 2.1

# BGR base colours per material.
_COLOURS = np.zeros((256, 3), np.float32)
_COLOURS[Material.WALL] = (200, 214, 222)
_COLOURS[Material.CLUTTER] = (60, 110, 160)
_COLOURS[Material.SHAFT] = (150, 150, 145)
_COLOURS[Material.DOOR] = (185, 188, 190)
_COLOURS[Material.PANEL] = (200, 214, 222)
_COLOURS[Material.DOORFRAME] = (40, 70, 110)
_COLOURS[Material.PILLAR] = (150, 155, 160)
_CLUTTER = np.array(
    [(60, 110, 160), (140, 70, 40), (50, 140, 60), (90, 90, 180), (160, 160, 60), (70, 70, 70)],
    np.float32,
)


@dataclass(frozen=True)
class CameraModel:
    """Pinhole intrinsics of the simulated camera."""

    width: int = 320
    height: int = 240
    hfov_deg: float = 70.0

    @property
    def fx(self) -> float:
        """Focal length in pixels (square pixels)."""
        return self.width / 2 / float(np.tan(np.radians(self.hfov_deg) / 2))

    def column_angles(self) -> NDArray[np.float64]:
        """Bearing of each pixel column relative to the optical axis (left positive)."""
        u = np.arange(self.width) + 0.5 - self.width / 2
        return -np.arctan(u / self.fx)


@dataclass(frozen=True)
class CameraScene:
    """What the camera sees at one instant, column by column.

    Attributes:
        model: intrinsics.
        depth: distance along the optical axis to the wall hit by each column (m, inf: none).
        material: ``Material`` of each column's hit.
        along: hit coordinate along the wall (m), for seams and textures.
        door_offset: hit x minus the nearest elevator door centre x (m); nan if no door near.
        inside_car: the camera is inside an elevator car.
        riding: the car is moving.
        floor_index: the floor the robot is on (changes the wall tint a little).
    """

    model: CameraModel
    depth: NDArray[np.float64]
    material: NDArray[np.uint8]
    along: NDArray[np.float64]
    door_offset: NDArray[np.float64]
    inside_car: bool = False
    riding: bool = False
    floor_index: int = 0


def _noise_bank(h: int, w: int) -> NDArray[np.uint8]:
    """A few sensor-noise textures (values 0-8), shared by all frames of one size."""
    key = (h, w)
    if key not in _NOISE:
        g = np.random.default_rng(12345)
        _NOISE[key] = g.integers(0, 9, (4, h, w, 3), dtype=np.uint8)
    return _NOISE[key]


_NOISE: dict[tuple[int, int], NDArray[np.uint8]] = {}

# Fixed palette entries; column colours follow from index _NCOL.
_CEIL, _FLOOR, _FRAME, _SEAM, _IND, _DIGIT, _PDARK, _PBUTTON, _CSEAM, _LAMP, _NCOL = range(11)


def render_camera_view(scene_state: CameraScene, rng: np.random.Generator) -> NDArray[np.uint8]:
    """Render a (H, W, 3) uint8 BGR image of ``scene_state``.

    Walls are vertical strips (top and bottom rows from the column depth); elevator doors are
    brushed steel with a centre seam, a floor indicator above and a call-button panel beside
    them; the car interior is steel panels under a bright ceiling. Pixels are built as indices
    into a small per-frame palette (one gather per frame), then sensor noise from ``rng``.
    """
    s = scene_state
    m = s.model
    h, w = m.height, m.width
    cy = h / 2
    fx = m.fx
    depth = np.where(np.isfinite(s.depth), np.maximum(s.depth, 0.05), 1e3)
    inv = fx / depth

    def row(height_m: float) -> NDArray[np.float64]:
        return cy - (height_m - CAMERA_HEIGHT) * inv

    top, bottom = row(CEILING_HEIGHT), row(0.0)
    rows = np.arange(h, dtype=np.float64)[:, None] + 0.5
    mat = s.material

    col = _COLOURS[mat].copy()
    tint = 1.0 + 0.04 * ((s.floor_index % 5) - 2)
    col[mat == Material.WALL] *= np.array([tint, 1.0, 2 - tint], np.float32)
    clutter = mat == Material.CLUTTER
    if clutter.any():
        key = np.floor(s.along[clutter] * 2).astype(np.int64) % len(_CLUTTER)
        col[clutter] = _CLUTTER[key]
    if s.inside_car:
        col[mat == Material.SHAFT] = (175, 172, 165)
    col *= np.clip(1.15 - depth / 14.0, 0.35, 1.0).astype(np.float32)[:, None]
    car = [(235, 235, 230), (60, 60, 70)]
    fixed = car if s.inside_car else [(215, 215, 210), (95, 105, 115)]
    fixed += [(120, 120, 118), (40, 40, 40), (20, 20, 20), (40, 40, 230), (60, 60, 60)]
    fixed += [(80, 200, 240), (110, 110, 105), (250, 250, 250)]
    palette = np.zeros((_NCOL + w, 4), np.uint8)
    palette[:, :3] = np.vstack([np.array(fixed, np.float32), col]).clip(0, 255)

    idx = np.where(rows < cy, _CEIL, _FLOOR).astype(np.int16).repeat(w, axis=1)
    wall = (rows >= top) & (rows < bottom)
    short = mat == Material.CLUTTER
    if short.any():
        wall &= ~short | (rows >= row(0.9))
    idx = np.where(wall, _NCOL + np.arange(w, dtype=np.int16), idx)
    is_door = mat == Material.DOOR
    if is_door.any():
        off = np.abs(np.nan_to_num(s.door_offset, nan=99.0))
        door_top = row(DOOR_HEIGHT)
        idx[is_door & wall & (rows < door_top)] = _FRAME
        idx[is_door & (off < 0.025) & (rows >= door_top) & (rows < bottom)] = _SEAM
        ind_top, ind_bot = row(2.45), row(2.25)
        idx[is_door & (off < 0.3) & (rows >= ind_top) & (rows < ind_bot)] = _IND
        idx[is_door & (off < 0.06) & (rows >= ind_top + 1) & (rows < ind_bot - 1)] = _DIGIT
    panel = mat == Material.PANEL
    if panel.any():
        idx[panel & (rows >= row(1.35)) & (rows < row(1.0))] = _PDARK
        idx[panel & (rows >= row(1.25)) & (rows < row(1.15))] = _PBUTTON
    if s.inside_car:
        seams = (np.abs((s.along * 2.5) % 1.0 - 0.5) > 0.47) & (mat == Material.SHAFT)
        idx[wall & seams] = _CSEAM
        lamp = (rows < 0.5 * top.clip(0)) & (np.abs(np.arange(w) - w / 2) < w / 5)
        idx[lamp] = _LAMP
    img = np.take(palette.view(np.uint32)[:, 0], idx).view(np.uint8).reshape(h, w, 4)[..., :3]
    bank = _noise_bank(h, w)
    noise = bank[int(rng.integers(len(bank)))]
    shift = int(rng.integers(w))
    out = np.empty_like(img)
    cv2.add(img[:, shift:], noise[:, : w - shift], dst=out[:, shift:])
    cv2.add(img[:, :shift], noise[:, w - shift :], dst=out[:, :shift])
    return out


def elevator_boxes(
    scene_state: CameraScene, min_width_px: int = 3
) -> list[tuple[int, int, int, int, str]]:
    """Image boxes ``(x0, y0, x1, y1, label)`` of the visible elevator doors and call panels.

    Labels are ``elevator_door`` and ``elevator_panel``; boxes follow the geometry
    :func:`render_camera_view` draws (door leaf up to 2.1 m, panel 1.0-1.35 m), clipped to the
    image, for training or scoring a detector on simulated frames.
    """
    s = scene_state
    m = s.model
    depth = np.where(np.isfinite(s.depth), np.maximum(s.depth, 0.05), 1e3)
    inv = m.fx / depth
    cy = m.height / 2
    out: list[tuple[int, int, int, int, str]] = []
    specs = (
        (Material.DOOR, 'elevator_door', DOOR_HEIGHT, 0.0),
        (Material.PANEL, 'elevator_panel', 1.35, 1.0),
    )
    for material, label, top_m, bottom_m in specs:
        cols = np.flatnonzero(s.material == material)
        if cols.size == 0:
            continue
        breaks = np.flatnonzero(np.diff(cols) > 1) + 1
        for run in np.split(cols, breaks):
            if run.size < min_width_px:
                continue
            top = cy - (top_m - CAMERA_HEIGHT) * inv[run]
            bottom = cy - (bottom_m - CAMERA_HEIGHT) * inv[run]
            y0 = int(np.clip(np.floor(top.min()), 0, m.height))
            y1 = int(np.clip(np.ceil(bottom.max()), 0, m.height))
            if y1 > y0:
                out.append((int(run[0]), y0, int(run[-1]) + 1, y1, label))
    return out


__all__ = ['CameraModel', 'CameraScene', 'elevator_boxes', 'render_camera_view']
