"""Where a robot of a given radius may stand on a floor: the traversable mask of its map.

Known free cells only (unknown counts as an obstacle, as Nav2's planners treat a trinary map
with ``allow_unknown: false``), eroded by the robot radius with one ``cv2.distanceTransform``.
The mask keeps the grid layout of :class:`~multifloor_slam.maps.occupancy_layer.OccupancyLayer`
(row 0 = lowest y), so world <-> cell conversions are the layer's, vectorised over arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from multifloor_slam.errors import ConfigError, InputDataError
from multifloor_slam.maps.building import FloorLayer
from multifloor_slam.maps.occupancy_layer import OccupancyLayer

#: Default robot radius (m): a small indoor base with a little margin.
ROBOT_RADIUS_M = 0.25


@dataclass(frozen=True)
class TrinaryGrid:
    """A floor map as OccupancyGrid values (100 occupied, 0 free, -1 unknown; row 0 = lowest y).

    What a saved Nav2 map or a ``nav_msgs/OccupancyGrid`` holds, for callers without a layer.
    """

    values: NDArray[np.int8]
    origin_xy: tuple[float, float]
    resolution: float


@dataclass(frozen=True)
class Mask:
    """The traversable cells of one floor, with the grid layout to convert to and from metres.

    Attributes:
        traversable: cells where the robot's centre may be (known free, >= radius from any
            occupied or unknown cell, the grid's edge counting as unknown).
        free: known free cells (before the erosion).
        clearance_m: distance (m) from each cell's centre to the nearest non-free cell's edge
            (0 on non-free cells).
        origin_xy: world position of the lower-left corner of cell (0, 0).
        resolution: cell size (m).
        robot_radius_m: the radius the mask was eroded by.
        occupied: occupied cells (walls; the rest of the non-free cells is unknown).
    """

    traversable: NDArray[np.bool_]
    free: NDArray[np.bool_]
    clearance_m: NDArray[np.float32]
    origin_xy: tuple[float, float]
    resolution: float
    robot_radius_m: float
    occupied: NDArray[np.bool_]

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        return (int(self.traversable.shape[0]), int(self.traversable.shape[1]))

    def to_cell(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(row, col) of the cells holding world points (may lie outside the grid)."""
        res = self.resolution
        col = np.floor((np.asarray(x, np.float64) - self.origin_xy[0]) / res).astype(np.int64)
        row = np.floor((np.asarray(y, np.float64) - self.origin_xy[1]) / res).astype(np.int64)
        return row, col

    def to_world(
        self, row: ArrayLike, col: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """World (x, y) of cell centres."""
        res = self.resolution
        x = self.origin_xy[0] + (np.asarray(col, np.float64) + 0.5) * res
        y = self.origin_xy[1] + (np.asarray(row, np.float64) + 0.5) * res
        return x, y

    def inside(self, row: ArrayLike, col: ArrayLike) -> NDArray[np.bool_]:
        """True for cells inside the grid."""
        r, c = np.asarray(row), np.asarray(col)
        h, w = self.shape
        return np.asarray((r >= 0) & (r < h) & (c >= 0) & (c < w), np.bool_)

    def lookup(self, grid: NDArray[np.bool_], x: ArrayLike, y: ArrayLike) -> NDArray[np.bool_]:
        """``grid`` (one of this mask's arrays) at world points; False outside the grid."""
        row, col = self.to_cell(x, y)
        ok = self.inside(row, col)
        out = np.zeros(ok.shape, np.bool_)
        out[ok] = grid[row[ok], col[ok]]
        return out

    def is_traversable(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.bool_]:
        """True where the robot's centre may be (vectorised over points)."""
        return self.lookup(self.traversable, x, y)

    def segments_clear(
        self, a: NDArray[np.float64], b: NDArray[np.float64], step_m: float | None = None
    ) -> NDArray[np.bool_]:
        """For (N, 2) start and end points: every sample along each segment is traversable.

        Samples every ``step_m`` (default half a cell), both ends included; one array lookup.
        """
        a, b = np.atleast_2d(np.asarray(a, np.float64)), np.atleast_2d(np.asarray(b, np.float64))
        if len(a) == 0:
            return np.zeros(0, np.bool_)
        step = step_m or self.resolution / 2.0
        length = np.hypot(*(b - a).T)
        n = int(np.ceil(float(length.max()) / step)) + 1
        t = np.linspace(0.0, 1.0, max(n, 2))
        pts = a[:, None, :] + (b - a)[:, None, :] * t[None, :, None]
        ok = self.is_traversable(pts[..., 0], pts[..., 1])
        return np.asarray(ok.all(axis=1), np.bool_)


def _grid_of(source: FloorLayer | OccupancyLayer | TrinaryGrid) -> TrinaryGrid:
    if isinstance(source, FloorLayer):
        source = source.layer
    if isinstance(source, OccupancyLayer):
        return TrinaryGrid(source.trinary(), source.origin_xy, source.resolution)
    if isinstance(source, TrinaryGrid):
        return source
    raise InputDataError(f'cannot take free space of a {type(source).__name__}')


def traversable(
    source: FloorLayer | OccupancyLayer | TrinaryGrid, robot_radius_m: float = ROBOT_RADIUS_M
) -> Mask:
    """The traversable mask of a floor map for a robot of radius ``robot_radius_m``.

    Raises:
        ConfigError: a negative radius.
        InputDataError: ``source`` is not a floor map, or its grid is not 2-D.
    """
    if not robot_radius_m >= 0.0:
        raise ConfigError(f'robot_radius_m must be >= 0, got {robot_radius_m}')
    grid = _grid_of(source)
    values = np.asarray(grid.values)
    if values.ndim != 2:
        raise InputDataError(f'a floor map must be a 2-D grid, got shape {values.shape}')
    free = values == 0
    h, w = free.shape
    if free.size == 0:
        clearance = np.zeros((h, w), np.float32)
    else:
        # A border of non-free cells: the grid's edge is unknown space.
        padded = np.zeros((h + 2, w + 2), np.uint8)
        padded[1:-1, 1:-1] = free
        dist = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
        # Distance between cell centres, less half a cell: to the obstacle cell's edge.
        clearance = np.where(free, (dist - 0.5) * grid.resolution, 0.0).astype(np.float32)
    trav = free & (clearance >= robot_radius_m)
    return Mask(
        trav,
        free,
        clearance,
        grid.origin_xy,
        float(grid.resolution),
        robot_radius_m,
        values == 100,
    )


__all__ = ['ROBOT_RADIUS_M', 'Mask', 'TrinaryGrid', 'traversable']
