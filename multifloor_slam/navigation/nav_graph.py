"""A navigation graph through a floor's free space: a grid roadmap on the clearance ridge.

The traversable mask is cut into square blocks of ``spacing_m``; each block that holds a
traversable cell contributes one vertex, at its cell farthest from walls (so vertices sit in the
middle of corridors and doorways). Neighbouring blocks are joined when the straight segment stays
in traversable space; a diagonal is dropped where two straight lanes already join its ends, and
blocks two apart are tried only where that joins two otherwise separate pieces. Tagged points
(elevator staging poses) are attached to their nearest visible vertices, and only the pieces that
hold a tagged point, or the largest piece, are kept. No skeletonisation library is needed
(``cv2.ximgproc`` and scikit-image may be absent); everything is array operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from multifloor_slam.errors import ConfigError
from multifloor_slam.navigation.free_space import ROBOT_RADIUS_M, Mask

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class NavGraphParams:
    """How a floor's graph is built.

    Attributes:
        spacing_m: roadmap block size: about one vertex per ``spacing_m`` of free space (m).
        robot_radius_m: lanes keep this far from walls and unknown space (m).
        attach_m: longest lane joining a tagged point to the roadmap (m).
        attach_k: a tagged point is joined to at most this many roadmap vertices.
    """

    spacing_m: float = 1.0
    robot_radius_m: float = ROBOT_RADIUS_M
    attach_m: float = 3.0
    attach_k: int = 3

    def __post_init__(self) -> None:
        if not 0.1 <= self.spacing_m <= 20.0:
            raise ConfigError(f'spacing_m must be in [0.1, 20] m, got {self.spacing_m}')
        if not 0.0 <= self.robot_radius_m <= 2.0:
            raise ConfigError(f'robot_radius_m must be in [0, 2] m, got {self.robot_radius_m}')
        if not self.attach_m > 0.0 or not self.attach_k >= 1:
            raise ConfigError('need attach_m > 0 and attach_k >= 1')


@dataclass(frozen=True)
class NavGraph:
    """Vertices (N, 2) in the floor frame (m) and undirected lanes (E, 2) as vertex indices.

    ``names`` holds the tagged points' names (``''`` for roadmap vertices).
    """

    vertices: FloatArray
    lanes: IntArray
    names: tuple[str, ...]

    def index(self, name: str) -> int:
        """Index of the vertex named ``name``."""
        return self.names.index(name)

    def components(self) -> IntArray:
        """Connected-component label of every vertex."""
        return _labels(len(self.vertices), self.lanes)


def _labels(n: int, lanes: IntArray) -> IntArray:
    if n == 0:
        return np.zeros(0, np.int64)
    ones = np.ones(len(lanes), np.int8)
    adj = coo_matrix((ones, (lanes[:, 0], lanes[:, 1])), shape=(n, n)) if len(lanes) else None
    if adj is None:
        return np.arange(n, dtype=np.int64)
    _, labels = connected_components(adj, directed=False)
    return np.asarray(labels, np.int64)


def _block_vertices(mask: Mask, b: int) -> tuple[IntArray, FloatArray]:
    """Per block: the vertex index (-1: none) and the vertices' world positions."""
    h, w = mask.shape
    bh, bw = -(-h // b), -(-w // b)
    score = np.full((bh * b, bw * b), -1.0, np.float32)
    score[:h, :w] = np.where(mask.traversable, mask.clearance_m, -1.0)
    blocks = score.reshape(bh, b, bw, b).transpose(0, 2, 1, 3).reshape(bh, bw, b * b)
    arg = np.argmax(blocks, axis=2)
    best = np.take_along_axis(blocks, arg[..., None], axis=2)[..., 0]
    has = best >= 0.0
    ids = np.full((bh, bw), -1, np.int64)
    ids[has] = np.arange(int(has.sum()))
    bi, bj = np.nonzero(has)
    rows = bi * b + arg[bi, bj] // b
    cols = bj * b + arg[bi, bj] % b
    x, y = mask.to_world(rows, cols)
    return ids, np.stack([x, y], axis=1)


def _pairs(ids: IntArray, di: int, dj: int) -> tuple[IntArray, IntArray, NDArray[np.bool_]]:
    """Vertex pairs of blocks (i, j) and (i + di, j + dj), with a full-grid validity mask."""
    h, w = ids.shape
    a = np.full((h, w), -1, np.int64)
    b = np.full((h, w), -1, np.int64)
    i0, i1 = 0, h - di
    j0, j1 = max(0, -dj), min(w, w - dj)
    a[i0:i1, j0:j1] = ids[i0:i1, j0:j1]
    b[i0:i1, j0:j1] = ids[i0 + di : i1 + di, j0 + dj : j1 + dj]
    return a, b, (a >= 0) & (b >= 0)


def _clear(mask: Mask, pts: FloatArray, a: IntArray, b: IntArray) -> NDArray[np.bool_]:
    if len(a) == 0:
        return np.zeros(0, np.bool_)
    return mask.segments_clear(pts[a], pts[b])


def roadmap(mask: Mask, params: NavGraphParams = NavGraphParams()) -> NavGraph:
    """The grid roadmap of a traversable mask (all its pieces; see :func:`build_nav_graph`)."""
    b = max(1, round(params.spacing_m / mask.resolution))
    ids, pts = _block_vertices(mask, b)
    ok: dict[tuple[int, int], NDArray[np.bool_]] = {}
    for d in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a, c, valid = _pairs(ids, *d)
        grid = np.zeros(ids.shape, np.bool_)
        grid[valid] = _clear(mask, pts, a[valid], c[valid])
        ok[d] = grid
    hh, vv = ok[(0, 1)], ok[(1, 0)]
    # Diagonal (i,j)-(i+1,j+1) is redundant when an L of straight lanes joins its ends; the
    # anti-diagonal (i,j+1)-(i+1,j) likewise (its pair of blocks lives at (i, j+1)).
    sh = np.zeros_like(hh)  # H at (i+1, j)
    sh[:-1] = hh[1:]
    sv = np.zeros_like(vv)  # V at (i, j+1)
    sv[:, :-1] = vv[:, 1:]
    d1 = ok[(1, 1)] & ~((hh & sv) | (vv & sh))
    anti = np.zeros_like(hh)
    anti[:, :-1] = ok[(1, -1)][:, 1:]  # re-indexed to (i, j) of the 2x2 square
    anti &= ~((hh & vv) | (sv & sh)) & ~d1
    keep = {(0, 1): hh, (1, 0): vv, (1, 1): d1}
    lanes = [_pairs(ids, *d)[:2] for d in keep]
    edges = [np.stack([a[keep[d]], c[keep[d]]], 1) for (a, c), d in zip(lanes, keep, strict=True)]
    a2, c2, _ = _pairs(ids, 1, -1)
    back = np.zeros_like(anti)
    back[:, 1:] = anti[:, :-1]
    edges.append(np.stack([a2[back], c2[back]], 1))
    out = np.concatenate(edges).astype(np.int64) if edges else np.zeros((0, 2), np.int64)
    # Blocks two apart, only where they join two pieces (a vertex pushed off-centre by clutter).
    labels = _labels(len(pts), out)
    extra = []
    for d in ((0, 2), (2, 0), (1, 2), (2, 1), (2, -1), (1, -2)):
        a, c, valid = _pairs(ids, *d)
        a, c = a[valid], c[valid]
        sel = labels[a] != labels[c]
        a, c = a[sel], c[sel]
        good = _clear(mask, pts, a, c)
        extra.append(np.stack([a[good], c[good]], 1))
    out = np.concatenate([out, *extra]).astype(np.int64)
    return NavGraph(pts, out, ('',) * len(pts))


def attach(
    graph: NavGraph,
    mask: Mask,
    points: FloatArray,
    names: list[str],
    params: NavGraphParams = NavGraphParams(),
) -> NavGraph:
    """``graph`` with tagged points added, each joined to its nearest visible vertices.

    A point joins up to ``attach_k`` roadmap vertices within ``attach_m`` whose segment to it
    stays traversable; tagged points close to each other are joined too.
    """
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    n0 = len(graph.vertices)
    verts = np.concatenate([graph.vertices, pts])
    new: list[IntArray] = []
    for k, p in enumerate(pts):
        d = np.hypot(*(verts[: n0 + k] - p).T)
        near = np.nonzero(d <= params.attach_m)[0]
        near = near[np.argsort(d[near])]
        if len(near) == 0:
            continue
        clear = mask.segments_clear(np.repeat(p[None], len(near), 0), verts[near])
        chosen = near[clear][: params.attach_k]
        new.append(np.stack([np.full(len(chosen), n0 + k), chosen], 1).astype(np.int64))
    lanes = np.concatenate([graph.lanes, *new])
    return NavGraph(verts, lanes.astype(np.int64), graph.names + tuple(names))


def prune(graph: NavGraph) -> NavGraph:
    """Only the pieces that hold a tagged point, or the largest piece when none does."""
    n = len(graph.vertices)
    if n == 0:
        return graph
    labels = graph.components()
    tagged = {int(labels[i]) for i, name in enumerate(graph.names) if name}
    if not tagged:
        tagged = {int(np.bincount(labels).argmax())}
    keep = np.isin(labels, sorted(tagged))
    new_index = np.cumsum(keep) - 1
    lanes = (
        graph.lanes[keep[graph.lanes[:, 0]] & keep[graph.lanes[:, 1]]]
        if len(graph.lanes)
        else graph.lanes
    )
    names = tuple(name for name, k in zip(graph.names, keep, strict=True) if k)
    return NavGraph(graph.vertices[keep], new_index[lanes].astype(np.int64), names)


def build_nav_graph(
    mask: Mask,
    points: FloatArray | None = None,
    names: list[str] | None = None,
    params: NavGraphParams = NavGraphParams(),
) -> NavGraph:
    """A floor's graph: roadmap, tagged points attached, pruned to the pieces that matter.

    ``mask`` should be eroded by ``params.robot_radius_m``.
    """
    graph = roadmap(mask, params)
    if points is not None and len(points):
        graph = attach(graph, mask, np.asarray(points, np.float64), list(names or []), params)
    return prune(graph)


__all__ = ['NavGraph', 'NavGraphParams', 'attach', 'build_nav_graph', 'prune', 'roadmap']
