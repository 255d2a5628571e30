"""Laser evidence for the elevator state: a car-sized box around the robot, a door gap in front.

An elevator car is the one place a robot stands in a closed box of about 1-3.5 m a side; with
its doors open, the box has a single opening, in front when the robot faces the doors. A camera
cannot tell a car interior from a lift-lobby poster, the laser can tell a box from a corridor.

One scan is read like this (numpy, vectorised over beams and candidate box headings):

1. Beams: a range in ``[range_min, range_max]`` is a hit; ``+inf`` or beyond ``range_max`` is a
   no-return (open space beyond the car); ``-inf`` (too close) is a hit at ``range_min``; NaN and
   finite ranges below ``range_min`` are not used.
2. For each candidate heading ``theta`` of the box (0-87 deg in 3 deg steps; a box is symmetric
   under 90 deg turns) the beams fall into four 90 deg sectors around ``theta``. A wall across
   a sector makes a sharp peak in the histogram of its hits' projections on the sector's axis
   (5 cm bins), a wall along it only a thin spread. The side's wall is its farthest clear peak
   that keeps the box car-sized (a person in the car peaks nearer than the wall behind), else
   its nearest (the corridor wall seen through open doors is farther than any car). A
   sector the scan does not cover at all (behind a 180 deg laser) has its wall at the robot
   (0 m) and its box side counts against half the minimum size; a seen sector with no peak is
   open space.
3. The heading whose four peaks hold the most hits wins.
4. A beam is *beyond* when its end lies outside that box by more than the tolerance, or it
   returned nothing. The scan is then:

   - ``enclosed``: both box sides within ``[car_min_m, car_max_m]``, at most
     ``car_max_open_fraction`` of the beams beyond, at least ``car_min_wall_fraction`` of the hits
     on the walls (people or luggage in the car may hide the rest);
   - ``door_gap``: a box of car size as above whose beyond beams form one run of
     ``door_gap_min_deg``-``door_gap_max_deg`` centred within ``door_front_deg`` of straight
     ahead: the front opens onto the landing while the sides stay at car width;
   - ``open``: anything else (a corridor, a room, a hall);
   - ``unknown``: fewer than 16 usable beams or less than ``laser_min_coverage_deg`` covered.

The laser frame is taken as the robot's (x forward); a mount offset of a few centimetres is
within the tolerances. :class:`LaserTracker` evaluates at most ``laser_rate_hz`` scans per second
of scan time and keeps the newest result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from multifloor_slam.errors import ConfigError

if TYPE_CHECKING:  # io imports the elevator state, which imports this module
    from multifloor_slam.io.records import ScanRecord

LASER_STATES: tuple[str, ...] = ('enclosed', 'door_gap', 'open', 'unknown')

_HEADINGS = np.deg2rad(np.arange(0.0, 90.0, 3.0))
_MIN_BEAMS = 16
_RUN_MERGE_BEAMS = 3  # beyond runs separated by at most this many other beams are one run
_BIN_M = 0.05  # projection histogram bin (m)
_N_BINS = 160  # walls are looked for up to 8 m away
_MIN_PEAK = 4  # a wall peak holds at least this many hits (3 bins) ...
_PEAK_SHARE = 0.2  # ... and this share of its sector's hits


@dataclass(frozen=True)
class LaserParams:
    """What a car looks like to a 2D laser.

    Attributes:
        car_min_m: smallest car side (m).
        car_max_m: largest car side (m); a bigger box is a room.
        car_wall_tol_m: a hit this close to the fitted box (m, plus 2 % of its range) is on a wall.
        car_max_open_fraction: most beams beyond the box (or without return) in a closed car.
        car_min_wall_fraction: least share of the hits on the box's walls.
        door_gap_min_deg: narrowest door gap (deg of beams beyond the box).
        door_gap_max_deg: widest door gap (deg).
        door_front_deg: the gap's centre lies within this angle of straight ahead (deg).
        laser_min_coverage_deg: a scan covering less than this (deg) says nothing.
        laser_rate_hz: most scans evaluated per second of scan time.
    """

    car_min_m: float = 0.9
    car_max_m: float = 3.5
    car_wall_tol_m: float = 0.15
    car_max_open_fraction: float = 0.05
    car_min_wall_fraction: float = 0.6
    door_gap_min_deg: float = 10.0
    door_gap_max_deg: float = 110.0
    door_front_deg: float = 60.0
    laser_min_coverage_deg: float = 170.0
    laser_rate_hz: float = 5.0

    def __post_init__(self) -> None:
        if not 0.0 < self.car_min_m < self.car_max_m:
            raise ConfigError(
                f'need 0 < car_min_m ({self.car_min_m}) < car_max_m ({self.car_max_m})'
            )
        if self.car_wall_tol_m <= 0.0:
            raise ConfigError('car_wall_tol_m must be > 0')
        for name in ('car_max_open_fraction', 'car_min_wall_fraction'):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f'{name} must lie in [0, 1]')
        if not 0.0 < self.door_gap_min_deg <= self.door_gap_max_deg <= 180.0:
            raise ConfigError('need 0 < door_gap_min_deg <= door_gap_max_deg <= 180')
        if not 0.0 <= self.door_front_deg <= 180.0:
            raise ConfigError('door_front_deg must lie in [0, 180]')
        if not 0.0 < self.laser_min_coverage_deg <= 360.0:
            raise ConfigError('laser_min_coverage_deg must lie in (0, 360]')
        if self.laser_rate_hz < 0.0:
            raise ConfigError('laser_rate_hz must be >= 0 (0 = every scan)')


@dataclass(frozen=True)
class LaserEvidence:
    """What one scan says about the car.

    Attributes:
        t: the scan's stamp (s).
        state: one of :data:`LASER_STATES`.
        size_m: the fitted box's sides (m, larger first); None when no box was fitted.
        beyond_fraction: share of the used beams beyond the box or without return.
        wall_fraction: share of the hits on the box's walls.
        gap_deg: width of the widest run of beyond beams (deg).
    """

    t: float
    state: str
    size_m: tuple[float, float] | None = None
    beyond_fraction: float = 1.0
    wall_fraction: float = 0.0
    gap_deg: float = 0.0

    def summary(self) -> dict[str, object]:
        """A small JSON-able dict for the published evidence."""
        out: dict[str, object] = {'state': self.state}
        if self.size_m is not None:
            out['size_m'] = [round(self.size_m[0], 2), round(self.size_m[1], 2)]
        if self.state == 'door_gap':
            out['gap_deg'] = round(self.gap_deg, 1)
        return out


def _runs(mask: NDArray[np.bool_], merge: int) -> list[tuple[int, int]]:
    """``(first, last)`` beam index of each run of True, runs closer than ``merge`` joined."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return []
    cut = np.flatnonzero(np.diff(idx) > merge + 1)
    starts = np.r_[idx[0], idx[cut + 1]]
    ends = np.r_[idx[cut], idx[-1]]
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _fit_walls(
    a: NDArray[np.float64], r_hit: NDArray[np.float64], used: NDArray[np.bool_], car_max_m: float
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.float64]]:
    """Per candidate heading: the four wall distances, which sides are unseen, and a score.

    Clear peaks (3 bins holding a fifth of the sector's hits) in the histogram of a sector's
    hits projected on its axis are walls; within a 90 deg sector, hits on a wall along the axis
    spread thinly over many bins. A side's wall is its farthest peak that keeps the box within
    ``car_max_m`` of the opposite side's nearest peak, else its nearest: a person standing in
    the car peaks nearer than the car wall behind them, and the corridor wall seen through open
    doors peaks farther than any car. The score is the number of hits on the four chosen peaks;
    -1 where a seen side has no peak.
    """
    n_h, nb = _HEADINGS.size, _N_BINS
    rel = a[None, :] - _HEADINGS[:, None]
    sector = np.minimum(np.floor(np.mod(rel + np.pi / 4, 2 * np.pi) / (np.pi / 2)), 3).astype(int)
    unseen = np.stack([~((sector == s) & used[None, :]).any(axis=1) for s in range(4)], axis=1)
    d = r_hit[None, :] * np.cos(rel - sector * (np.pi / 2))  # along the beam's own sector axis
    b = np.floor(np.nan_to_num(d, nan=-1.0) / _BIN_M).astype(np.int64)
    ok = (b >= 0) & (b < nb)
    row = np.arange(n_h)[:, None] * 4 + sector
    counts = np.bincount((row * nb + b)[ok], minlength=n_h * 4 * nb).reshape(n_h, 4, nb)
    c3 = counts[..., :-2] + counts[..., 1:-1] + counts[..., 2:]  # bins i .. i+2
    need = np.maximum(_MIN_PEAK, _PEAK_SHARE * counts.sum(axis=-1, keepdims=True))
    sig = c3 >= need
    first = np.argmax(sig, axis=-1)
    found = sig.any(axis=-1)
    # the farthest peak that keeps the side car-sized against the opposite side's nearest peak
    nearest = np.where(found, (first + 1.5) * _BIN_M, np.inf)
    nearest[unseen] = 0.0
    limit = car_max_m - nearest[:, [2, 3, 0, 1]]
    fits = sig & ((np.arange(nb - 2) + 1.5) * _BIN_M <= limit[..., None])
    pick = np.where(fits.any(axis=-1), nb - 3 - np.argmax(fits[..., ::-1], axis=-1), first)
    win = pick[..., None] + np.arange(3)
    j = np.argmax(np.take_along_axis(counts, win, axis=-1), axis=-1)  # the peak bin in 3
    walls = np.where(found, (pick + j + 0.5) * _BIN_M, np.nan)
    walls[unseen] = 0.0
    peak = np.take_along_axis(c3, pick[..., None], axis=-1)[..., 0]
    score = (peak * found).sum(axis=1).astype(np.float64)
    score[(~found & ~unseen).any(axis=1)] = -1.0
    return walls, unseen, score


