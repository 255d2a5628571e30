"""One floor's occupancy grid: log-odds cells, grown in chunks, updated by raster operations.

A scan's free area is its beam polygon, filled with ``cv2.fillPoly`` inside the scan's bounding
window only; hits are one ``np.unique`` over the endpoint cells. No per-beam Python loop, so one
core integrates over a thousand 360-beam scans per second at 5 cm cells
(``benchmarks/map_quality.py``).

Cell ``(row, col)`` of the grid covers world ``x in [(col0 + col) * res, (col0 + col + 1) * res)``
and the same for ``y`` with ``row0 + row``: row 0 is the *lowest* ``y`` (ROS OccupancyGrid order;
image files flip it).

**Bounded.** A layer never covers more than ``max_size_m`` along x or y, and never holds a cell
beyond ``extent_m`` from the floor frame's origin: :meth:`OccupancyLayer.integrate` cuts beams at
those bounds and refuses a scan taken from outside them, so a pose 10 km away cannot grow the grid
(it grew to 100 MB before; one at (100 km, 100 km) raised MemoryError). Grids loaded from files
are kept as they are and only refuse to grow past the bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, cast

import cv2
import numpy as np
from numpy.typing import NDArray

from multifloor_slam.errors import ConfigError

FloatArray = NDArray[np.float64]

_SHIFT = 3  # fillPoly fixed-point bits: 1/8 cell vertex precision.

#: A hit beam clears its own ray to this many cells short of the wall, along the wall's normal.
RAY_MARGIN_CELLS = 1.0
#: ... only when it meets the wall at most this oblique (cosine of the incidence; about 72 deg):
#: at grazing angles the ray's end runs along the wall and would erase it.
RAY_MIN_COS = 0.3

#: What :meth:`OccupancyLayer.integrate` and :meth:`OccupancyLayer.set_region` did with the data:
#: ``ok``; ``clipped_extent`` / ``clipped_size`` (taken, cut at the building extent or at the
#: layer's maximum size); ``refused_extent`` / ``refused_size`` (nothing taken: the scan's origin,
#: or the whole region, lies beyond the extent or beyond what the layer may grow to).
Placement = Literal['ok', 'clipped_extent', 'clipped_size', 'refused_extent', 'refused_size']


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


@dataclass(frozen=True)
class LayerParams:
    """Log-odds sensor model and grid layout.

    Attributes:
        resolution: cell size (m).
        l_hit: log-odds added to a cell a beam ends in.
        l_free: log-odds added to a cell a beam crosses (negative).
        l_min: lower clamp, so a wall that appears (a closed door) is learnt quickly.
        l_max: upper clamp, so a wall that disappears is unlearnt quickly.
        occupied_thresh: probability above which a cell is occupied (Nav2 ``occupied_thresh``).
        free_thresh: probability below which a cell is free (Nav2 ``free_thresh``).
        chunk_cells: the grid grows in squares of this many cells (fewer re-allocations).
        max_size_m: the grid never grows wider or taller than this (m, rounded down to whole
            chunks): data beyond it is cut off (memory stays bounded whatever the poses).
        extent_m: no cell beyond this distance (m) from the frame's origin along x or y.
    """

    resolution: float = 0.05
    l_hit: float = 0.85
    l_free: float = -0.4
    l_min: float = -2.0
    l_max: float = 3.5
    occupied_thresh: float = 0.65
    free_thresh: float = 0.25
    chunk_cells: int = 64
    max_size_m: float = 300.0
    extent_m: float = 1000.0

    def __post_init__(self) -> None:
        if not 0.005 <= self.resolution <= 1.0:
            raise ConfigError(f'resolution must be in [0.005, 1] m, got {self.resolution}')
        if self.l_hit <= 0 or self.l_free >= 0:
            raise ConfigError('l_hit must be > 0 and l_free < 0')
        if not self.l_min < 0 < self.l_max:
            raise ConfigError('need l_min < 0 < l_max')
        if not 0 < self.free_thresh < self.occupied_thresh < 1:
            raise ConfigError('need 0 < free_thresh < occupied_thresh < 1')
        if not 8 <= self.chunk_cells <= 4096:
            raise ConfigError(f'chunk_cells must be in [8, 4096], got {self.chunk_cells}')
        if not self.max_size_m >= self.chunk_cells * self.resolution:
            raise ConfigError(
                f'max_size_m must be >= one chunk ({self.chunk_cells * self.resolution:g} m), '
                f'got {self.max_size_m}'
            )
        if not 0 < self.extent_m <= 1e9:
            raise ConfigError(f'extent_m must be in (0, 1e9] m, got {self.extent_m}')

    @property
    def max_cells(self) -> int:
        """Largest width and height of the grid in cells (whole chunks)."""
        k = self.chunk_cells
        return max(k, int(self.max_size_m / self.resolution + 1e-9) // k * k)

    @property
    def extent_cells(self) -> tuple[int, int]:
        """First and last cell index (rows and columns alike) inside the extent."""
        inv = 1.0 / self.resolution
        return math.floor(-self.extent_m * inv + 1e-9), math.ceil(self.extent_m * inv - 1e-9) - 1

    @property
    def l_occupied(self) -> float:
        """Log-odds above which a cell counts as occupied."""
        return _logit(self.occupied_thresh)

    @property
    def l_free_thresh(self) -> float:
        """Log-odds below which a cell counts as free."""
        return _logit(self.free_thresh)


class OccupancyLayer:
    """A growable log-odds grid for one floor, in that floor's frame."""

    def __init__(self, params: LayerParams = LayerParams()) -> None:
        self.params = params
        self._max_cells = params.max_cells
        self._extent = params.extent_cells
        self._grid = np.zeros((0, 0), np.float32)
        self._row0 = 0
        self._col0 = 0
        self.version = 0  # bumped on every change, so publishers know what is new

    # ---- layout -------------------------------------------------------------------------------
    @property
    def resolution(self) -> float:
        """Cell size (m)."""
        return self.params.resolution

    @property
    def logodds(self) -> NDArray[np.float32]:
        """The log-odds grid (rows = y upwards); a view, do not keep it across updates."""
        return self._grid

    @property
    def origin_xy(self) -> tuple[float, float]:
        """World position of the lower-left corner of cell (0, 0)."""
        res = self.params.resolution
        return self._col0 * res, self._row0 * res

    @property
    def cell_offset(self) -> tuple[int, int]:
        """Global (row, col) index of cell (0, 0): grids of equal resolution align on it."""
        return self._row0, self._col0

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        return self._grid.shape

    @property
    def empty(self) -> bool:
        """True when nothing was ever observed."""
        return self._grid.size == 0 or not self._grid.any()

    def _window(self, row: int, col: int) -> tuple[int, int, int, int]:
        """Cells (r_lo, c_lo, r_hi, c_hi, inclusive) the grid may cover with data near row, col.

        A square of ``max_cells`` that holds the current grid, placed (chunk-aligned) as close to
        centred on ``row, col`` as that allows; a grid loaded larger than that is its own window.
        """
        m, k = self._max_cells, self.params.chunk_cells
        h, w = self._grid.shape
        r_lo, r_hi = _axis_window(row, self._row0, h if w else 0, m, k)
        c_lo, c_hi = _axis_window(col, self._col0, w if h else 0, m, k)
        return r_lo, c_lo, r_hi, c_hi

    def _in_extent(self, window: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        """A window of :meth:`_window` cut to the extent."""
        e_lo, e_hi = self._extent
        r_lo, c_lo, r_hi, c_hi = window
        return max(r_lo, e_lo), max(c_lo, e_lo), min(r_hi, e_hi), min(c_hi, e_hi)

    def _ensure(
        self,
        rmin: int,
        cmin: int,
        rmax: int,
        cmax: int,
        window: tuple[int, int, int, int] | None = None,
    ) -> None:
        """Grow (chunk-aligned) so global cells rmin..rmax, cmin..cmax (inclusive) exist.

        With a ``window`` (holding the requested cells) the grid grows no further than it and
        the grid it had.
        """
        h, w = self._grid.shape
        inside = h and rmin >= self._row0 and cmin >= self._col0
        if inside and rmax < self._row0 + h and cmax < self._col0 + w:
            return
        k = self.params.chunk_cells
        if h:
            rmin, cmin = min(rmin, self._row0), min(cmin, self._col0)
            rmax, cmax = max(rmax, self._row0 + h - 1), max(cmax, self._col0 + w - 1)
        r0, c0 = (rmin // k) * k, (cmin // k) * k
        r1, c1 = (rmax // k + 1) * k, (cmax // k + 1) * k
        if window is not None:  # (rmin.. include the old grid here)
            r0, c0 = max(r0, min(window[0], rmin)), max(c0, min(window[1], cmin))
            r1, c1 = min(r1, max(window[2], rmax) + 1), min(c1, max(window[3], cmax) + 1)
        grid = np.zeros((r1 - r0, c1 - c0), np.float32)
        if h:
            dr, dc = self._row0 - r0, self._col0 - c0
            grid[dr : dr + h, dc : dc + w] = self._grid
        self._grid, self._row0, self._col0 = grid, r0, c0

    # ---- updates ------------------------------------------------------------------------------
    def integrate(
        self,
        origin_xy: tuple[float, float],
        free_xy: FloatArray,
        hit: NDArray[np.bool_],
        full_circle: bool = False,
    ) -> Placement:
        """Add one scan, all coordinates in this layer's frame.

        Beams are cut where they leave the extent or the largest grid the layer may grow to
        (a cut beam ends free, not in a hit); a scan whose origin lies outside them is refused.

        Args:
            origin_xy: sensor position.
            free_xy: (N, 2) beam ends in beam order (see :class:`ScanPoints`).
            hit: (N,) which beam ends are obstacles.
            full_circle: the beams go all round, so the polygon needs no apex at the sensor.

        Returns:
            what was done (:data:`Placement`); ``ok`` for fewer than two beams (nothing to do).
        """
        if free_xy.shape[0] < 2:
            return 'ok'
        p = self.params
        inv = 1.0 / p.resolution
        ox, oy = origin_xy[0] * inv, origin_xy[1] * inv
        e_lo, e_hi = self._extent
        if not (e_lo <= ox < e_hi + 1 and e_lo <= oy < e_hi + 1):  # (False for NaN)
            return 'refused_extent'
        allowed = self._window(math.floor(oy), math.floor(ox))
        r_lo, c_lo, r_hi, c_hi = self._in_extent(allowed)
        if not (c_lo <= ox < c_hi + 1 and r_lo <= oy < r_hi + 1):
            return 'refused_size'
        with np.errstate(over='ignore', invalid='ignore'):
            f = free_xy * inv  # cell coordinates
        f_min, f_max = f.min(axis=0), f.max(axis=0)
        x_hi = math.nextafter(c_hi + 1.0, -math.inf)  # (the last allowed cell)
        y_hi = math.nextafter(r_hi + 1.0, -math.inf)
        placed: Placement = 'ok'
        if not (f_min[0] >= c_lo and f_min[1] >= r_lo and f_max[0] <= x_hi and f_max[1] <= y_hi):
            with np.errstate(invalid='ignore'):
                in_extent = (f >= e_lo) & (f < e_hi + 1)  # (False for NaN)
            beyond_extent = not in_extent.all()
            box = (np.array([c_lo, r_lo], np.float64), np.array([x_hi, y_hi]))
            f, hit, cut = _cut_beams(f, hit, (ox, oy), *box)
            if cut:
                placed = 'clipped_extent' if beyond_extent else 'clipped_size'
            f_min, f_max = f.min(axis=0), f.max(axis=0)
        # The free polygon stops one cell short of every hit, and no beam's free part reaches
        # beyond its neighbours' (minus that cell): an edge of the polygon between two beam ends
        # then never runs along a wall seen at a grazing angle or past a corner, which would
        # erode thin walls.
        dx, dy = f[:, 0] - ox, f[:, 1] - oy
        dist = np.hypot(dx, dy)
        usable = dist > 1e-6  # zero-length beams are unusable ones: they limit no neighbour
        eff = np.where(usable, np.maximum(dist - hit, 0.0), np.inf)
        lim = eff.copy()
        np.minimum(lim[1:], eff[:-1], out=lim[1:])
        np.minimum(lim[:-1], eff[1:], out=lim[:-1])
        if full_circle:
            lim[0] = min(lim[0], eff[-1])
            lim[-1] = min(lim[-1], eff[0])
        scale_len = np.where(usable, lim, 0.0) / np.maximum(dist, 1e-9)
        # Each hit beam also clears its own ray to a cell short of the wall (normal; a spike in
        # the polygon): the min-filter alone never cleared stray hits two cells in front of
        # walls seen at 30-70 deg (simulator, 12 floors: L3 1.7 % contamination).
        ray = _ray_reach(dx, dy, dist, hit, usable, full_circle)
        spike = ray > lim + 0.5  # (a ray no longer than the polygon adds no vertices)
        if spike.any():
            reps = np.where(spike, 3, 1)
            mid = (np.cumsum(reps) - 2)[spike]
            scale_len = np.repeat(scale_len, reps)
            scale_len[mid] = ray[spike] / dist[spike]
            dx, dy = np.repeat(dx, reps), np.repeat(dy, reps)
        poly = np.empty((scale_len.shape[0], 2))
        poly[:, 0] = ox + dx * scale_len
        poly[:, 1] = oy + dy * scale_len

        lo = np.floor(np.minimum(f_min, (ox, oy))).astype(np.int64)
        hi = np.floor(np.maximum(f_max, (ox, oy))).astype(np.int64)
        self._ensure(int(lo[1]), int(lo[0]), int(hi[1]), int(hi[0]), (r_lo, c_lo, r_hi, c_hi))
        r0, c0 = int(lo[1]) - self._row0, int(lo[0]) - self._col0
        h, w = int(hi[1] - lo[1]) + 1, int(hi[0] - lo[0]) + 1
        window = self._grid[r0 : r0 + h, c0 : c0 + w]

        # Pixel centres are integers in cv2: cell i (covering [i, i+1)) has its centre at i + 0.5.
        scale = float(1 << _SHIFT)
        pts = (poly - (lo[0] + 0.5, lo[1] + 0.5)) * scale
        if not full_circle:
            apex = np.array([[(ox - lo[0] - 0.5) * scale, (oy - lo[1] - 0.5) * scale]])
            pts = np.vstack([apex, pts])
        # The free update drawn as values (l_free inside, 0 outside) and added unmasked: 1.7x
        # faster than a masked cv2.add of a constant.
        free = np.zeros((h, w), np.float32)
        cv2.fillPoly(free, [np.rint(pts).astype(np.int32)], p.l_free, cv2.LINE_8, _SHIFT)

        hits = np.floor(f[hit]).astype(np.int64) - lo
        flat = hits[:, 1] * w + hits[:, 0]  # (a cell hit twice is written twice, same value)
        free.ravel()[flat] = 0.0
        rows, cols = np.divmod(flat, w)
        # cv2 arithmetic on the window view, in place (4x faster than boolean indexing).
        # (a Python float is a cv2 Scalar; OpenCV 4's stubs only know arrays there, 5's both)
        cv2.add(window, free, dst=window)
        cv2.max(window, cast(Any, p.l_min), dst=window)
        window[rows, cols] = np.minimum(window[rows, cols] + np.float32(p.l_hit), p.l_max)
        self.version += 1
        return placed

    def set_region(
        self, origin_xy: tuple[float, float], logodds: NDArray[np.float32]
    ) -> Placement:
        """Overwrite the known cells (NaN = keep) of a region, to take a SLAM's own map.

        ``origin_xy`` is the region's lower-left corner, snapped to this grid. The part beyond
        the extent or the layer's maximum size (placed around the region's centre) is dropped.
        """
        inv = 1.0 / self.params.resolution
        h, w = logodds.shape
        if not h or not w:
            return 'ok'
        ox, oy = origin_xy[0] * inv, origin_xy[1] * inv
        if not (math.isfinite(ox) and math.isfinite(oy)):
            return 'refused_extent'
        c_lo, r_lo = round(ox), round(oy)
        r_hi, c_hi = r_lo + h - 1, c_lo + w - 1
        e_lo, e_hi = self._extent
        window_cells = self._window(r_lo + h // 2, c_lo + w // 2)
        b_r0, b_c0, b_r1, b_c1 = self._in_extent(window_cells)
        r_a, r_b = max(r_lo, b_r0), min(r_hi, b_r1)
        c_a, c_b = max(c_lo, b_c0), min(c_hi, b_c1)
        beyond_extent = min(r_lo, c_lo) < e_lo or max(r_hi, c_hi) > e_hi
        if r_b < r_a or c_b < c_a:
            return 'refused_extent' if beyond_extent else 'refused_size'
        placed: Placement = 'ok'
        if (r_a, r_b, c_a, c_b) != (r_lo, r_hi, c_lo, c_hi):
            placed = 'clipped_extent' if beyond_extent else 'clipped_size'
            logodds = logodds[r_a - r_lo : r_b - r_lo + 1, c_a - c_lo : c_b - c_lo + 1]
            r_lo, c_lo, h, w = r_a, c_a, r_b - r_a + 1, c_b - c_a + 1
        self._ensure(r_lo, c_lo, r_lo + h - 1, c_lo + w - 1, (b_r0, b_c0, b_r1, b_c1))
        r0, c0 = r_lo - self._row0, c_lo - self._col0
        window = self._grid[r0 : r0 + h, c0 : c0 + w]
        known = ~np.isnan(logodds)
        window[known] = logodds[known]
        self.version += 1
        return placed

    def load_grid(self, logodds: NDArray[np.float32], cell_offset: tuple[int, int]) -> None:
        """Replace the whole grid (used when loading files)."""
        self._grid = np.ascontiguousarray(logodds, dtype=np.float32)
        self._row0, self._col0 = int(cell_offset[0]), int(cell_offset[1])
        self.version += 1

    def with_params(self, params: LayerParams) -> OccupancyLayer:
        """This grid (a copy) under another sensor model; ``self`` when ``params`` are the same."""
        if params == self.params:
            return self
        if params.resolution != self.params.resolution:
            raise ConfigError(
                f'cannot reinterpret a {self.params.resolution} m grid at {params.resolution} m'
            )
        out = OccupancyLayer(params)
        out.load_grid(self._grid.copy(), self.cell_offset)
        return out

    # ---- views --------------------------------------------------------------------------------
    def trinary(self) -> NDArray[np.int8]:
        """OccupancyGrid values: 100 occupied, 0 free, -1 unknown.

        That is what Nav2 reads from a trinary map file, so the live topic and the file agree.
        """
        p = self.params
        out = np.full(self._grid.shape, -1, np.int8)
        out[self._grid < p.l_free_thresh] = 0
        out[self._grid > p.l_occupied] = 100
        return out

    def occupied_mask(self) -> NDArray[np.bool_]:
        """Cells above the occupied threshold."""
        return self._grid > self.params.l_occupied

    def free_mask(self) -> NDArray[np.bool_]:
        """Cells below the free threshold."""
        return self._grid < self.params.l_free_thresh

    def occupied_points(self, bbox: tuple[float, float, float, float] | None = None) -> FloatArray:
        """Centres (N, 2) of occupied cells, optionally inside (xmin, ymin, xmax, ymax)."""
        res = self.params.resolution
        occ = self.occupied_mask()
        r_off, c_off = 0, 0
        if bbox is not None and occ.size:
            xmin, ymin, xmax, ymax = bbox
            c_a = max(0, math.floor(xmin / res) - self._col0)
            r_a = max(0, math.floor(ymin / res) - self._row0)
            c_b = min(occ.shape[1], math.floor(xmax / res) - self._col0 + 1)
            r_b = min(occ.shape[0], math.floor(ymax / res) - self._row0 + 1)
            if c_b <= c_a or r_b <= r_a:
                return np.zeros((0, 2))
            occ = occ[r_a:r_b, c_a:c_b]
            r_off, c_off = r_a, c_a
        rows, cols = np.nonzero(occ)
        return np.column_stack(
            [
                (cols + c_off + self._col0 + 0.5) * res,
                (rows + r_off + self._row0 + 0.5) * res,
            ]
        )


def _axis_window(o: int, g0: int, n: int, m: int, k: int) -> tuple[int, int]:
    """First and last cell of an axis of at most ``m`` cells holding cells g0..g0+n-1, near o.

    Chunk-aligned (``k``) for a chunk-aligned grid, as centred on ``o`` as the grid allows; an
    empty grid (``n == 0``) centres it on ``o``; a grid already ``m`` or longer is its own window.
    """
    if n >= m:
        return g0, g0 + n - 1
    lo = ((o - m // 2) // k) * k
    if n:
        lo = min(max(lo, g0 + n - m), g0)
    return lo, lo + m - 1


def _ray_reach(
    dx: FloatArray,
    dy: FloatArray,
    dist: FloatArray,
    hit: NDArray[np.bool_],
    usable: NDArray[np.bool_],
    full_circle: bool,
) -> FloatArray:
    """How far (cells) each hit beam clears along its own ray; 0 where it clears no further.

    Short of its hit by ``RAY_MARGIN_CELLS`` along the wall's normal, ``1 / cos(incidence)``
    along the ray. The wall is taken as the line to the neighbouring beam's end (the more
    oblique side counts): beams beyond ``RAY_MIN_COS``, next to a range jump (a door's edge,
    a corner) or to an unusable beam, and no-return beams keep their share of the polygon only.
    (May be negative: the caller keeps the polygon wherever it reaches further.)
    """
    n = dist.shape[0]
    wrap = int(full_circle and n > 2)  # (a full circle: the last beam's neighbour is the first)
    sx, sy = np.diff(np.append(dx, dx[:wrap])), np.diff(np.append(dy, dy[:wrap]))
    m = sx.shape[0]
    # |sin| of the angle between ray i and the piece of wall to the next end: cos(incidence)
    cos_pair = np.abs(dx[:m] * sy - dy[:m] * sx)
    cos_pair /= dist[:m] * np.hypot(sx, sy) + 1e-9
    if not usable.all():
        cos_pair[~(usable[:m] & np.roll(usable, -1)[:m])] = 0.0
    cos_inc = np.zeros(n)  # (a beam at either end of an open scan has one side unseen: no ray)
    np.minimum(cos_pair[1:], cos_pair[:-1], out=cos_inc[1:m])
    if wrap:
        cos_inc[0] = min(cos_pair[0], cos_pair[-1])
    ok = hit & (cos_inc >= RAY_MIN_COS)
    reach = dist - RAY_MARGIN_CELLS / np.maximum(cos_inc, 1e-9)
    return np.where(ok, reach, 0.0)


def _cut_beams(
    f: FloatArray,
    hit: NDArray[np.bool_],
    o: tuple[float, float],
    lo: FloatArray,
    hi: FloatArray,
) -> tuple[FloatArray, NDArray[np.bool_], bool]:
    """Beam ends ``f`` (cells) cut where the beam from ``o`` leaves the box ``lo``..``hi``.

    ``o`` lies in the box. A cut beam, or one with a non-finite end, is no hit; a non-finite
    end becomes ``o`` (an unusable beam). Returns the ends, the hits and whether any was cut.
    """
    f = f.copy()
    finite = np.isfinite(f).all(axis=1)
    f[~finite] = o
    d = f - np.asarray(o)
    with np.errstate(divide='ignore', invalid='ignore'):
        t_hi = np.where(d > 0, (hi - o) / d, np.inf)
        t_lo = np.where(d < 0, (lo - o) / d, np.inf)
    t = np.minimum(np.minimum(t_hi, t_lo).min(axis=1), 1.0)
    cut = t < 1.0
    if cut.any():
        f[cut] = o + d[cut] * np.maximum(t[cut], 0.0)[:, None]
        np.clip(f, lo, hi, out=f)  # (rounding)
    gone = cut | ~finite
    return f, hit & ~gone, bool(gone.any())


__all__ = ['LayerParams', 'OccupancyLayer', 'Placement']
