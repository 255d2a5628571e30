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
- **floor table**: the newest ``floor/table`` is saved with the building, with the floor the
  map was on (``current_floor``) and where the SLAM frame lay on that floor (``map_resume``).
- **renumbered floors**: a floor found later between two consecutively numbered ones moves the
  floors beyond it one number out (``docs/floor_estimation.md``). The stage reads that from the
  tables themselves (``maps/renumber.py``: the previous and the new ``floor/table`` matched by
  elevation), as the node only sees the topics, and the mapper moves layers, links, elevations
  and the current floor at once (``renumberings`` counts it); the saved building follows.
- **absurd floors**: a ``floor/current`` beyond +-:data:`MAX_FLOOR_INDEX` is refused and
  counted (``counts['floors_out_of_range']``); the robot stays on its floor.
- **resuming a saved building**: when the mapper continues a building whose floor table has a
  ``map_resume`` entry (floor F, SLAM -> floor F transform T), every SLAM pose is carried
  through T, so the SLAM session that kept running while the nodes restarted lands on F where it
  was; the first scans are still aligned to F's layer by ICP. T is only used when the floor the
  robot starts on is F; otherwise the SLAM frame starts at the identity, as for a new session.
  Until the start floor is known (the first ``floor/current``, or ``floor_wait_s``), poses wait
  in the stage so that all of them go through the same frame.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from multifloor_slam.errors import MapFileError
from multifloor_slam.floors.floor_table import MAX_FLOOR_INDEX, FloorTable
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
from multifloor_slam.maps.renumber import table_renumbering
from multifloor_slam.maps.scan_geometry import Pose, se2_compose
from multifloor_slam.navigation.staging import StagingParams

#: Key of the resume entry the stage adds to the saved floor table.
RESUME_KEY = 'map_resume'
#: Mapper counters that say input was refused or cut (``poses_bad``, ``scans_out_of_extent``,
#: ``scans_clipped_layer`` ...): reported like bad messages, one kind per counter.
_MAPPER_REFUSAL_WORDS = ('bad', 'refused', 'outside', 'out_of', 'clipped', 'too_')
_IDENTITY: Pose = (0.0, 0.0, 0.0)


def _resume_entry(table: Any) -> tuple[int, Pose | None] | None:
    """(floor, SLAM -> floor transform or None) saved in a floor table dict, if well-formed."""
    if not isinstance(table, dict):
        return None
    entry = table.get(RESUME_KEY)
    try:
        if isinstance(entry, dict):
            floor = int(entry['floor'])
            raw = entry.get('slam_to_floor')
            pose = None
            if raw is not None:
                x, y, yaw = (float(v) for v in raw)
                pose = (x, y, yaw) if all(map(math.isfinite, (x, y, yaw))) else None
            return (floor, pose) if abs(floor) <= MAX_FLOOR_INDEX else None
        current = table.get('current_floor')
        if current is not None and abs(int(current)) <= MAX_FLOOR_INDEX:
            return int(current), None
    except (KeyError, TypeError, ValueError):
        return None
    return None


@dataclass(frozen=True)
class MapStageParams:
    """How records reach the mapper (the mapper's own parameters are separate).

    Attributes:
        altitude_period_s: pass ``floor/altitude`` to the mapper at most this often (s of data
            time); it only averages altitudes into floor elevations.
        floor_wait_s: at start, drop scans for up to this long (s of data time) until the
            floor estimator says which floor the robot is on.
        staging_distance_m: elevator staging poses saved with the building: how far in front
            of the doors a robot waits (m).
        staging_robot_radius_m: the robot radius the staging poses and the Open-RMF nav
            graphs keep from walls and unknown space (m).
    """

    altitude_period_s: float = 0.5
    floor_wait_s: float = 2.0
    staging_distance_m: float = 1.0
    staging_robot_radius_m: float = 0.25

    def __post_init__(self) -> None:
        self.staging()  # bad staging values are refused here (ConfigError), not at a save

    def staging(self) -> StagingParams:
        """The staging parameters a save uses."""
        return StagingParams(
            distance_m=self.staging_distance_m, robot_radius_m=self.staging_robot_radius_m
        )