def scan_evidence(rec: ScanRecord, params: LaserParams | None = None) -> LaserEvidence:
    """Classify one scan as ``enclosed``, ``door_gap``, ``open`` or ``unknown`` (module doc)."""
    p = params or LaserParams()
    r = np.asarray(rec.ranges, dtype=np.float64)
    n = r.size
    inc = float(rec.angle_increment)
    if n < _MIN_BEAMS or not math.isfinite(inc) or inc == 0.0:
        return LaserEvidence(rec.t, 'unknown')
    a = rec.angle_min + inc * np.arange(n, dtype=np.float64)
    rmin = float(rec.range_min) if math.isfinite(rec.range_min) else 0.0
    rmax = float(rec.range_max) if rec.range_max > 0 else math.inf  # NaN or <= 0: no cap
    r = np.where(r == -np.inf, rmin, r)
    noret = (r == np.inf) | (np.isfinite(r) & (r > rmax))
    hit = np.isfinite(r) & (r >= rmin) & ~noret
    used = hit | noret
    n_used = int(used.sum())
    if n_used < _MIN_BEAMS or n_used * abs(math.degrees(inc)) < p.laser_min_coverage_deg:
        return LaserEvidence(rec.t, 'unknown')
    r_hit = np.where(hit, r, np.nan)
    walls, unseen_all, score = _fit_walls(a, r_hit, used, p.car_max_m)
    k = int(np.argmax(score))
    if score[k] < 0:  # some side has no wall at all: open space that way
        return LaserEvidence(rec.t, 'open')
    rel = a - _HEADINGS[k]
    u, v = r_hit * np.cos(rel), r_hit * np.sin(rel)
    tol = p.car_wall_tol_m + 0.02 * np.nan_to_num(r_hit, nan=0.0)
    lo_u, hi_u, lo_v, hi_v = -walls[k, 2], walls[k, 0], -walls[k, 3], walls[k, 1]
    inside = (u > lo_u - tol) & (u < hi_u + tol) & (v > lo_v - tol) & (v < hi_v + tol)
    side = np.minimum(
        np.minimum(np.abs(u - lo_u), np.abs(u - hi_u)),
        np.minimum(np.abs(v - lo_v), np.abs(v - hi_v)),
    )
    on_wall = inside & (side <= tol)
    w = walls[k]
    unseen = unseen_all[k]
    half = 0.5 * p.car_min_m
    sides = (w[0] + w[2], w[1] + w[3])
    mins = (
        half if unseen[0] or unseen[2] else p.car_min_m,
        half if unseen[1] or unseen[3] else p.car_min_m,
    )
    car_sized = all(lo <= s <= p.car_max_m for s, lo in zip(sides, mins, strict=True))
    beyond = (hit & ~inside) | noret
    beyond_frac = float(beyond[used].mean())
    wall_frac = float(on_wall.sum() / max(1, int(hit.sum())))
    deg = abs(math.degrees(inc))
    runs = [(i, j) for i, j in _runs(beyond & used, _RUN_MERGE_BEAMS)]
    widths = [(j - i + 1) * deg for i, j in runs]
    gap = max(widths, default=0.0)
    size = (max(sides), min(sides))
    ev = {
        'size_m': size,
        'beyond_fraction': beyond_frac,
        'wall_fraction': wall_frac,
        'gap_deg': gap,
    }
    if not car_sized or wall_frac < p.car_min_wall_fraction:
        return LaserEvidence(rec.t, 'open', **ev)  # type: ignore[arg-type]
    if beyond_frac <= p.car_max_open_fraction:
        return LaserEvidence(rec.t, 'enclosed', **ev)  # type: ignore[arg-type]
    wide = [(i, j) for (i, j), wd in zip(runs, widths, strict=True) if wd >= p.door_gap_min_deg]
    if len(wide) == 1 and wide[0] and gap <= p.door_gap_max_deg:
        i, j = wide[0]
        centre = math.degrees(math.remainder(0.5 * (a[i] + a[j]), 2 * math.pi))
        rest = beyond.copy()
        rest[i : j + 1] = False
        if abs(centre) <= p.door_front_deg and rest[used].mean() <= p.car_max_open_fraction:
            return LaserEvidence(rec.t, 'door_gap', **ev)  # type: ignore[arg-type]
    return LaserEvidence(rec.t, 'open', **ev)  # type: ignore[arg-type]


class LaserTracker:
    """The newest laser evidence, at most ``laser_rate_hz`` evaluations per second of scan time."""

    def __init__(self, params: LaserParams | None = None) -> None:
        self.params = params or LaserParams()
        self.latest: LaserEvidence | None = None
        self.evaluated = 0

    def reset(self) -> None:
        """Forget the newest evidence."""
        self.latest = None

    def on_scan(self, rec: ScanRecord) -> LaserEvidence | None:
        """Evaluate ``rec`` unless one was evaluated less than 1 / rate before it; the result."""
        last = self.latest
        rate = self.params.laser_rate_hz
        if last is not None and rate > 0.0 and 0.0 <= rec.t - last.t < 1.0 / rate:
            return None
        self.latest = scan_evidence(rec, self.params)
        self.evaluated += 1
        return self.latest

    def at(self, t: float, max_age_s: float) -> LaserEvidence | None:
        """The newest evidence if it is at most ``max_age_s`` older than ``t`` (and not newer)."""
        last = self.latest
        if last is None or not -max_age_s <= t - last.t <= max_age_s:
            return None
        return last


__all__ = ['LASER_STATES', 'LaserEvidence', 'LaserParams', 'LaserTracker', 'scan_evidence']
