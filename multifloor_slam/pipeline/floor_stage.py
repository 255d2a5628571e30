"""The floor stage: barometer records in, what ``floor_estimator`` publishes out.

Live (the node) and offline (``process``) run this same object, so every wiring decision is
made here once:

- **units**: ``pressure_unit`` 'auto' takes the unit (Pa, hPa, kPa) from the first plausible
  sample and keeps it for the whole stream;
- **temperature**: the newest ``barometer/temperature`` sample no older than
  ``temperature_max_age_s`` goes with each pressure sample (a temperature carried in the
  pressure record itself, as from a CSV log, wins);
- **elevator state**: timed by the frame stamp the detector wrote, else by the newest pressure
  stamp (the estimator's own clock);
- **start table**: :func:`start_table`: a ``floor_table_file`` that exists, else the floor table
  saved in ``building_file`` (a building.yaml or its folder), else the seed, else none;
- **start floor**: :meth:`FloorTable.start_floor` (the table's ``current_floor`` when
  ``resume_floor``);
- **outputs**: floor and riding when they change, altitude with every sample, the ride event,
  the floor table whenever it changed (a ride, a refinement, the current floor) and the
  renumbering when a floor found between two consecutive indices moved the floors beyond it;
  :func:`floor_outputs` orders them the way the node publishes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from multifloor_slam.errors import ConfigError, MapFileError
from multifloor_slam.floors.estimator import FloorEstimator, FloorState, RideEvent
from multifloor_slam.floors.floor_table import MAX_FLOOR_INDEX, FloorTable, compose_renumberings
from multifloor_slam.floors.params import FloorEstimatorParams
from multifloor_slam.floors.pressure_filter import REJECTION_KEYS
from multifloor_slam.floors.trips import TripParams, TripTracker, append_ride
from multifloor_slam.floors.units import guess_unit_factor, unit_factor
from multifloor_slam.io.building_load import building_yaml_path
from multifloor_slam.io.records import (
    BoolRecord,
    ElevatorStateRecord,
    FloorRecord,
    FloorTableRecord,
    PoseRecord,
    PressureRecord,
    Record,
    TemperatureRecord,
    ValueRecord,
)


@dataclass(frozen=True)
class FloorStageParams:
    """How barometer records reach the estimator (the estimator's own are separate).

    Attributes:
        pressure_unit: unit of ``barometer/pressure``: 'auto' (from the first plausible
            sample), 'Pa' (what FluidPressure specifies), 'hPa' or 'kPa'.
        temperature_max_age_s: a temperature sample older than this (s) is not used.
        initial_floor: floor index the robot starts on when the table has no saved floor.
        resume_floor: start on the floor saved in the floor table, if any.
    """

    pressure_unit: str = 'auto'
    temperature_max_age_s: float = 30.0
    initial_floor: int = 0
    resume_floor: bool = True

    def __post_init__(self) -> None:
        unit_factor(self.pressure_unit)  # raises ConfigError on an unknown unit
        if abs(self.initial_floor) > MAX_FLOOR_INDEX:
            raise ConfigError(f'initial_floor {self.initial_floor} is beyond +-{MAX_FLOOR_INDEX}')


@dataclass(frozen=True)
class FloorOutput:
    """What the estimator has to say after one sample; None fields did not change."""

    t: float
    altitude_m: float
    floor: int | None = None
    riding: bool | None = None
    event: RideEvent | None = None
    table: dict[str, Any] | None = None
    #: ``{old index: new index}`` when a floor found between two consecutively numbered ones
    #: renumbered the table with this sample (whatever is kept per floor index must follow)
    renumbered: dict[int, int] | None = None


def floor_outputs(out: FloorOutput) -> list[tuple[str, Record]]:
    """``(stream kind, record)`` in the order the node publishes them; the map stage reads these.

    The ride event is not a record: the node publishes it as JSON on ``floor/event``.
    """
    recs: list[tuple[str, Record]] = []
    if out.table is not None:
        recs.append(('floor_table', FloorTableRecord(out.t, out.table)))
    if out.floor is not None:
        recs.append(('floor', FloorRecord(out.t, out.floor)))
    if out.riding is not None:
        recs.append(('riding', BoolRecord(out.t, out.riding)))
    recs.append(('altitude', ValueRecord(out.t, out.altitude_m)))
    return recs


def _building_table(path: Path, max_observations: int) -> FloorTable | None:
    """The floor table saved in a building.yaml (None when it has none)."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding='utf-8'))
    except (OSError, UnicodeDecodeError) as err:
        raise MapFileError(f'cannot read building file {path}: {err}') from err
    except yaml.YAMLError as err:
        raise MapFileError(f'building file {path} is not valid YAML: {err}') from err
    if not isinstance(data, dict):
        raise MapFileError(f'{path} is not a multifloor_slam building file')
    table = data.get('floor_table')
    if table is None:
        return None
    try:
        return FloorTable.from_dict(table, max_observations)
    except MapFileError as err:
        raise MapFileError(f'{path}: {err}') from err


def start_table(
    table_file: str | Path | None,
    building_file: str | Path | None,
    seed: str = '',
    max_observations: int = 20,
) -> tuple[FloorTable | None, str]:
    """The floor table a run starts from, and where it came from.

    The one rule for the node (and anything else that resumes): ``table_file`` when it exists;
    else the table saved in ``building_file`` (a building.yaml or its folder) when that exists
    and has one (with its ``current_floor``, so the run resumes on the floor it was saved on);
    else the ``seed``; else none (a new building, reference floor = start floor).

    Raises:
        MapFileError: the chosen file cannot be read or is malformed.
        ConfigError: the seed is malformed.
    """
    if table_file:
        path = Path(table_file).expanduser()
        if path.exists():
            return FloorTable.load(path, max_observations), f'floor_table_file {path}'
    if building_file:
        path = building_yaml_path(building_file)
        if path.is_file():
            table = _building_table(path, max_observations)
            if table is not None:
                return table, f'building_file {path}'
    if seed:
        return FloorTable.from_seed(seed, max_observations), 'floor_table_seed'
    return None, 'new building'


class FloorStage:
    """Barometer (+ temperature, + elevator state) -> floor, riding, altitude, rides, table."""

    def __init__(
        self,
        params: FloorStageParams | None = None,
        estimator_params: FloorEstimatorParams | None = None,
        table: FloorTable | None = None,
        initial_floor: int | None = None,
        trip_params: TripParams | None = None,
    ) -> None:
        """Start on ``initial_floor`` when given, else by :meth:`FloorTable.start_floor`."""
        self.params = params or FloorStageParams()
        est_params = estimator_params or FloorEstimatorParams()
        if initial_floor is None:
            initial_floor = (
                table.start_floor(self.params.initial_floor, self.params.resume_floor)
                if table is not None
                else self.params.initial_floor
            )
        self.estimator = FloorEstimator(est_params, table, initial_floor)
        self._factor = unit_factor(self.params.pressure_unit)
        self._temperature: TemperatureRecord | None = None
        self._t = -math.inf
        self._floor: int | None = None
        self._riding: bool | None = None
        self.unit_guess = ''
        self.rides: list[RideEvent] = []
        #: car stops told from robot exits (odometry, elevator state, else barometer)
        self.trips = TripTracker(trip_params)
        self._table_key = self._table_state()
        self._renumbered = 0

    @property
    def table(self) -> FloorTable:
        """The (learned) floor table."""
        return self.estimator.table

    @property
    def stats(self) -> dict[str, int]:
        """The estimator's counters."""
        return self.estimator.stats

    def refusals(self) -> dict[str, int]:
        """Counters of refused input (barometer samples, elevator states), for reporting."""
        stats = self.stats
        return {k: stats.get(k, 0) for k in (*REJECTION_KEYS, 'bad_elevator_state')}

    def _table_state(self) -> tuple[int | None, int, int]:
        """Changes whenever the table's saved form would (checked on every sample: O(1))."""
        table = self.table
        return (table.current_floor, table.reference_index, table.version)

    def initial(self) -> FloorOutput:
        """What is published at start, before any sample: the start floor, not riding."""
        floor = self.estimator.floor
        self._floor, self._riding = floor, False
        z = self.table.elevation(floor) if floor in self.table else 0.0
        return FloorOutput(0.0, z, floor, False, None, self.table.to_dict())

    def on_temperature(self, rec: TemperatureRecord) -> None:
        """Keep the newest temperature for the next pressure samples."""
        self._temperature = rec

    def on_elevator_state(self, rec: ElevatorStateRecord) -> None:
        """The camera's state makes ride detection easier (car seen) or stricter (none)."""
        t = rec.stamp if rec.stamp is not None else (self._t if self._t > -math.inf else rec.t)
        self.estimator.set_elevator_state(t, rec.state, rec.confidence)
        self.trips.on_elevator_state(t, rec.state)

    def on_odom(self, rec: PoseRecord) -> None:
        """Odometry (continuous through rides): did the robot drive out of the stopped car?"""
        self.trips.on_odom(rec.t, rec.x, rec.y)

    def on_pressure(self, rec: PressureRecord) -> FloorOutput:
        """One barometer sample."""
        factor = self._factor
        if factor is None:
            factor = guess_unit_factor(rec.pressure_pa)
            if factor is not None:
                self._factor = factor
                self.unit_guess = {1.0: 'Pa', 100.0: 'hPa', 1000.0: 'kPa'}[factor]
            else:
                factor = 1.0  # not plausible in any unit: the estimator rejects and counts it
        st = self.estimator.update(rec.t, rec.pressure_pa * factor, self._temperature_for(rec))
        if math.isfinite(rec.t):
            self._t = max(self._t, rec.t)
        return self._output(st)

    def _temperature_for(self, rec: PressureRecord) -> float | None:
        if rec.temperature_c is not None:
            return rec.temperature_c
        temp = self._temperature
        if temp is not None and abs(rec.t - temp.t) <= self.params.temperature_max_age_s:
            return temp.temperature_c
        return None

    def _output(self, st: FloorState) -> FloorOutput:
        floor = st.floor if st.floor != self._floor else None
        riding = st.riding if st.riding != self._riding else None
        self._floor, self._riding = st.floor, st.riding
        if st.event is not None:
            append_ride(self.rides, st.event)
            self.trips.on_ride(st.event)
        self.trips.on_riding(st.riding)
        self.trips.on_time(st.t)
        table = None
        key = self._table_state()
        if key != self._table_key:
            self._table_key = key
            table = self.table.to_dict()
        renumbered: dict[int, int] | None = None
        done = self.estimator.renumberings
        if len(done) > self._renumbered:
            renumbered = {}
            for mapping in done[self._renumbered :]:
                renumbered = compose_renumberings(renumbered, mapping)
            self._renumbered = len(done)
        return FloorOutput(st.t, st.altitude_m, floor, riding, st.event, table, renumbered)

    def feed(self, kind: str, rec: Record) -> FloorOutput | None:
        """Dispatch one record by stream kind; the output of a pressure sample, else None."""
        if isinstance(rec, PressureRecord):
            return self.on_pressure(rec)
        if isinstance(rec, TemperatureRecord):
            self.on_temperature(rec)
        elif isinstance(rec, ElevatorStateRecord):
            self.on_elevator_state(rec)
        elif isinstance(rec, PoseRecord) and kind == 'odom':
            self.on_odom(rec)
        return None


__all__ = ['FloorOutput', 'FloorStage', 'FloorStageParams', 'floor_outputs', 'start_table']
