"""Synthetic 2D laser scans against wall segments: elevator cars, corridors, landings, rooms.

Shared by the laser evidence, elevator state and elevator node tests.
"""

from __future__ import annotations

import math

import numpy as np

from multifloor_slam.io.records import ScanRecord

Segment = tuple[float, float, float, float]


def cast(
    walls: list[Segment],
    pose: tuple[float, float, float] = (0.0, 0.0, 0.0),
    beams: int = 360,
    fov_deg: float = 360.0,
    range_max: float = 12.0,
    noise: float = 0.01,
    t: float = 0.0,
) -> ScanRecord:
    """A scan from ``pose`` against wall segments; no return beyond ``range_max`` (+inf)."""
    x, y, yaw = pose
    fov = math.radians(fov_deg)
    inc = fov / beams
    amin = -math.pi if fov_deg >= 360.0 else -fov / 2
    a = amin + inc * np.arange(beams)
    d = np.stack([np.cos(a + yaw), np.sin(a + yaw)], axis=1)
    seg = np.asarray(walls, dtype=float)
    e = seg[:, 2:] - seg[:, :2]
    w = seg[:, :2] - np.array([x, y])
    den = d[:, None, 0] * e[None, :, 1] - d[:, None, 1] * e[None, :, 0]
    with np.errstate(divide='ignore', invalid='ignore'):
        tr = (w[None, :, 0] * e[None, :, 1] - w[None, :, 1] * e[None, :, 0]) / den
        s = (w[None, :, 0] * d[:, None, 1] - w[None, :, 1] * d[:, None, 0]) / den
    ok = (np.abs(den) > 1e-12) & (tr > 0) & (s >= 0) & (s <= 1)
    r = np.where(ok, tr, np.inf).min(axis=1)
    r = r + noise * np.random.default_rng(7).standard_normal(beams)
    r = np.where(r > range_max, np.inf, r).astype(np.float32)
    return ScanRecord(t, r, float(amin), float(inc), 0.05, range_max)


def box(x0: float, y0: float, x1: float, y1: float, door: float = 0.0) -> list[Segment]:
    """Four walls; ``door`` > 0 leaves a gap that wide in the middle of the +x wall."""
    walls = [(x0, y0, x1, y0), (x0, y1, x1, y1), (x0, y0, x0, y1)]
    if door <= 0.0:
        return [*walls, (x1, y0, x1, y1)]
    c, h = 0.5 * (y0 + y1), 0.5 * door
    return [*walls, (x1, y0, x1, c - h), (x1, c + h, x1, y1)]


CAR = box(-1.0, -1.0, 1.0, 1.0)
#: a 2 x 2 m car with a 1.1 m door open onto a 2.5 m corridor (its far wall 20 m long)
CAR_OPEN = [*box(-1.0, -1.0, 1.0, 1.0, door=1.1), (3.5, -10.0, 3.5, 10.0)]
CORRIDOR = [(-20.0, -1.0, 20.0, -1.0), (-20.0, 1.0, 20.0, 1.0)]
#: a robot in a corridor facing a closed elevator door in a 1.1 m recess
LANDING = [
    (-20.0, -1.0, 20.0, -1.0),
    (-20.0, 1.5, -0.55, 1.5),
    (0.55, 1.5, 20.0, 1.5),
    (-0.55, 1.5, -0.55, 3.5),
    (0.55, 1.5, 0.55, 3.5),
    (-0.55, 3.5, 0.55, 3.5),
]


__all__ = ['CAR', 'CAR_OPEN', 'CORRIDOR', 'LANDING', 'Segment', 'box', 'cast']
