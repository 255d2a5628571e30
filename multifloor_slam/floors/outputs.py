"""What the floor estimator says: the state after each sample, the rides, and its decisions."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

from multifloor_slam.floors.ride_detector import Step


@dataclass(frozen=True)
class RideEvent:
    """One finished ride (emitted on the update that decides it)."""

    t_start: float
    t_end: float
    from_floor: int
    to_floor: int
    from_label: str
    to_label: str
    dz_m: float
    dp_pa: float
    confidence: float
    new_floor: bool = False
    source: str = 'ride'  # 'ride', or 'gap' when the sensor was silent during the change

    def to_json(self) -> str:
        """One-line JSON."""
        data = asdict(self)
        for key in ('t_start', 't_end'):
            data[key] = round(data[key], 3)
        data['dz_m'] = round(self.dz_m, 3)
        data['dp_pa'] = round(self.dp_pa, 2)
        data['confidence'] = round(self.confidence, 3)
        return json.dumps(data, separators=(',', ':'))


@dataclass(frozen=True)
class FloorState:
    """The estimate after one sample."""

    t: float
    floor: int
    label: str
    altitude_m: float  # relative to the table's reference floor
    riding: bool
    confidence: float
    event: RideEvent | None = None
    unknown: bool = False  # after a long sensor gap: the floor is not known (riding is True)


@dataclass
class Decision:
    """A ride decision kept for the re-checks after the ride."""

    step: Step
    from_floor: int
    to_floor: int
    confidence: float
    new_floor: bool
    learn: bool
    deferred: bool = False  # a stepwise step held back for stepwise_hold_s
    t_event: float = math.nan  # its event's start when not the step's (a leg after a stop)
    next_shift_m: float = 0.0  # a short stop's arrival level was moved: add this to the next ride


__all__ = ['Decision', 'FloorState', 'RideEvent']
