"""The simulated camera: one ray per image column, elevators drawn with the detector's artwork.

``render_camera_view(scene_state, rng)`` is the one function that turns what the camera sees
(per-column depth and material from the ray caster) into a BGR image. Ordinary walls, clutter and
floors are flat-shaded by material. Elevators use the procedural scene generator of the detector
(:mod:`multifloor_slam.sim.elevator_scenes`), so that the shipped model recognises them:

- a landing elevator in view is drawn by :func:`~multifloor_slam.sim.elevator_scenes.draw_elevator`
  onto a frontal facade texture (door, frame, indicator, call panel; the doors open as far as the
  tour says), which is mapped into the image in perspective: each column samples the facade at
  its ray's offset along the wall, each row at the height its depth gives (the door is
  ``DOOR_HEIGHT`` tall). Each (building, elevator, floor) keeps one look;
- inside a car the whole view is the generator's car interior
  (:func:`~multifloor_slam.sim.elevator_scenes.draw_car_inside`), one look per ride, with a small
  per-frame shift and gain jitter.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from multifloor_slam.sim.building import ELEVATOR_DOOR, Material
from multifloor_slam.sim.elevator_scenes import draw_car_inside, draw_elevator

#: Camera mount height above the floor (m).
CAMERA_HEIGHT = 1.0
#: Ceiling height seen by the camera (m).
CEILING_HEIGHT = 2.6
#: Elevator door leaf height (m).
DOOR_HEIGHT = 2.1
#: Half width of an elevator's landing facade (door, frame, call panel) along its wall (m).
FACADE_HALF_WIDTH = 1.2
#: Resolution of the facade texture (pixels per metre of wall).
FACADE_PX_PER_M = 150.0

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
        facade_u: per column, offset along an elevator's landing wall from its door centre
            where the ray meets that wall first (m, nan: no elevator facade).
        facade_depth: per column, depth of that facade point along the optical axis (m).
        facade_elevator: per column, index into ``elevator_ids`` of that elevator (-1: none).
        elevator_ids: ids of the building's elevators.
        open_door: id of the elevator whose door on this floor is open ('' none).
        door_frac: how far that door is open (0-1).
        ride: number of the current elevator ride (seeds the car's looks; -1 none).
        car_view: the car's interior fills the view (inside, or in the doorway facing in).
        seed: building seed (seeds the elevators' looks).
    """

    model: CameraModel
    depth: NDArray[np.float64]
    material: NDArray[np.uint8]
    along: NDArray[np.float64]
    door_offset: NDArray[np.float64]
    inside_car: bool = False
    riding: bool = False
    floor_index: int = 0
    facade_u: NDArray[np.float64] | None = None
    facade_depth: NDArray[np.float64] | None = None
    facade_elevator: NDArray[np.int16] | None = None
    elevator_ids: tuple[str, ...] = ()
    open_door: str = ''
    door_frac: float = 0.0
    ride: int = -1
    car_view: bool = False
    seed: int = 0


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

    Inside a car the view is the generator's car interior for this ride; elsewhere walls are
    vertical strips (top and bottom rows from the column depth) flat-shaded by material, with
    every elevator facade in view drawn in perspective from the generator's artwork. Sensor noise
    from ``rng`` is added last.
    """
    s = scene_state
    m = s.model
    h, w = m.height, m.width
    if s.inside_car or s.car_view:
        img = _car_view(s, rng)
    else:
        img = _flat_view(s)
        if s.facade_elevator is not None and bool((s.facade_elevator >= 0).any()):
            img = np.ascontiguousarray(img)
            _draw_facades(s, img)
    bank = _noise_bank(h, w)
    noise = bank[int(rng.integers(len(bank)))]
    shift = int(rng.integers(w))
    out = np.empty_like(img)
    cv2.add(img[:, shift:], noise[:, : w - shift], dst=out[:, shift:])
    cv2.add(img[:, :shift], noise[:, w - shift :], dst=out[:, :shift])
    return out


_CACHE: dict[tuple, object] = {}
_CACHE_MAX = 64


def _cached(key: tuple, make: object) -> object:
    """Memoise rendered artwork (facades, car views); the oldest half goes when full."""
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_MAX:
            for old in list(_CACHE)[: _CACHE_MAX // 2]:
                del _CACHE[old]
        _CACHE[key] = make()  # type: ignore[operator]
    return _CACHE[key]


def _seed(*parts: int | str) -> np.random.Generator:
    ints = [zlib.crc32(p.encode()) if isinstance(p, str) else int(p) & 0xFFFFFFFF for p in parts]
    return np.random.default_rng(np.random.SeedSequence(ints))


@dataclass(frozen=True)
class _Facade:
    """A frontal elevator facade texture and its metric frame (u right, v up from the floor)."""

    levels: tuple[NDArray[np.uint8], ...]
    cx: float
    floor_y: float
    px_per_m_u: float
    px_per_m_v: float


def _make_facade(seed: int, elevator: str, floor: int, openness: float) -> _Facade:
    # The rng depends on the landing only, so its looks stay while the doors move.
    rng = _seed(seed, 1, elevator, floor)
    dw = ELEVATOR_DOOR * FACADE_PX_PER_M
    width = int(2 * FACADE_HALF_WIDTH * FACADE_PX_PER_M) + 2
    height = int(3.1 * dw)
    canvas = np.empty((height, width, 3), np.float32)
    tint = 1.0 + 0.04 * ((floor % 5) - 2)
    canvas[:] = _COLOURS[Material.WALL] * np.array([tint, 1.0, 2 - tint], np.float32)
    labels: list = []
    draw_elevator(rng, canvas, width / 2 - dw / 2, float(height), dw, labels, openness=openness)
    _, (_, y1, _, y2) = labels[0]
    full = np.clip(canvas, 0, 255).astype(np.uint8)
    levels = [full]
    for _ in range(2):
        levels.append(np.asarray(cv2.pyrDown(levels[-1]), np.uint8))
    return _Facade(
        tuple(levels), width / 2, float(height), dw / ELEVATOR_DOOR, (y2 - y1) / DOOR_HEIGHT
    )


def _draw_facades(s: CameraScene, img: NDArray[np.uint8]) -> None:
    """Map each elevator facade in view into ``img`` (in place), column by column."""
    assert s.facade_u is not None and s.facade_depth is not None
    assert s.facade_elevator is not None
    m = s.model
    cy, fx = m.height / 2, m.fx
    rows = np.arange(m.height, dtype=np.float64)[:, None] + 0.5
    for ei in np.unique(s.facade_elevator[s.facade_elevator >= 0]):
        cols = np.flatnonzero(s.facade_elevator == ei)
        eid = s.elevator_ids[int(ei)]
        frac = round((s.door_frac if s.open_door == eid else 0.0) * 20) / 20
        fac: _Facade = _cached(  # type: ignore[assignment]
            ('facade', s.seed, eid, s.floor_index, frac),
            lambda eid=eid, frac=frac: _make_facade(s.seed, eid, s.floor_index, frac),
        )
        depth = np.maximum(s.facade_depth[cols], 0.05)
        # Texture pixels per image pixel decides the pyramid level (no aliasing far away).
        ratio = fac.px_per_m_u * float(np.median(depth)) / fx
        level = int(np.clip(np.floor(np.log2(max(ratio, 1.0))), 0, len(fac.levels) - 1))
        scale = 0.5**level
        v = CAMERA_HEIGHT + (cy - rows) * (depth / fx)[None, :]
        mx = (fac.cx + s.facade_u[cols] * fac.px_per_m_u) * scale - 0.5 * (1 - scale)
        my = (fac.floor_y - v * fac.px_per_m_v) * scale - 0.5 * (1 - scale)
        patch = cv2.remap(
            fac.levels[level],
            np.broadcast_to(mx[None, :], v.shape).astype(np.float32),
            my.astype(np.float32),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        shade = np.clip(1.15 - depth / 14.0, 0.35, 1.0)
        patch = (patch * shade[None, :, None]).astype(np.uint8)
        keep = (v >= 0.0) & (v <= CEILING_HEIGHT)
        sub = img[:, cols]
        sub[keep] = patch[keep]
        img[:, cols] = sub


def _car_view(s: CameraScene, rng: np.random.Generator) -> NDArray[np.uint8]:
    """The generator's car interior for this ride, shifted a few pixels and re-lit per frame."""
    h, w = s.model.height, s.model.width
    pad = max(2, round(0.02 * w))

    def make() -> NDArray[np.uint8]:
        img, _ = draw_car_inside(_seed(s.seed, 2, max(s.ride, 0)), h + 2 * pad, w + 2 * pad)
        return np.clip(img, 0, 255).astype(np.uint8)

    base: NDArray[np.uint8] = _cached(('car', s.seed, s.ride, h, w), make)  # type: ignore[assignment]
    ox, oy = (int(v) for v in rng.integers(0, 2 * pad + 1, 2))
    view = cv2.convertScaleAbs(
        base[oy : oy + h, ox : ox + w], alpha=float(rng.uniform(0.93, 1.07))
    )
    return np.asarray(view, np.uint8)  # convertScaleAbs always returns uint8


def _flat_view(s: CameraScene) -> NDArray[np.uint8]:
    """Flat-shaded walls, floor and ceiling by material (landings; a car has its own view)."""
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
    col *= np.clip(1.15 - depth / 14.0, 0.35, 1.0).astype(np.float32)[:, None]
    fixed = [(215, 215, 210), (95, 105, 115)]
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
    img = np.take(palette.view(np.uint32)[:, 0], idx).view(np.uint8).reshape(h, w, 4)[..., :3]
    return img


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
