"""The three nodes' stages connected directly: records in stamp order -> a building.

``FloorStage`` -> (floor, riding, altitude, table) -> ``MapStage``; ``ElevatorStage`` ->
elevator state -> both. The elevator stage also takes the floor stage's riding flags and the
laser scans (the barometer and laser evidence of its fused state), as the live
``elevator_detector`` subscribes ``floor/riding`` and ``scan``. The live nodes run these same
stages and hand the same records over DDS
(:func:`~multifloor_slam.pipeline.floor_stage.floor_outputs` is the list both paths use); here
they are handed over in stamp order without DDS, so a bag always gives the same building.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from multifloor_slam.floors.estimator import RideEvent
from multifloor_slam.io.records import (
    BoolRecord,
    ElevatorStateRecord,
    ImageRecord,
    PoseRecord,
    PressureRecord,
    Record,
    ScanRecord,
    TemperatureRecord,
)
from multifloor_slam.maps.mapper import BuildingMapper
from multifloor_slam.pipeline.elevator_stage import ElevatorStage
from multifloor_slam.pipeline.floor_stage import FloorOutput, FloorStage, floor_outputs
from multifloor_slam.pipeline.map_stage import MapStage


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
    """Feed records, get the building: floor stage + optional elevator stage + map stage."""

    def __init__(
        self,
        floor_stage: FloorStage,
        map_stage: MapStage,
        elevator_stage: ElevatorStage | None = None,
    ) -> None:
        self.floor_stage = floor_stage
        self.map_stage = map_stage
        self.elevator_stage = elevator_stage
        self.floor_trace: list[tuple[float, int, bool]] = []
        self.elevator_states: list[tuple[float, str, float]] = []
        self.timer = StageTimer()
        self._last_state = ''
        self._forward(floor_stage.initial())

    @property
    def mapper(self) -> BuildingMapper:
        """The map stage's mapper."""
        return self.map_stage.mapper

    @property
    def rides(self) -> list[RideEvent]:
        """Rides found so far."""
        return self.floor_stage.rides

    def _forward(self, out: FloorOutput) -> None:
        for kind, rec in floor_outputs(out):
            self.map_stage.feed(kind, rec)
            if self.elevator_stage is not None and isinstance(rec, BoolRecord):
                self.elevator_stage.on_riding(rec.t, rec.value)
        floor, riding = out.floor, out.riding
        if floor is not None or riding is not None:
            last = self.floor_trace[-1] if self.floor_trace else (0.0, 0, False)
            self.floor_trace.append(
                (out.t, last[1] if floor is None else floor, last[2] if riding is None else riding)
            )

    def on_pressure(self, rec: PressureRecord) -> None:
        """A barometer sample through the floor stage, its outputs on to the map stage."""
        t0 = time.perf_counter()
        out = self.floor_stage.on_pressure(rec)
        self.timer.add('floor', t0)
        t0 = time.perf_counter()
        self._forward(out)
        self.timer.add('map', t0)

    def on_image(self, rec: ImageRecord) -> None:
        """A camera frame: elevator stage -> ``elevator/state`` -> floor and map stages."""
        if self.elevator_stage is None:
            return
        t0 = time.perf_counter()
        out = self.elevator_stage.on_image(rec)
        self.timer.add('detector', t0)
        self.on_elevator_state(out.record)

    def on_elevator_state(self, rec: ElevatorStateRecord) -> None:
        """An elevator state, from the elevator stage or recorded in the bag."""
        self.floor_stage.on_elevator_state(rec)
        self.map_stage.on_elevator_state(rec)
        if rec.state != self._last_state:
            self._last_state = rec.state
            self.elevator_states.append((rec.event_t, rec.state, rec.confidence))

    def feed(self, kind: str, rec: Record) -> None:
        """Dispatch one ``(kind, record)`` pair from :class:`~multifloor_slam.io.BagReader`."""
        if isinstance(rec, PressureRecord):
            self.on_pressure(rec)
        elif isinstance(rec, TemperatureRecord):
            self.floor_stage.on_temperature(rec)
        elif isinstance(rec, ImageRecord):
            self.on_image(rec)
        elif isinstance(rec, ElevatorStateRecord):
            self.on_elevator_state(rec)
        else:
            t0 = time.perf_counter()
            self.map_stage.feed(kind, rec)
            self.timer.add('scan' if isinstance(rec, ScanRecord) else 'map', t0)
            if kind == 'odom' and isinstance(rec, PoseRecord):
                self.floor_stage.on_odom(rec)
            if self.elevator_stage is not None and isinstance(rec, ScanRecord):
                t0 = time.perf_counter()
                self.elevator_stage.on_scan(rec)
                self.timer.add('laser', t0)

    def save(self, out_dir: Path) -> Path:
        """Write the building (maps, building.yaml with the floor table, Open-RMF, PNG)."""
        return self.map_stage.save(out_dir)


__all__ = ['BuildingPipeline', 'StageTimer']
