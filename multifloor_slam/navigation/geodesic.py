"""Geodesic distance through a traversable mask: 8-connected Dijkstra and line-of-sight shortcuts.

A floor's traversable cells become the nodes of a sparse graph (edges of 1 cell to the 4
neighbours, sqrt(2) cells to the diagonals; a diagonal only where both cells beside it are
traversable, so a path never squeezes between two blocked corners). ``scipy.sparse.csgraph``
runs Dijkstra from a few sources at once in C; the result keeps its predecessors so paths are
read back without another search. Everything is in cells; callers convert to metres.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra

Cell = tuple[int, int]
BoolGrid = NDArray[np.bool_]

#: Neighbour offsets (row, col) of the upper half: the graph is undirected.
_STEPS = ((0, 1, 1.0), (1, 0, 1.0), (1, 1, math.sqrt(2.0)), (1, -1, math.sqrt(2.0)))


def _shifted(mask: BoolGrid, dr: int, dc: int) -> tuple[slice, slice, slice, slice]:
    """Slices (a_rows, a_cols, b_rows, b_cols): cell a and its neighbour b = a + (dr, dc)."""
    h, w = mask.shape
    ar = slice(0, h - dr)
    br = slice(dr, h)
    if dc >= 0:
        ac, bc = slice(0, w - dc), slice(dc, w)
    else:
        ac, bc = slice(-dc, w), slice(0, w + dc)
    return ar, ac, br, bc


class GridGraph:
    """The 8-connected graph of a mask's True cells (built once per floor, reused per query)."""

    def __init__(self, mask: BoolGrid) -> None:
        self.mask = np.ascontiguousarray(mask, dtype=bool)
        self.shape: tuple[int, int] = (int(mask.shape[0]), int(mask.shape[1]))
        self.node = np.full(self.shape, -1, np.int64)
        rows, cols = np.nonzero(self.mask)
        self.rows = rows.astype(np.int64)
        self.cols = cols.astype(np.int64)
        self.node[rows, cols] = np.arange(len(rows))
        n = len(rows)
        src: list[NDArray[np.int64]] = []
        dst: list[NDArray[np.int64]] = []
        wts: list[NDArray[np.float64]] = []
        m = self.mask
        for dr, dc, weight in _STEPS:
            ar, ac, br, bc = _shifted(m, dr, dc)
            ok = m[ar, ac] & m[br, bc]
            if dr and dc:  # no corner cutting: both orthogonal cells must be open too
                ok &= m[br, ac] & m[ar, bc]
            a = self.node[ar, ac][ok]
            b = self.node[br, bc][ok]
            src.append(a)
            dst.append(b)
            wts.append(np.full(len(a), weight))
        a_all = np.concatenate(src) if src else np.zeros(0, np.int64)
        b_all = np.concatenate(dst) if dst else np.zeros(0, np.int64)
        w_all = np.concatenate(wts) if wts else np.zeros(0)
        self.graph: csr_matrix = coo_matrix((w_all, (a_all, b_all)), shape=(n, n)).tocsr()

    @property
    def nodes(self) -> int:
        """Number of traversable cells."""
        return len(self.rows)

    def inside(self, cell: Cell) -> bool:
        """Whether ``cell`` lies on the grid and is traversable."""
        r, c = cell
        return 0 <= r < self.shape[0] and 0 <= c < self.shape[1] and bool(self.mask[r, c])

    def fields(self, sources: Sequence[Cell]) -> list[DistanceField]:
        """Distance fields from each source cell (all traversable), one Dijkstra run."""
        idx = [int(self.node[r, c]) for r, c in sources]
        if any(i < 0 for i in idx):
            raise ValueError('every source must be a traversable cell')
        if not idx:
            return []
        dist, pred = dijkstra(self.graph, directed=False, indices=idx, return_predecessors=True)
        return [
            DistanceField(self, (int(src[0]), int(src[1])), dist[k], pred[k])
            for k, src in enumerate(sources)
        ]

    def field(self, source: Cell) -> DistanceField:
        """Distance field from one source cell."""
        return self.fields([source])[0]


