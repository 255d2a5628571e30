"""The map stage: scans, poses and the floor estimator's outputs in, floor layers out.

Live (``floor_map_manager``) and offline (``process``) run this same object. The decisions:

- **event time**: ``floor/current``, ``floor/riding``, ``floor/altitude`` carry no header, so
  they are timed by the stage's data clock (the newest scan or pose stamp; before any data
  only their order counts). A live run, a ``use_sim_time`` replay, a replay without
  ``/clock`` and ``process`` all order events and scans the same way.
- **elevator state**: timed by the frame stamp the detector wrote, else by the data clock.
- **altitude**: reaches the mapper at most every ``altitude_period_s`` of data time (it only
  averages it into floor elevations); floor elevations come from these altitudes alone.
- **start floor**: scans wait (are counted and dropped) until the first ``floor/current``
  arrives, for at most ``floor_wait_s`` of data time; then the mapper's ``initial_floor``
  holds. The floor estimator publishes its start floor latched, so normally nothing waits.
- **floor table**: the newest ``floor/table`` is saved with the building.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from multifloor_slam.io.building_files import save_building
from multifloor_slam.io.records import (
    BoolRecord,
    ElevatorStateRecord,
    FloorRecord,
    FloorTableRecord,
    GridRecord,
    PoseRecord,
    Record,
    ScanRecord,
    ValueRecord,
)
from multifloor_slam.maps.mapper import BuildingMapper


@dataclass(frozen=True)
class MapStageParams:
    """How records reach the mapper (the mapper's own parameters are separate).

    Attributes:
        altitude_period_s: pass ``floor/altitude`` to the mapper at most this often (s of data
            time); it only averages altitudes into floor elevations.
        floor_wait_s: at start, drop scans for up to this long (s of data time) until the
            floor estimator says which floor the robot is on.
    """

    altitude_period_s: float = 0.5
    floor_wait_s: float = 2.0


class MapStage:
    """Records -> :class:`BuildingMapper` calls, with one clock and one rate for everything."""

    def __init__(self, mapper: BuildingMapper, params: MapStageParams | None = None) -> None:
        self.mapper = mapper
        self.params = params or MapStageParams()
        self._data_t: float | None = None
        self._first_data_t: float | None = None
        self._floor_known = False
        self._last_altitude_t = -math.inf
        self.counts: dict[str, int] = {'scans_before_floor': 0, 'bad_poses': 0}

    # ---- clock ---------------------------------------------------------------------------------
    def _seen(self, t: float) -> None:
        if not math.isfinite(t):
            return
        if self._data_t is None or t > self._data_t:
            self._data_t = t
        if self._first_data_t is None:
            self._first_data_t = t

    def event_time(self) -> float:
        """When a headerless event happened: the data clock (-inf before any data).

        Before the first scan or pose the mapper has not started, so only the order of such
        events counts, never their time: the receive time (wall clock or sim time) is not
        used, because it shares no clock with the data.
        """
        return self._data_t if self._data_t is not None else -math.inf

    # ---- inputs --------------------------------------------------------------------------------
    def on_pose(self, rec: PoseRecord) -> None:
        """A SLAM pose (map frame of the SLAM)."""
        if not all(math.isfinite(v) for v in (rec.t, rec.x, rec.y, rec.yaw)):
            self.counts['bad_poses'] += 1
            return
        self._seen(rec.t)
        self.mapper.add_pose(rec.t, rec.x, rec.y, rec.yaw)

    def on_scan(self, rec: ScanRecord) -> bool:
        """A laser scan; True when the mapper took it."""
        self._seen(rec.t)
        if not self._floor_known:
            first = self._first_data_t if self._first_data_t is not None else rec.t
            if not rec.t - first >= self.params.floor_wait_s:
                self.counts['scans_before_floor'] += 1
                return False
            self._floor_known = True  # nobody says: the mapper's initial floor holds
        return self.mapper.add_scan(
            rec.t, rec.ranges, rec.angle_min, rec.angle_increment, rec.range_min, rec.range_max
        )

    def on_slam_map(self, rec: GridRecord) -> bool:
        """The SLAM's own grid (``map_source: slam_map``)."""
        t = rec.t if rec.t > 0 else self.event_time()
        return self.mapper.add_slam_map(t, rec.grid, rec.resolution, rec.origin)

    def on_floor(self, rec: FloorRecord) -> None:
        """``floor/current``."""
        self._floor_known = True
        self.mapper.set_floor(self.event_time(), rec.floor)

    def on_riding(self, rec: BoolRecord) -> None:
        """``floor/riding``."""
        self.mapper.set_riding(self.event_time(), rec.value)

    def on_altitude(self, rec: ValueRecord) -> None:
        """``floor/altitude``, thinned to ``altitude_period_s``."""
        t = self.event_time()
        if t == -math.inf:
            self.mapper.add_altitude(t, rec.value)  # before any data: nothing to thin against
        elif t - self._last_altitude_t >= self.params.altitude_period_s:
            self._last_altitude_t = t
            self.mapper.add_altitude(t, rec.value)

    def on_elevator_state(self, rec: ElevatorStateRecord) -> None:
        """``elevator/state`` (from the detector, live or offline, or recorded)."""
        t = rec.stamp if rec.stamp is not None else self.event_time()
        self.mapper.set_elevator_state(t, rec.state, rec.confidence)

    def on_floor_table(self, rec: FloorTableRecord) -> None:
        """``floor/table``: kept to be saved with the building."""
        self.mapper.floor_table = rec.table

    def feed(self, kind: str, rec: Record) -> None:
        """Dispatch one record by type (``kind`` names the stream, for the pose kinds)."""
        del kind
        if isinstance(rec, ScanRecord):
            self.on_scan(rec)
        elif isinstance(rec, PoseRecord):
            self.on_pose(rec)
        elif isinstance(rec, FloorRecord):
            self.on_floor(rec)
        elif isinstance(rec, BoolRecord):
            self.on_riding(rec)
        elif isinstance(rec, ValueRecord):
            self.on_altitude(rec)
        elif isinstance(rec, ElevatorStateRecord):
            self.on_elevator_state(rec)
        elif isinstance(rec, FloorTableRecord):
            self.on_floor_table(rec)
        elif isinstance(rec, GridRecord):
            self.on_slam_map(rec)

    # ---- output --------------------------------------------------------------------------------
    def save(self, out_dir: Path) -> Path:
        """Flush and write the building (maps, building.yaml, Open-RMF, PNG); building.yaml."""
        self.mapper.flush()
        return save_building(self.mapper.building, Path(out_dir))


__all__ = ['MapStage', 'MapStageParams']
