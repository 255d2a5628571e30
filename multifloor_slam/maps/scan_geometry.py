"""Laser scans as 2D geometry: beam directions, endpoints in the sensor and world frames, SE(2).

Everything is vectorised over beams; beam directions are cached per scan layout, because a robot's
lidar never changes its angle_min / angle_increment / beam count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
#: A 2D pose or rigid transform: x (m), y (m), yaw (rad).
Pose = tuple[float, float, float]


@lru_cache(maxsize=8)
def _beam_dirs(n: int, angle_min: float, angle_increment: float) -> tuple[FloatArray, FloatArray]:
    angles = angle_min + angle_increment * np.arange(n, dtype=np.float64)
    cos, sin = np.cos(angles), np.sin(angles)
    cos.setflags(write=False)
    sin.setflags(write=False)
    return cos, sin


@dataclass(frozen=True)
class ScanPoints:
    """One scan reduced to what mapping needs, in the sensor frame.

    Attributes:
        free_xy: (N, 2) end of the free part of every beam, in beam order (a hit's free part stops
            at the hit; a no-return beam is free up to the clipped range; an unusable beam has
            length 0, so the free polygon goes back to the sensor across it).
        hit: (N,) True where the beam returned a real obstacle.
        full_circle: the beams cover (almost) 360 degrees, so the free polygon needs no apex.
    """

    free_xy: FloatArray
    hit: NDArray[np.bool_]
    full_circle: bool

    @property
    def hit_xy(self) -> FloatArray:
        """(M, 2) obstacle points."""
        return self.free_xy[self.hit]


def angles_ok(n: int, angle_min: float, angle_increment: float) -> bool:
    """True when ``n`` beams from ``angle_min`` by ``angle_increment`` have finite angles.

    A NaN or infinite ``angle_min`` / ``angle_increment``, a zero increment, or a last beam whose
    angle overflows makes a scan unusable: :func:`scan_points` refuses it.
    """
    try:
        a0, step = float(angle_min), float(angle_increment)
    except (TypeError, ValueError):
        return False
    return (
        math.isfinite(a0)
        and math.isfinite(step)
        and step != 0.0
        and math.isfinite(a0 + step * max(n - 1, 0))
    )


def scan_problem(
    t: float, n: int, angle_min: float, angle_increment: float, range_max: float
) -> str | None:
    """Why a scan cannot be used, as the mapper's counter name; None when it can be.

    ``scans_bad_angles``: NaN / infinite angles or a zero increment; ``scans_bad``: a non-finite
    stamp, fewer than two beams or ``range_max <= 0`` (a NaN ``range_max`` means no limit).
    """
    if not angles_ok(n, angle_min, angle_increment):
        return 'scans_bad_angles'
    if n < 2 or not math.isfinite(t) or range_max <= 0:
        return 'scans_bad'
    return None


def scan_points(
    ranges: NDArray[np.floating],
    angle_min: float,
    angle_increment: float,
    range_min: float,
    range_max: float,
    max_free_range: float | None = None,
    max_range: float = math.inf,
    max_hit_range: float = math.inf,
    bound_no_returns: bool = False,
) -> ScanPoints:
    """Convert a LaserScan's ranges into endpoints.

    ROS conventions (REP 117): ``+inf`` (or a value at or above ``range_max``) means no return
    within range, so the beam is free up to ``range_max``, or up to ``max_free_range`` when that
    is shorter; NaN, ``-inf`` and values below ``range_min`` are unusable and dropped. A finite
    range below ``range_max`` is a hit however long it is (``max_free_range`` limits only the
    no-return beams).

    ``range_max = +inf`` or NaN (``pointcloud_to_laserscan``'s default) means the sensor gives no
    upper limit: every finite range is a hit, and no-return beams are free up to
    ``max_free_range`` only; without a finite ``max_free_range`` they clear nothing (a beam of
    unknown length). A NaN ``range_min`` counts as 0.

    Args:
        ranges: beam ranges in metres.
        angle_min: angle of the first beam (rad).
        angle_increment: angle between beams (rad).
        range_min: smaller ranges are invalid.
        range_max: larger ranges are "no return".
        max_free_range: no-return beams are free up to this distance (default ``range_max``).
        max_range: every beam is cut to this length (a hit beyond it is no hit): no beam can be
            longer than the map it goes into (the mapper passes its layers' diagonal).
        max_hit_range: a return farther than this is no hit (too sparse and noisy for a wall)
            but proves the beam free up to this distance.
        bound_no_returns: a no-return beam is free only up to the shorter of the two returns
            next to it in beam order (the nearest returning beam on each side; one side when
            the other has none, nothing when the scan has no return), still capped as above.
            A run of no-return beams is an opening (glass, a door, a hall) whose far side is
            unknown: its free fan stops where the walls around it were seen, instead of
            painting free space out to the cap through every door.

    Raises:
        ValueError: the angles are unusable (see :func:`angles_ok`).
    """
    r = np.asarray(ranges, dtype=np.float64).ravel()
    if not angles_ok(r.size, angle_min, angle_increment):
        raise ValueError(f'unusable scan angles: {angle_min!r} + k * {angle_increment!r}')
    cos, sin = _beam_dirs(r.size, float(angle_min), float(angle_increment))
    r_max = float(range_max)
    r_max = math.inf if math.isnan(r_max) else r_max
    r_min = float(range_min)
    r_min = 0.0 if math.isnan(r_min) else r_min
    cap = r_max if max_free_range is None else min(float(max_free_range), r_max)
    free_len = min(cap, max_range) if math.isfinite(cap) and cap > 0 else 0.0
    with np.errstate(invalid='ignore'):
        hit = (r >= r_min) & (r < r_max)
        no_return = (r >= r_max) | np.isposinf(r)
        length = np.where(hit, r, np.where(no_return, free_len, 0.0))
        long = hit & (r > max_hit_range)
        if long.any():
            length[long] = max_hit_range
            hit = hit & ~long
        returned = hit | long
        if bound_no_returns and free_len > 0 and no_return.any():
            span = abs(angle_increment) * r.size
            full = span >= 2.0 * math.pi - 2.0 * abs(angle_increment)
            length = _bounded_by_returns(length, returned, no_return, full)
        if max_range < math.inf:
            too_long = length > max_range
            if too_long.any():
                length[too_long] = max_range
                hit = hit & ~too_long
    free_xy = np.empty((length.size, 2))
    free_xy[:, 0] = cos * length
    free_xy[:, 1] = sin * length
    span = abs(angle_increment) * r.size
    return ScanPoints(free_xy, hit, span >= 2.0 * math.pi - 2.0 * abs(angle_increment))


def _bounded_by_returns(
    length: FloatArray,
    returned: NDArray[np.bool_],
    no_return: NDArray[np.bool_],
    full_circle: bool,
) -> FloatArray:
    """``length`` with every no-return beam cut to the shorter neighbouring return.

    Vectorised: the index of the last return at or before each beam and of the first at or
    after it come from running max / min over beam indices (the scan tiled three times when it
    goes all round, so a run across the seam finds returns on both sides).
    """
    n = length.size
    if not returned.any():
        return np.where(no_return, 0.0, length)
    reps = 3 if full_circle else 1
    ret = np.tile(returned, reps)
    lens = np.tile(length, reps)
    m = ret.size
    idx = np.arange(m)
    before = np.maximum.accumulate(np.where(ret, idx, -1))
    after = np.minimum.accumulate(np.where(ret, idx, m)[::-1])[::-1]
    with np.errstate(invalid='ignore'):
        left = np.where(before >= 0, lens[np.clip(before, 0, m - 1)], np.nan)
        right = np.where(after < m, lens[np.clip(after, 0, m - 1)], np.nan)
        bound = np.fmin(left, right)
    if full_circle:
        bound = bound[n : 2 * n]
    return np.where(no_return, np.minimum(length, bound), length)


class LaserScan(NamedTuple):
    """A LaserScan's fields (ranges in m, angles in rad), as the mapper receives them."""

    ranges: NDArray[np.floating]
    angle_min: float
    angle_increment: float
    range_min: float
    range_max: float


class SlamScan(NamedTuple):
    """One scan ready to integrate: laser origin and beam ends placed in the SLAM frame."""

    origin: tuple[float, float]
    free_xy: FloatArray
    hit: NDArray[np.bool_]
    full_circle: bool


def scan_in_frame(
    scan: LaserScan,
    laser: Pose,
    max_free_range: float | None = None,
    max_range: float = math.inf,
    max_hit_range: float = math.inf,
    bound_no_returns: bool = False,
) -> SlamScan:
    """``scan``'s endpoints (:func:`scan_points`) placed by the laser's pose ``laser``."""
    pts = scan_points(
        scan.ranges,
        scan.angle_min,
        scan.angle_increment,
        scan.range_min,
        scan.range_max,
        max_free_range,
        max_range,
        max_hit_range,
        bound_no_returns,
    )
    origin = (laser[0], laser[1])
    return SlamScan(origin, transform_points(pts.free_xy, laser), pts.hit, pts.full_circle)


def se2_matrix(x: float, y: float, yaw: float) -> FloatArray:
    """3x3 homogeneous matrix of a 2D pose."""
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, x], [s, c, y], [0.0, 0.0, 1.0]])