class MapStage:
    """Records -> :class:`BuildingMapper` calls, with one clock and one rate for everything."""

    def __init__(self, mapper: BuildingMapper, params: MapStageParams | None = None) -> None:
        self.mapper = mapper
        self.params = params or MapStageParams()
        self._data_t: float | None = None
        self._first_data_t: float | None = None
        self._floor_known = False
        self._last_altitude_t = -math.inf
        self.counts: dict[str, int] = {
            'scans_before_floor': 0,
            'bad_poses': 0,
            'floors_out_of_range': 0,
            'scans_without_range_max': 0,
            'resume_floor_differs': 0,
            'bad_floor_tables': 0,
            'renumberings': 0,
        }
        #: (floor, SLAM -> floor) of the building this mapper continues, if it says so
        self.resume = _resume_entry(mapper.floor_table)
        self._frame: Pose | None = None if self.resume is not None else _IDENTITY
        self._held_poses: list[PoseRecord] = []
        self._fed_data = False
        if self.resume is not None:
            self.mapper.set_floor(-math.inf, self.resume[0])  # not started: the start floor

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

    # ---- the SLAM frame -------------------------------------------------------------------------
    def _start_frame(self) -> Pose:
        """Decide once, when the start floor is known, which frame the SLAM poses go through."""
        if self._frame is None:
            floor, pose = self.resume if self.resume is not None else (0, None)
            same = self.mapper.current_floor == floor
            self._frame = pose if same and pose is not None else _IDENTITY
            if not same:
                self.counts['resume_floor_differs'] = 1
            for held in self._held_poses:
                self._add_pose(held)
            self._held_poses.clear()
        return self._frame

    def _in_frame(self, pose: Pose) -> Pose:
        frame = self._start_frame()
        return pose if frame == _IDENTITY else se2_compose(frame, pose)

    def _add_pose(self, rec: PoseRecord) -> None:
        x, y, yaw = self._in_frame((rec.x, rec.y, rec.yaw))
        self._fed_data = True
        self.mapper.add_pose(rec.t, x, y, yaw)

    def _floor_wait_over(self, t: float) -> bool:
        first = self._first_data_t if self._first_data_t is not None else t
        return t - first >= self.params.floor_wait_s

    # ---- inputs --------------------------------------------------------------------------------
    def on_pose(self, rec: PoseRecord) -> None:
        """A SLAM pose (map frame of the SLAM)."""
        if not all(math.isfinite(v) for v in (rec.t, rec.x, rec.y, rec.yaw)):
            self.counts['bad_poses'] += 1
            return
        self._seen(rec.t)
        if self._frame is None:
            if not (self._floor_known or self._floor_wait_over(rec.t)):
                self._held_poses.append(rec)  # at most floor_wait_s of poses
                return
            self._start_frame()
        self._add_pose(rec)

    def on_odom(self, rec: PoseRecord) -> None:
        """An odometry pose (``odom``: continuous through rides, its heading carries anchors)."""
        if not all(math.isfinite(v) for v in (rec.t, rec.x, rec.y, rec.yaw)):
            self.counts['bad_poses'] += 1
            return
        self.mapper.add_odom(rec.t, rec.x, rec.y, rec.yaw)

    def on_scan(self, rec: ScanRecord) -> bool:
        """A laser scan; True when the mapper took it."""
        self._seen(rec.t)
        if not math.isfinite(rec.range_max):
            self.counts['scans_without_range_max'] += 1  # used: see the mapper's scan_points
        if not self._floor_known:
            if not self._floor_wait_over(rec.t):
                self.counts['scans_before_floor'] += 1
                return False
            self._floor_known = True  # nobody says: the mapper's initial floor holds
        if self._frame is None:
            self._start_frame()
        self._fed_data = True
        return self.mapper.add_scan(
            rec.t, rec.ranges, rec.angle_min, rec.angle_increment, rec.range_min, rec.range_max
        )

    def on_slam_map(self, rec: GridRecord) -> bool:
        """The SLAM's own grid (``map_source: slam_map``); its origin is in the SLAM frame."""
        t = rec.t if rec.t > 0 else self.event_time()
        origin = self._in_frame(rec.origin)
        self._fed_data = True
        return self.mapper.add_slam_map(t, rec.grid, rec.resolution, origin)

    def on_floor(self, rec: FloorRecord) -> None:
        """``floor/current``; an index beyond +-MAX_FLOOR_INDEX is refused and counted."""
        if abs(rec.floor) > MAX_FLOOR_INDEX:
            self.counts['floors_out_of_range'] += 1
            return
        self._floor_known = True
        self.mapper.set_floor(self.event_time(), rec.floor)
        if self._frame is None and self._held_poses:
            self._start_frame()

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
        """``floor/table``: kept to be saved with the building, if it is a readable table.

        When it numbers the previous table's floors differently, the map follows first. A
        malformed one is refused and counted (``bad_floor_tables``): saved, it would stop the
        floor estimator from starting on this building.
        """
        try:
            FloorTable.from_dict(rec.table)
        except MapFileError:
            self.counts['bad_floor_tables'] += 1
            return
        mapping = table_renumbering(self.mapper.floor_table, rec.table)
        if mapping:
            current = rec.table.get('current_floor')
            self.mapper.renumber(mapping, None if current is None else int(current))
            if self.resume is not None:
                floor, pose = self.resume
                self.resume = (mapping.get(floor, floor), pose)
            self.counts['renumberings'] += 1
        self.mapper.floor_table = rec.table

    def feed(self, kind: str, rec: Record) -> None:
        """Dispatch one record by type (``kind`` names the stream, for the pose kinds)."""
        if isinstance(rec, ScanRecord):
            self.on_scan(rec)
        elif isinstance(rec, PoseRecord) and kind == 'odom':
            self.on_odom(rec)
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
    def refusals(self) -> dict[str, int]:
        """Counters of refused or unusual input (the stage's and the mapper's), for reporting."""
        refused = ('bad_poses', 'floors_out_of_range', 'bad_floor_tables')
        counts = {k: self.counts[k] for k in refused}
        words = _MAPPER_REFUSAL_WORDS
        counts.update(
            {f'mapper {k}': v for k, v in self.mapper.stats.items() if any(w in k for w in words)}
        )
        return counts

    def resume_entry(self) -> dict[str, Any] | None:
        """Where the robot is, for a restart: the floor and the SLAM -> floor transform.

        The transform is known while the robot maps a floor (not in a car, not while a revisit
        waits for ICP); otherwise only the floor is given and a restart starts the SLAM frame
        at the identity. Before any data the loaded entry still holds.
        """
        m = self.mapper
        if not self._fed_data:
            if self.resume is None:
                return None
            floor, pose = self.resume
        else:
            floor, pose = m.current_floor, None
            if m.transform is not None and not m.in_elevator:
                pose = se2_compose(m.transform, self._frame or _IDENTITY)
        return {
            'floor': int(floor),
            'slam_to_floor': None if pose is None else [round(float(v), 6) for v in pose],
        }

    def building_table(self) -> dict[str, Any] | None:
        """The floor table saved with the building, with the resume entry added.

        The table is the floor estimator's (its ``current_floor`` is the floor it resumes on;
        filled in from the map's floor only when the table has none). Without a table (no
        floor estimator) nothing is added: the building has no floor table.
        """
        table = self.mapper.floor_table
        if not isinstance(table, dict):
            return table
        out = copy.deepcopy(table)
        resume = self.resume_entry()
        if resume is not None:
            out[RESUME_KEY] = resume
            known = {f.get('index') for f in out.get('floors') or [] if isinstance(f, dict)}
            if out.get('current_floor') is None and resume['floor'] in known:
                out['current_floor'] = resume['floor']
        return out

    def save(self, out_dir: Path) -> Path:
        """Flush and write the building (maps, building.yaml, Open-RMF, PNG); building.yaml."""
        self.mapper.flush()
        building = dataclasses.replace(self.mapper.building, floor_table=self.building_table())
        return save_building(building, Path(out_dir), self.params.staging())


__all__ = ['RESUME_KEY', 'MapStage', 'MapStageParams']
