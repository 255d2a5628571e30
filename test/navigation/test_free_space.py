"""The traversable mask: erosion by the robot radius, unknown space, world <-> cell, segments."""

from __future__ import annotations

import numpy as np
import pytest

from multifloor_slam.errors import ConfigError, InputDataError
from multifloor_slam.maps.occupancy_layer import LayerParams, OccupancyLayer
from multifloor_slam.navigation.free_space import Mask, TrinaryGrid, traversable

RES = 0.05


def _room() -> TrinaryGrid:
    """A 4 m x 3 m free room walled in, an unknown pocket in the east, in a 5 m x 4 m grid."""
    v = np.full((80, 100), -1, np.int8)
    v[10:70, 10:90] = 100
    v[11:69, 11:89] = 0
    v[30:50, 70:89] = -1  # unknown pocket against the east wall
    return TrinaryGrid(v, (-1.0, 2.0), RES)


def test_mask_keeps_a_robot_radius_from_walls_and_unknown_space() -> None:
    mask = traversable(_room(), robot_radius_m=0.3)
    x, y = mask.to_world(*np.nonzero(mask.traversable))
    # Room interior: x in [-0.45, 3.45], y in [2.55, 5.45] (cell edges).
    assert x.min() >= -0.45 + 0.3 - 1e-9 and x.max() <= 3.45 - 0.3 + 1e-9
    assert y.min() >= 2.55 + 0.3 - 1e-9 and y.max() <= 5.45 - 0.3 + 1e-9
    assert x.min() < -0.45 + 0.3 + RES and y.max() > 5.45 - 0.3 - RES  # and no more than that
    # The unknown pocket (x >= 2.5, y in [3.5, 4.5)) is kept at a radius too.
    gap = np.hypot(np.maximum(2.5 - x, 0.0), np.maximum(np.abs(y - 4.0) - 0.5, 0.0))
    assert gap.min() >= 0.3 - 1e-9
    assert mask.is_traversable([1.0, 1.0, 3.3, -5.0], [4.0, 2.6, 4.0, 4.0]).tolist() == [
        True,
        False,
        False,
        False,
    ]
    assert mask.free.sum() > mask.traversable.sum() > 0


def test_a_larger_robot_gets_a_smaller_mask_and_a_corridor_narrower_than_it_none() -> None:
    v = np.full((40, 200), 100, np.int8)
    v[15:25, 5:195] = 0  # a corridor 0.5 m wide
    grid = TrinaryGrid(v, (0.0, 0.0), RES)
    assert traversable(grid, 0.2).traversable.any()
    assert not traversable(grid, 0.3).traversable.any()


def test_world_and_cell_conversions_are_inverse_and_vectorised() -> None:
    mask = traversable(_room())
    rows, cols = np.array([0, 5, 79]), np.array([0, 7, 99])
    x, y = mask.to_world(rows, cols)
    r, c = mask.to_cell(x, y)
    np.testing.assert_array_equal(r, rows)
    np.testing.assert_array_equal(c, cols)
    assert mask.to_cell(-1.0, 2.0) == (0, 0)
    assert mask.inside(np.array([-1, 0, 80]), np.array([0, 0, 0])).tolist() == [False, True, False]


def test_segments_are_clear_only_when_every_point_is_traversable() -> None:
    mask = traversable(_room(), 0.2)
    a = np.array([[0.0, 3.0], [0.0, 3.0], [0.0, 3.0]])
    b = np.array([[2.0, 5.0], [3.4, 4.0], [0.0, 9.0]])
    assert mask.segments_clear(a, b).tolist() == [True, False, False]
    assert mask.segments_clear(np.zeros((0, 2)), np.zeros((0, 2))).shape == (0,)


def test_a_layer_and_its_trinary_grid_give_the_same_mask() -> None:
    layer = OccupancyLayer(LayerParams(resolution=RES))
    grid = _room()
    lo = np.where(grid.values == 0, -2.0, np.where(grid.values == 100, 3.5, 0.0))
    layer.load_grid(lo.astype(np.float32), (40, -20))
    a, b = traversable(layer), traversable(grid)
    np.testing.assert_array_equal(a.traversable, b.traversable)
    assert a.origin_xy == pytest.approx(b.origin_xy)
    assert isinstance(a, Mask)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ConfigError, match='robot_radius_m'):
        traversable(_room(), -0.1)
    with pytest.raises(InputDataError, match='2-D'):
        traversable(TrinaryGrid(np.zeros(5, np.int8), (0.0, 0.0), RES))
    with pytest.raises(InputDataError, match='str'):
        traversable('L0.yaml')  # type: ignore[arg-type]
