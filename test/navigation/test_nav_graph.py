"""The floor roadmap: in traversable space, connected through doorways, tagged points joined."""

from __future__ import annotations

import numpy as np
import pytest

from multifloor_slam.errors import ConfigError
from multifloor_slam.navigation.free_space import TrinaryGrid, traversable
from multifloor_slam.navigation.nav_graph import NavGraphParams, build_nav_graph, roadmap

RES = 0.05


def _two_rooms_and_an_island() -> TrinaryGrid:
    """Rooms (0-6 m, 0-5 m) and (7-13 m, 0-5 m) joined by a 1 m doorway; a closed room beyond."""
    v = np.full((120, 340), 100, np.int8)
    v[1:99, 1:119] = 0
    v[1:99, 141:259] = 0
    v[40:60, 119:141] = 0  # doorway 1 m wide, 1.1 m long
    v[1:99, 281:339] = 0  # island: 14-17 m, no way in
    return TrinaryGrid(v, (0.0, 0.0), RES)


def _lanes_clear(mask, graph) -> np.ndarray:  # type: ignore[no-untyped-def]
    a, b = graph.vertices[graph.lanes[:, 0]], graph.vertices[graph.lanes[:, 1]]
    return mask.segments_clear(a, b, step_m=RES / 4)


def test_roadmap_connects_rooms_through_the_doorway_and_keeps_to_free_space() -> None:
    mask = traversable(_two_rooms_and_an_island(), 0.25)
    full = roadmap(mask)
    assert len(np.unique(full.components())) == 2  # the rooms, and the island
    graph = build_nav_graph(mask)
    assert len(np.unique(graph.components())) == 1
    assert graph.vertices[:, 0].max() < 13.0  # the island was pruned (the smaller piece)
    assert graph.vertices[:, 0].min() < 3.0 and graph.vertices[:, 0].max() > 10.0
    assert mask.is_traversable(graph.vertices[:, 0], graph.vertices[:, 1]).all()
    assert _lanes_clear(mask, graph).all()
    # About one vertex per square metre of traversable space; lanes no longer than 2 blocks.
    area = mask.traversable.sum() * RES * RES
    assert 0.5 * area < len(graph.vertices) < 1.5 * area
    length = np.hypot(*(graph.vertices[graph.lanes[:, 0]] - graph.vertices[graph.lanes[:, 1]]).T)
    assert length.max() < 2.0 * np.sqrt(5.0) + 0.1


def test_tagged_points_are_joined_and_keep_their_piece() -> None:
    mask = traversable(_two_rooms_and_an_island(), 0.25)
    points = np.array([[2.0, 2.0], [15.5, 2.5]])
    graph = build_nav_graph(mask, points, ['lift_0_staging', 'lift_1_staging'])
    labels = graph.components()
    a, b = graph.index('lift_0_staging'), graph.index('lift_1_staging')
    assert (graph.lanes == a).any() and (graph.lanes == b).any()
    assert labels[a] != labels[b]  # the island is kept: a tagged point lives there
    assert graph.vertices[b] == pytest.approx([15.5, 2.5])
    assert _lanes_clear(mask, graph).all()


def test_graph_parameters_are_checked() -> None:
    with pytest.raises(ConfigError, match='spacing_m'):
        NavGraphParams(spacing_m=0.0)
    empty = traversable(TrinaryGrid(np.full((10, 10), -1, np.int8), (0.0, 0.0), RES))
    graph = build_nav_graph(empty)
    assert graph.vertices.shape == (0, 2) and graph.lanes.shape == (0, 2)
