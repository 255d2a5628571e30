"""Copy a SLAM's own occupancy grid into a floor layer (``map_source='slam_map'``).

Some SLAMs are restarted on every floor and their map is better than what re-integrating the
scans gives. Their grid is in the SLAM frame, so it is warped through the SLAM -> floor transform
onto the layer's cells in one ``cv2.warpAffine`` (nearest neighbour, unknown cells left alone).
"""

from __future__ import annotations

import math
from typing import cast

import cv2
import numpy as np
from numpy.typing import NDArray

from multifloor_slam.maps.occupancy_layer import LayerParams, OccupancyLayer, Placement
from multifloor_slam.maps.scan_geometry import Pose, se2_inverse, transform_points


def grid_logodds(grid: NDArray[np.int8], params: LayerParams) -> NDArray[np.float32]:
    """OccupancyGrid values (-1 unknown, 0..100) as layer log-odds; NaN where unknown.

    Cells the SLAM calls occupied or free get the clamps, so they win over earlier scans.
    """
    v = grid.astype(np.float32)
    prob = np.clip(v / 100.0, 0.01, 0.99)
    lo = np.log(prob / (1.0 - prob)).astype(np.float32)
    lo[v >= params.occupied_thresh * 100.0] = params.l_max
    lo[(v >= 0) & (v <= params.free_thresh * 100.0)] = params.l_min
    lo[v < 0] = np.nan
    return lo


def warp_to_floor(
    logodds: NDArray[np.float32], resolution: float, pose: Pose, cell_m: float
) -> tuple[tuple[float, float], NDArray[np.float32]]:
    """Resample a grid whose cell (0, 0) corner sits at ``pose`` onto axis-aligned floor cells.

    Returns the lower-left corner of the result (on the ``cell_m`` lattice) and the result, NaN
    outside the source grid.
    """
    h, w = logodds.shape
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], np.float64) * resolution
    world = transform_points(corners, pose)
    c_lo: int = math.floor(world[:, 0].min() / cell_m)
    r_lo: int = math.floor(world[:, 1].min() / cell_m)
    c_hi: int = math.ceil(world[:, 0].max() / cell_m)
    r_hi: int = math.ceil(world[:, 1].max() / cell_m)
    # dst pixel (u, v) centre -> floor point -> SLAM-map pixel coordinates (centres at ints).
    inv = se2_inverse(pose)
    c, s = math.cos(inv[2]), math.sin(inv[2])
    k = cell_m / resolution
    bx = (c_lo + 0.5) * cell_m
    by = (r_lo + 0.5) * cell_m
    m = np.array(
        [
            [c * k, -s * k, (c * bx - s * by + inv[0]) / resolution - 0.5],
            [s * k, c * k, (s * bx + c * by + inv[1]) / resolution - 0.5],
        ]
    )
    out = cv2.warpAffine(
        logodds,
        m,
        (c_hi - c_lo, r_hi - r_lo),
        flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=float('nan'),
    )
    return (c_lo * cell_m, r_lo * cell_m), cast(NDArray[np.float32], out)


def paste_slam_grid(
    layer: OccupancyLayer,
    grid: NDArray[np.int8],
    resolution: float,
    pose: Pose,
    params: LayerParams,
    max_extent_m: float = math.inf,
) -> Placement:
    """Overwrite ``layer``'s cells with the known cells of a SLAM grid placed at ``pose``.

    ``grid`` is int8 -1..100 with rows = y up (OccupancyGrid order); ``pose`` is the grid's
    origin in the layer's (floor) frame; ``params`` turns the values into log-odds. Returns
    what the layer did with it (cells beyond its extent or maximum size are dropped; a grid
    with no cell within ``max_extent_m`` of the origin is refused before any warping).
    """
    reach = max_extent_m + resolution * math.hypot(*grid.shape)
    if abs(pose[0]) > reach or abs(pose[1]) > reach:
        return 'refused_extent'
    lo = grid_logodds(grid, params)
    origin, out = warp_to_floor(lo, resolution, pose, layer.resolution)
    return layer.set_region(origin, out)


__all__ = ['grid_logodds', 'paste_slam_grid', 'warp_to_floor']
