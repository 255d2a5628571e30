"""The mapper's state and the building it makes: layers, links, elevations, the current floor.

:class:`~multifloor_slam.maps.mapper.BuildingMapper` adds the inputs and the decisions on top;
this part holds what is kept per floor, and so what a floor renumbering
(:meth:`MapperState.renumber`, ``maps/renumber.py``) has to move.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeVar

from multifloor_slam.maps.alignment import AlignmentResult
from multifloor_slam.maps.building import Building, ElevatorLink, FloorLayer
from multifloor_slam.maps.elevations import FloorElevations
from multifloor_slam.maps.episodes import EpisodeTracker
from multifloor_slam.maps.occupancy_layer import OccupancyLayer
from multifloor_slam.maps.odometry import OdomYaw
from multifloor_slam.maps.params import MapperParams
from multifloor_slam.maps.pose_buffer import PoseBuffer
from multifloor_slam.maps.renumber import check_renumbering, renumber_floor
from multifloor_slam.maps.revisit import Revisit
from multifloor_slam.maps.scan_geometry import LaserScan, Pose
from multifloor_slam.maps.scan_queue import ScanQueue
from multifloor_slam.maps.stats import STAT_KEYS
from multifloor_slam.maps.travel import TravelGate

_DEFAULT_PARAMS = MapperParams()
_M = TypeVar('_M', bound='MapperState')


class MapperState:
    """What a :class:`~multifloor_slam.maps.mapper.BuildingMapper` keeps, and its building."""

    def __init__(self, params: MapperParams = _DEFAULT_PARAMS) -> None:
        self.params = params
        self._layer_params = params.layer_params()
        # No beam is longer than a layer's diagonal: it could not end in the layer.
        self._max_beam_m = math.sqrt(2.0) * params.max_layer_size_m + 1.0
        self._icp = params.icp_params()
        self._reg = params.registration_params()
        #: (floor, layer) of revisits that never verified: kept apart, never merged
        self.fragments: list[tuple[int, OccupancyLayer]] = []
        self._fragment: OccupancyLayer | None = None  # where this visit's scans go, if one
        self._floors: dict[int, FloorLayer] = {}
        self._links: list[ElevatorLink] = []
        buffer = (params.pose_max_gap_s, params.pose_max_age_s, params.pose_buffer_s)
        self._poses = PoseBuffer(*buffer)
        self._episodes = EpisodeTracker(
            self._poses, params.floor_settle_s, params.arrival_timeout_s, params.stand_limits()
        )
        self._odom = OdomYaw(*buffer)
        self._waiting: ScanQueue[LaserScan] = ScanQueue(max_len=1000)
        self._floor = params.initial_floor
        self._revisit: Revisit | None = None
        self._transform: Pose | None = None  # SLAM -> current floor frame
        self._started = False
        self._skip_visit = False
        self._elevations = FloorElevations(params.default_floor_height_m)
        self._car_xy: tuple[float, float] | None = None  # SLAM x, y of the car after a ride
        self._travel = TravelGate(params.min_travel_m, params.min_turn_deg)
        self.last_alignment: AlignmentResult | None = None
        self.floor_table: dict[str, Any] | None = None  # saved with the building when set
        self._stats: dict[str, int] = dict.fromkeys(STAT_KEYS, 0)

    # ---- the building -------------------------------------------------------------------------
    @property
    def building(self) -> Building:
        """The building so far, sharing this mapper's live layers, links and floor table.

        Reading it changes nothing: call :meth:`flush` first to include waiting scans.
        """
        p = self.params
        return Building(
            floors=self._floors,
            links=self._links,
            floor_table=self.floor_table,
            name=p.building_name,
            layer_params=self._layer_params,
            car_width_m=p.car_width_m,
            car_depth_m=p.car_depth_m,
        )

    @classmethod
    def from_building(cls: type[_M], building: Building, params: MapperParams | None = None) -> _M:
        """A mapper that continues ``building`` (its layers, links and floor table).

        The building's resolution wins over ``params`` (its layers keep theirs), and its name
        is taken unless ``params`` names the building. Layers made with other sensor-model
        parameters are re-made with this mapper's (same log-odds, same cells).
        """
        params = (params or MapperParams()).for_building(building.resolution, building.name)
        mapper = cls(params)
        for index, fl in building.floors.items():
            layer = fl.layer.with_params(mapper._layer_params)
            if layer is not fl.layer:
                fl = FloorLayer(fl.index, layer, fl.elevation_m, fl.elevation_measured)
            mapper._floors[index] = fl
            if fl.elevation_measured:
                mapper._elevations.set(fl.index, fl.elevation_m)
        mapper._links = list(building.links)
        mapper.floor_table = building.floor_table
        return mapper

    def renumber(self, mapping: Mapping[int, int], table_floor: int | None = None) -> None:
        """Follow the floor table's renumbering ``{old: new}``, all at once (``maps/renumber``).

        Layers, links, elevations, fragments, an open episode or revisit and the current floor
        (unless it already is ``table_floor``, the table's current floor) move. A layer pushed
        out (a retracted floor's) becomes a fragment; the robot's, a revisit of the new one.
        """
        mapping = check_renumbering(mapping)
        pushed = self.building.renumber(mapping)
        self.fragments[:] = [(mapping.get(f, f), ly) for f, ly in self.fragments]
        self.fragments += [(i, fl.layer) for i, fl in pushed.items()]
        self._elevations.renumber(mapping)
        ep, rv = self._episodes.episode, self._revisit
        if ep is not None:  # an open elevator episode's departure floor
            ep.from_floor = mapping.get(ep.from_floor, ep.from_floor)
        if rv is not None:
            rv.floor = mapping.get(rv.floor, rv.floor)
        self._floor = renumber_floor(self._floor, mapping, table_floor)
        for fl in self._floors.values():
            self._elevations.apply(fl)
        if self._floor in pushed and self._transform is not None and not self.in_elevator:
            self._begin(self._transform)  # (no revisit is pending: the transform is known)

    # ---- read-only state ----------------------------------------------------------------------
    @property
    def floors(self) -> dict[int, FloorLayer]:
        """Floor layers by index."""
        return self._floors

    @property
    def links(self) -> list[ElevatorLink]:
        """Elevator links, by id."""
        return self._links

    @property
    def stats(self) -> dict[str, int]:
        """Counters (a copy)."""
        return dict(self._stats)

    @property
    def current_floor(self) -> int:
        """The floor index scans go to."""
        return self._floor

    @property
    def transform(self) -> Pose | None:
        """SLAM frame -> current floor frame (None while not anchored)."""
        return self._transform

    @property
    def in_elevator(self) -> bool:
        """True during an elevator episode (no mapping)."""
        return self._episodes.episode is not None

    # ---- floors -------------------------------------------------------------------------------
    def _floor_layer(self, floor: int) -> FloorLayer:
        fl = self._floors.get(floor)
        if fl is None:
            fl = FloorLayer(floor, OccupancyLayer(self._layer_params), 0.0)
            self._elevations.apply(fl)
            self._floors[floor] = fl
        return fl

    def _begin(self, anchor: Pose = (0.0, 0.0, 0.0)) -> None:
        """First usable data: the SLAM frame becomes the start floor's (aligned if mapped)."""
        self._started = True
        existing = self._floors.get(self._floor)
        if existing is not None and not existing.layer.empty and self.params.icp_enabled:
            self._revisit, self._transform = Revisit(self._floor, anchor, None, None), None
        else:
            self._transform = anchor


__all__ = ['MapperState']