def se2_from_matrix(m: FloatArray) -> tuple[float, float, float]:
    """(x, y, yaw) of a 3x3 homogeneous matrix."""
    return float(m[0, 2]), float(m[1, 2]), math.atan2(float(m[1, 0]), float(m[0, 0]))


def se2_compose(
    a: tuple[float, float, float], b: tuple[float, float, float]
) -> tuple[float, float, float]:
    """Pose ``a`` followed by ``b`` (``a * b``)."""
    ax, ay, ayaw = a
    bx, by, byaw = b
    c, s = math.cos(ayaw), math.sin(ayaw)
    return ax + c * bx - s * by, ay + s * bx + c * by, wrap_angle(ayaw + byaw)


def se2_inverse(a: tuple[float, float, float]) -> tuple[float, float, float]:
    """Inverse of a 2D pose."""
    x, y, yaw = a
    c, s = math.cos(yaw), math.sin(yaw)
    return -c * x - s * y, s * x - c * y, wrap_angle(-yaw)


def wrap_angle(a: float) -> float:
    """Angle in [-pi, pi)."""
    return (a + math.pi) % (2.0 * math.pi) - math.pi


def transform_points(points: FloatArray, pose: tuple[float, float, float]) -> FloatArray:
    """Apply a 2D pose to (N, 2) points."""
    x, y, yaw = pose
    c, s = math.cos(yaw), math.sin(yaw)
    out = np.empty_like(points, dtype=np.float64)
    out[:, 0] = c * points[:, 0] - s * points[:, 1] + x
    out[:, 1] = s * points[:, 0] + c * points[:, 1] + y
    return out


__all__ = [
    'LaserScan',
    'Pose',
    'ScanPoints',
    'SlamScan',
    'angles_ok',
    'scan_in_frame',
    'scan_points',
    'scan_problem',
    'se2_compose',
    'se2_from_matrix',
    'se2_inverse',
    'se2_matrix',
    'transform_points',
    'wrap_angle',
]
