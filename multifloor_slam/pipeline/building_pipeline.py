"""The three nodes' wiring as one deterministic object: records in stamp order -> a building.

``floor_estimator`` -> ``floor/current``, ``floor/riding``, ``floor/altitude`` ->
``floor_map_manager``; ``elevator_detector`` -> ``elevator/state`` -> both. The live nodes
make exactly these core calls; here they happen in stamp order without DDS, so a bag always
gives the same building.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from multifloor_slam.maps.mapper import BuildingMapper, MapperParams
from multifloor_slam.floors.estimator import FloorEstimator, FloorState, RideEvent
from multifloor_slam.floors.params import FloorEstimatorParams
from multifloor_slam.floors.floor_table import FloorTable
from multifloor_slam.io.records import (
    ElevatorStateRecord,
    ImageRecord,
    PoseRecord,
    PressureRecord,
    ScanRecord,
)

#: ``floor/altitude`` is published with every pressure sample live; the mapper only needs it
#: now and then to estimate floor elevations.
_ALTITUDE_PERIOD_S = 0.5


@dataclass
class StageTimer:
    """Wall time spent per stage, for the report."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, stage: str, t0: float) -> None:
        """Charge the time since ``t0`` (``time.perf_counter()``) to ``stage``."""
        self.seconds[stage] += time.perf_counter() - t0
        self.calls[stage] += 1


class BuildingPipeline:
    """Feed records, get the building: floor estimator + optional detector + map layers."""

    def __init__(
        self,
        floor_params: FloorEstimatorParams | None = None,
        mapper_params: MapperParams | None = None,
        detector: Any = None,
        state_machine: Any = None,
        floor_table: FloorTable | None = None,
        initial_floor: int = 0,
    ) -> None:
        """Create the pipeline.

        Args:
            floor_params: floor estimator parameters.
            mapper_params: map layer parameters.
            detector: an ``ElevatorDetector`` (None: images are ignored).
            state_machine: an ``ElevatorStateMachine`` fed by the detector.
            floor_table: a known floor table to start from.
            initial_floor: the floor the recording starts on.
        """
        self.estimator = FloorEstimator(
            floor_params or FloorEstimatorParams(), table=floor_table, initial_floor=initial_floor
        )
        self.mapper = BuildingMapper(mapper_params or MapperParams(initial_floor=initial_floor))
        self.detector = detector
        self.state_machine = state_machine
        self.rides: list[RideEvent] = []
        self.floor_trace: list[tuple[float, int, bool]] = []
        self.elevator_states: list[tuple[float, str, float]] = []
        self.timer = StageTimer()
        self._floor: int | None = None
        self._riding: bool | None = None
        self._last_altitude_t = -np.inf
        self._last_state = ''

    def on_pressure(self, rec: PressureRecord) -> FloorState:
        """One barometer sample: what ``floor_estimator`` does, then what it publishes."""
        t0 = time.perf_counter()
        st = self.estimator.update(rec.t, rec.pressure_pa, rec.temperature_c)
        self.timer.add('floor', t0)
        t0 = time.perf_counter()
        if st.riding != self._riding:
            self._riding = st.riding
            self.mapper.set_riding(st.t, st.riding)
        if st.floor != self._floor:
            self._floor = st.floor
            self.mapper.set_floor(st.t, st.floor, self._elevation(st.floor))
        if st.t - self._last_altitude_t >= _ALTITUDE_PERIOD_S:
            self._last_altitude_t = st.t
            self.mapper.add_altitude(st.t, st.altitude_m)
        self.timer.add('map', t0)
        if st.event is not None:
            self.rides.append(st.event)
        if not self.floor_trace or self.floor_trace[-1][1:] != (st.floor, st.riding):
            self.floor_trace.append((st.t, st.floor, st.riding))
        return st

    def on_pose(self, rec: PoseRecord) -> None:
        """A SLAM pose."""
        t0 = time.perf_counter()
        self.mapper.add_pose(rec.t, rec.x, rec.y, rec.yaw)
        self.timer.add('map', t0)

    def on_scan(self, rec: ScanRecord) -> bool:
        """A laser scan; True when integrated into a floor layer."""
        t0 = time.perf_counter()
        used = self.mapper.add_scan(
            rec.t, rec.ranges, rec.angle_min, rec.angle_increment, rec.range_min, rec.range_max
        )
        self.timer.add('scan', t0)
        return used

    def on_image(self, rec: ImageRecord) -> None:
        """A camera frame: detector -> state machine -> ``elevator/state``."""
        if self.detector is None or self.state_machine is None:
            return
        t0 = time.perf_counter()
        detections = self.detector.detect(rec.image)
        state = self.state_machine.update(rec.t, detections, rec.image.shape)
        self.timer.add('detector', t0)
        self.on_elevator_state(ElevatorStateRecord(rec.t, state.state, state.confidence))

    def on_elevator_state(self, rec: ElevatorStateRecord) -> None:
        """An elevator state, from the detector or recorded in the bag."""
        conf = 1.0 if rec.confidence is None else float(rec.confidence)
        self.estimator.set_elevator_state(rec.t, rec.state, conf)
        self.mapper.set_elevator_state(rec.t, rec.state, conf)
        if rec.state != self._last_state:
            self._last_state = rec.state
            self.elevator_states.append((rec.t, rec.state, conf))

    def feed(self, kind: str, rec: Any) -> None:
        """Dispatch one ``(kind, record)`` pair from :class:`~multifloor_slam.io.BagReader`."""
        handler = self._handlers.get(kind)
        if handler is not None:
            handler(self, rec)

    def _elevation(self, floor: int) -> float | None:
        table = self.estimator.table
        return table.elevation(floor) if floor in table else None

    def save(self, out_dir: Path) -> Path:
        """Write the building (maps, building.yaml, Open-RMF, PNG); returns building.yaml."""
        return self.mapper.save(out_dir, floor_table=self.estimator.table.to_dict())

    _handlers: ClassVar[dict[str, Any]] = {
        'pressure': on_pressure,
        'pose': on_pose,
        'odom': on_pose,
        'scan': on_scan,
        'image': on_image,
        'elevator_state': on_elevator_state,
    }