@dataclass
class DistanceField:
    """Distances (cells) from one source to every traversable cell, with the shortest-path tree."""

    graph: GridGraph
    source: Cell
    dist: NDArray[np.float64]
    pred: NDArray[np.int32]

    def distance(self, cell: Cell) -> float:
        """Geodesic distance (cells) to ``cell``; inf when blocked or unreachable."""
        i = int(self.graph.node[cell]) if self.graph.inside(cell) else -1
        return float(self.dist[i]) if i >= 0 else math.inf

    def path_to(self, cell: Cell) -> NDArray[np.int64]:
        """Cells (n, 2) from the source to ``cell`` along the shortest path.

        Raises:
            ValueError: ``cell`` is unreachable from the source.
        """
        if not math.isfinite(self.distance(cell)):
            raise ValueError(f'cell {cell} is unreachable from {self.source}')
        i = int(self.graph.node[cell])
        chain = [i]
        pred = self.pred
        while pred[i] >= 0:
            i = int(pred[i])
            chain.append(i)
        nodes = np.asarray(chain[::-1], np.int64)
        return np.stack([self.graph.rows[nodes], self.graph.cols[nodes]], axis=1)

    def grid(self) -> NDArray[np.float64]:
        """The distances as a grid (inf where blocked or unreachable), for pictures."""
        out = np.full(self.graph.shape, np.inf)
        out[self.graph.rows, self.graph.cols] = self.dist
        return out


def line_of_sight(mask: BoolGrid, a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether the straight segment between cell centres ``a`` and ``b`` crosses only True cells.

    Samples every quarter cell and also checks the cells beside each sample in both axes where
    the segment passes near a cell corner, so a diagonal never slips through a wall's corner.
    """
    a0, a1 = float(a[0]), float(a[1])
    b0, b1 = float(b[0]), float(b[1])
    n = max(2, math.ceil(4.0 * max(abs(b0 - a0), abs(b1 - a1))) + 1)
    t = np.linspace(0.0, 1.0, n)
    r = a0 + (b0 - a0) * t + 0.5
    c = a1 + (b1 - a1) * t + 0.5
    h, w = mask.shape
    for dr, dc in ((0.0, 0.0), (0.3, 0.3), (-0.3, -0.3), (0.3, -0.3), (-0.3, 0.3)):
        ri = np.floor(r + dr).astype(np.int64)
        ci = np.floor(c + dc).astype(np.int64)
        if ri.min() < 0 or ci.min() < 0 or ri.max() >= h or ci.max() >= w:
            return False
        if not mask[ri, ci].all():
            return False
    return True


def shortcut(mask: BoolGrid, cells: NDArray[np.int64]) -> NDArray[np.int64]:
    """A grid path with its staircase removed: keep a cell only where line of sight breaks.

    Greedy string pulling: from the last kept cell, walk ahead while the straight segment stays
    in ``mask``; keep the last cell that could still be seen. Ends are always kept.
    """
    n = len(cells)
    if n <= 2:
        return cells.copy()
    keep = [0]
    i = 0
    while i < n - 1:
        # Gallop ahead, then bisect back to the farthest visible cell (visibility is nearly
        # monotone along a shortest path, and the exact farthest one is not needed).
        best, probe, step = i + 1, i + 1, 1
        while True:
            if line_of_sight(mask, cells[i], cells[probe]):
                best = probe
                if probe == n - 1:
                    break
                probe = min(n - 1, probe + step)
                step *= 2
                continue
            lo, hi = best, probe
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if line_of_sight(mask, cells[i], cells[mid]):
                    lo = mid
                else:
                    hi = mid
            best = lo
            break
        keep.append(best)
        i = best
    return cells[keep]


def polyline_length(points: NDArray[np.float64]) -> float:
    """Length of a polyline (same unit as the points)."""
    if len(points) < 2:
        return 0.0
    return float(np.hypot(*np.diff(points, axis=0).T).sum())


__all__ = [
    'Cell',
    'DistanceField',
    'GridGraph',
    'line_of_sight',
    'polyline_length',
    'shortcut',
]
