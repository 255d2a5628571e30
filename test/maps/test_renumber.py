"""A floor renumbering: read from two floor tables, followed by the building and the mapper."""

from __future__ import annotations

import numpy as np
import pytest

from multifloor_slam.errors import InputDataError
from multifloor_slam.floors.floor_table import FloorTable
from multifloor_slam.maps.building import Building, ElevatorLink, FloorLayer
from multifloor_slam.maps.mapper import BuildingMapper
from multifloor_slam.maps.occupancy_layer import LayerParams, OccupancyLayer
from multifloor_slam.maps.renumber import (
    check_renumbering,
    renumber_floor,
    renumber_keys,
    table_renumbering,
)


def _layer(x: float) -> OccupancyLayer:
    """A layer with one wall at ``x`` (so layers can be told apart)."""
    layer = OccupancyLayer(LayerParams())
    ys = np.linspace(-2.0, 2.0, 40)
    ends = np.stack([np.full_like(ys, x), ys], 1)
    assert layer.integrate((0.0, 0.0), ends, np.ones(len(ys), bool)) == 'ok'
    return layer


def _building() -> Building:
    """L0, L1 (an express ride's 6.4 m floor) and L2 (9.6 m); one elevator serving all."""
    floors = {
        i: FloorLayer(i, _layer(2.0 + i), z, True) for i, z in [(0, 0.0), (1, 6.4), (2, 9.6)]
    }
    link = ElevatorLink(0)
    for i in floors:
        link.observe(i, (3.0 + 0.1 * i, 8.0))
        link.staging[i] = (4.0, 8.0, float(i))
        link.staging_method[i] = 'door'
    return Building(floors, [link])


def test_renumber_keys_moves_everything_at_once_and_pushes_out_a_stayer() -> None:
    assert renumber_keys({0: 'a', 1: 'b', 2: 'c'}, {1: 2, 2: 3}) == (
        {0: 'a', 2: 'b', 3: 'c'},
        {},
    )
    # An undo lands L2 back on 1, where the retracted floor's entry stays: that one goes.
    assert renumber_keys({0: 'a', 1: 'new', 2: 'b'}, {2: 1}) == ({0: 'a', 1: 'b'}, {1: 'new'})


def test_a_renumbering_must_be_one_to_one_and_in_range() -> None:
    assert check_renumbering({'1': 2, 3: 3}) == {1: 2}
    with pytest.raises(InputDataError, match='one number'):
        check_renumbering({1: 2, 2: 2, 3: 2})
    with pytest.raises(InputDataError, match='beyond'):
        check_renumbering({1: 500})
    with pytest.raises(InputDataError, match='integer'):
        check_renumbering({1: 'two'})


def test_the_tables_say_how_floors_were_renumbered_and_undone() -> None:
    table = FloorTable()
    table.add(0, 0.0)
    table.add(1, 6.4)
    table.add(2, 9.6, label='Roof')
    before = table.to_dict()
    made = table.add_new_floor(1, 3.2)  # the floor ridden past turns up
    assert made == {1: 2, 2: 3}
    after = table.to_dict()
    assert table_renumbering(before, after) == made
    table.observe(3, 9.9)  # a refined elevation is no renumbering
    assert table_renumbering(after, table.to_dict()) == {}
    # Retracted again: the floors move back, the retracted one has no match.
    undone = table.remove(1)
    assert table_renumbering(after, table.to_dict()) == undone == {2: 1, 3: 2}
    # A table missed in between changes nothing: the composition is read off as well.
    assert table_renumbering(before, table.to_dict()) == {}
    below = FloorTable.from_dict(before)
    below.add_new_floor(-1, -6.0)
    assert table_renumbering(before, below.to_dict()) == {}
    # No table yet, or tables learned apart (another reference floor): nothing to follow.
    assert table_renumbering(None, after) == {}
    other = dict(after, reference_index=1)
    assert table_renumbering(before, other) == {}


def test_the_building_follows_a_renumbering_and_its_undo() -> None:
    b = _building()
    layers = {i: fl.layer for i, fl in b.floors.items()}
    assert b.renumber({1: 2, 2: 3}) == {}
    assert sorted(b.floors) == [0, 2, 3]
    assert b.floors[2].layer is layers[1] and b.floors[3].layer is layers[2]
    assert [(i, fl.index, fl.label) for i, fl in b.floors.items()] == [
        (0, 0, 'L0'),
        (2, 2, 'L2'),
        (3, 3, 'L3'),
    ]
    assert b.floors[2].elevation_m == 6.4  # a floor keeps its elevation
    (link,) = b.links
    assert link.floors == [0, 2, 3] and link.positions[2] == pytest.approx((3.1, 8.0))
    assert sorted(link.counts) == [0, 2, 3] and link.staging[3] == (4.0, 8.0, 2.0)
    assert link.staging_method == {0: 'door', 2: 'door', 3: 'door'}
    # The skipped floor is mapped at 1, then the table retracts it: its layer is pushed out.
    b.floors[1] = FloorLayer(1, _layer(9.0), 3.2, True)
    link.observe(1, (3.0, 8.0))
    pushed = b.renumber({2: 1, 3: 2})
    assert list(pushed) == [1] and pushed[1].elevation_m == 3.2
    assert {i: fl.layer for i, fl in b.floors.items()} == layers
    assert [fl.index for fl in b.floors.values()] == [0, 1, 2]
    assert link.positions[1] == pytest.approx((3.1, 8.0)) and link.counts[1] == 1


def test_the_robots_floor_moves_unless_it_already_is_the_tables() -> None:
    assert renumber_floor(1, {1: 2}, table_floor=None) == 2
    assert renumber_floor(1, {1: 2}, table_floor=3) == 2  # table first: the old number moves
    assert renumber_floor(1, {1: 2}, table_floor=1) == 1  # floor/current came first
    assert renumber_floor(0, {1: 2}, table_floor=1) == 0


def test_the_mapper_moves_layers_elevations_fragments_and_its_floor() -> None:
    mapper = BuildingMapper.from_building(_building())
    top = mapper.floors[2].layer
    mapper.fragments.append((2, OccupancyLayer(LayerParams())))
    mapper.set_floor(0.0, 2)  # not started: it starts on L2
    mapper.add_altitude(0.0, 9.8)
    mapper.renumber({1: 2, 2: 3})
    assert mapper.current_floor == 3 and mapper.floors[3].layer is top
    assert [i for i, _ in mapper.fragments] == [3]
    mapper.add_altitude(1.0, 9.8)  # the elevation samples stayed with their floor
    assert mapper.floors[3].elevation_m == pytest.approx((9.6 + 9.8 + 9.8) / 3)
    assert mapper.building.floors is mapper.floors and 1 not in mapper.floors
    # floor/current came before the table: the robot already is on the table's floor 3.
    mapper.renumber({3: 4}, table_floor=3)
    assert mapper.current_floor == 3 and sorted(mapper.floors) == [0, 2, 4]
    assert mapper.floors[4].layer is top
