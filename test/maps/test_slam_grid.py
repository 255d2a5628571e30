"""SLAM grids into floor layers: value mapping, the warp through the floor transform, pasting."""

from __future__ import annotations

import math

import numpy as np
import pytest

from multifloor_slam.maps.occupancy_layer import LayerParams, OccupancyLayer
from multifloor_slam.maps.scan_geometry import se2_inverse, transform_points
from multifloor_slam.maps.slam_grid import grid_logodds, paste_slam_grid, warp_to_floor

P = LayerParams()


def test_occupancy_values_map_to_clamped_log_odds_and_unknown_to_nan() -> None:
    grid = np.array([[-1, 0, 20, 40], [50, 60, 65, 100]], np.int8)
    lo = grid_logodds(grid, P)
    assert lo.dtype == np.float32
    assert np.isnan(lo[0, 0])
    assert lo[0, 1] == P.l_min and lo[0, 2] == P.l_min  # <= free_thresh: free, clamped
    assert lo[0, 3] == pytest.approx(math.log(0.4 / 0.6))
    assert lo[1, 0] == 0.0
    assert lo[1, 1] == pytest.approx(math.log(0.6 / 0.4))
    assert lo[1, 2] == P.l_max and lo[1, 3] == P.l_max  # >= occupied_thresh: occupied


@pytest.mark.parametrize(
    ('pose', 'src_res', 'cell_m'),
    [
        ((0.0, 0.0, 0.0), 0.05, 0.05),
        ((0.37, -1.13, 0.0), 0.05, 0.05),
        ((1.0, 2.0, math.pi / 2), 0.05, 0.05),
        ((0.31, -0.52, 0.5236), 0.05, 0.05),
        ((-2.0, 0.7, -2.0), 0.1, 0.05),
    ],
)
def test_every_warped_cell_is_the_source_cell_under_its_centre(
    pose: tuple[float, float, float], src_res: float, cell_m: float
) -> None:
    rng = np.random.default_rng(1)
    src = rng.uniform(-2, 3, (23, 31)).astype(np.float32)
    (ox, oy), out = warp_to_floor(src, src_res, pose, cell_m)
    assert round(ox / cell_m) * cell_m == pytest.approx(ox)  # on the floor's lattice
    rows, cols = np.indices(out.shape)
    centres = np.stack([ox + (cols.ravel() + 0.5) * cell_m, oy + (rows.ravel() + 0.5) * cell_m], 1)
    back = transform_points(centres, se2_inverse(pose)) / src_res
    c, r = np.floor(back[:, 0]).astype(int), np.floor(back[:, 1]).astype(int)
    inside = (r >= 0) & (r < src.shape[0]) & (c >= 0) & (c < src.shape[1])
    # Centres within a hair of a source cell border may round either way (nearest neighbour).
    frac = np.abs(back - np.round(back))
    clear = (frac > 1e-6).all(axis=1)
    got = out.ravel()
    np.testing.assert_array_equal(got[inside & clear], src[r[inside & clear], c[inside & clear]])
    assert np.isnan(got[~inside & clear]).all()
    assert np.count_nonzero(~np.isnan(got)) >= src.size * (src_res / cell_m) ** 2 * 0.99


def test_pasting_overwrites_known_cells_and_keeps_the_rest() -> None:
    layer = OccupancyLayer(P)
    before = np.full((10, 10), 1.0, np.float32)
    layer.load_grid(before, (0, 0))
    grid = np.full((4, 4), -1, np.int8)
    grid[1, 2] = 100
    grid[2, 2] = 0
    paste_slam_grid(layer, grid, 0.05, (0.1, 0.2, 0.0), P)  # 2 cells right, 4 up
    lo = layer.logodds
    assert lo[4 + 1, 2 + 2] == P.l_max
    assert lo[4 + 2, 2 + 2] == P.l_min
    changed = np.argwhere(lo != 1.0)
    assert sorted(map(tuple, changed.tolist())) == [(5, 4), (6, 4)]
