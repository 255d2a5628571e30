"""The camera's elevator state as evidence for the barometric floor decision.

A car seen (``inside`` or ``doors_open``) makes a ride easier to accept; a confident ``none``
makes a step more suspect. The estimator asks this object, it never reads the camera itself.
"""

from __future__ import annotations

import math

from multifloor_slam.elevators.state import STATES as ELEVATOR_STATES
from multifloor_slam.floors.ride_detector import Step

_SAW_CAR = ('doors_open', 'inside')


class ElevatorEvidence:
    """The latest elevator state and when the car was last seen."""

    def __init__(self, timeout_s: float) -> None:
        self._timeout = timeout_s
        self._last: tuple[float, str, float] | None = None
        self._t_saw_car = -math.inf

    def set(self, t: float, state: str, confidence: float) -> bool:
        """Take one state; False (and nothing kept) when it is malformed."""
        if state not in ELEVATOR_STATES or not math.isfinite(confidence) or not math.isfinite(t):
            return False
        confidence = min(1.0, max(0.0, float(confidence)))
        self._last = (float(t), state, confidence)
        if state in _SAW_CAR and confidence >= 0.5:
            self._t_saw_car = float(t)
        return True

    def in_car(self, t: float) -> bool:
        """The camera saw the car confidently within the timeout before ``t``."""
        el = self._last
        return el is not None and t - el[0] <= self._timeout and el[1] in _SAW_CAR and el[2] >= 0.5

    def around(self, step: Step) -> tuple[float, float]:
        """(car-seen confidence, no-elevator confidence) around ``step``."""
        el = self._last
        if self._t_saw_car >= step.t_start - self._timeout:
            conf = el[2] if el is not None and el[1] in _SAW_CAR else 0.7
            return conf, 0.0
        if el is not None and el[1] == 'none' and step.t_decided - el[0] <= self._timeout:
            return 0.0, el[2]
        return 0.0, 0.0


__all__ = ['ELEVATOR_STATES', 'ElevatorEvidence']
