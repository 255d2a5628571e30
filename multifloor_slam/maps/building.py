"""The building as data: floor layers, elevator links, the floor table; no algorithm.

The mapper builds a :class:`Building` and the file code (``io/building_files``) writes and reads
one, so neither has to import the other: the files never need the mapper, and the mapper never
needs the files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from multifloor_slam.floors.floor_table import floor_label
from multifloor_slam.maps.occupancy_layer import LayerParams, OccupancyLayer
from multifloor_slam.maps.params import MapperParams
from multifloor_slam.maps.renumber import check_renumbering, renumber_keys


@dataclass
class FloorLayer:
    """One floor: its index, label, elevation and occupancy layer (in the floor's frame)."""

    index: int
    layer: OccupancyLayer
    elevation_m: float
    elevation_measured: bool = False

    @property
    def label(self) -> str:
        """``L<index>`` / ``B<n>``."""
        return floor_label(self.index)


@dataclass
class ElevatorLink:
    """One elevator: the car position on every floor it served (running means, floor frames).

    ``staging`` is the tagged point of each floor: ``(x, y, yaw)`` in front of the doors, facing
    the car (``navigation/staging.py`` computes it from the floor map); ``staging_method`` says
    how (``door``: the opening was seen; ``nearest_free`` / ``car``: fallbacks; ``manual``: set
    by hand in ``building.yaml`` and never recomputed).
    """

    id: int
    positions: dict[int, tuple[float, float]] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)
    rides: int = 0
    staging: dict[int, tuple[float, float, float]] = field(default_factory=dict)
    staging_method: dict[int, str] = field(default_factory=dict)

    @property
    def floors(self) -> list[int]:
        """Floor indices served (seen), ascending."""
        return sorted(self.positions)

    @property
    def x(self) -> float:
        """Mean car x over the floors served."""
        return float(np.mean([p[0] for p in self.positions.values()]))

    @property
    def y(self) -> float:
        """Mean car y over the floors served."""
        return float(np.mean([p[1] for p in self.positions.values()]))

    def observe(self, floor: int, xy: tuple[float, float]) -> None:
        """Add one car position seen on ``floor``."""
        n = self.counts.get(floor, 0)
        if n == 0:
            self.positions[floor] = (float(xy[0]), float(xy[1]))
        else:
            px, py = self.positions[floor]
            self.positions[floor] = (px + (xy[0] - px) / (n + 1), py + (xy[1] - py) / (n + 1))
        self.counts[floor] = n + 1

    def renumber(self, mapping: Mapping[int, int]) -> None:
        """Positions, counts and staging poses follow a floor renumbering ``{old: new}``."""
        self.positions = renumber_keys(self.positions, mapping)[0]
        self.counts = renumber_keys(self.counts, mapping)[0]
        self.staging = renumber_keys(self.staging, mapping)[0]
        self.staging_method = renumber_keys(self.staging_method, mapping)[0]


@dataclass
class Building:
    """Everything a saved building holds: what the files write and what a mapper resumes from.

    Attributes:
        floors: floor layers by floor index.
        links: elevator links, by id.
        floor_table: the floor estimator's learned floor table (saved with the building when set).
        name: building name, the stem of the Open-RMF export and the picture.
        layer_params: the layers' sensor model and resolution (new layers are made with it).
        car_width_m: elevator car width for the Open-RMF export.
        car_depth_m: elevator car depth for the Open-RMF export.
    """

    floors: dict[int, FloorLayer]
    links: list[ElevatorLink]
    floor_table: dict[str, Any] | None = None
    name: str = MapperParams.building_name
    layer_params: LayerParams = field(default_factory=LayerParams)
    car_width_m: float = MapperParams.car_width_m
    car_depth_m: float = MapperParams.car_depth_m

    @property
    def resolution(self) -> float:
        """Cell size of the layers (m)."""
        return self.layer_params.resolution

    def renumber(self, mapping: Mapping[int, int]) -> dict[int, FloorLayer]:
        """Follow the floor table's renumbering ``{old: new}``: layers and links, all at once.

        Labels follow the indices. The floor table is the estimator's and already numbered so;
        it is not touched. Returns the layers pushed out by a moved one (a floor the table
        retracted), by their old index; InputDataError on an unusable mapping.
        """
        mapping = check_renumbering(mapping)
        moved, pushed_out = renumber_keys(self.floors, mapping)
        for index, fl in moved.items():
            fl.index = index
        self.floors.clear()  # in place: a mapper shares this dict
        self.floors.update(moved)
        for link in self.links:
            link.renumber(mapping)
        return pushed_out


__all__ = ['Building', 'ElevatorLink', 'FloorLayer', 'floor_label']
