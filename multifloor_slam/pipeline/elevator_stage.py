"""The elevator stage: camera frames in, detections and the smoothed elevator state out.

``elevator_detector`` (live) and ``process`` (offline) both run it. The state it hands on is the
one a subscriber of ``elevator/state`` reads back (:meth:`ElevatorState.from_json` of the
published JSON, rounding included), so the floor and map stages see the same record live and
offline.
"""

from __future__ import annotations

from dataclasses import dataclass

from multifloor_slam.elevators.detector import Detection, ElevatorDetector
from multifloor_slam.elevators.state import ElevatorState, ElevatorStateMachine
from multifloor_slam.io.records import ElevatorStateRecord, ImageRecord


@dataclass(frozen=True)
class ElevatorOutput:
    """One processed frame."""

    detections: list[Detection]
    state: ElevatorState
    json: str  # what is published on ``elevator/state``
    record: ElevatorStateRecord  # what a subscriber of ``elevator/state`` reads back


class ElevatorStage:
    """Detector + N-of-M state machine."""

    def __init__(self, detector: ElevatorDetector, state_machine: ElevatorStateMachine) -> None:
        self.detector = detector
        self.state_machine = state_machine

    def on_image(self, rec: ImageRecord) -> ElevatorOutput:
        """Detect on one frame and update the smoothed state (stamped with the frame's time)."""
        detections = self.detector.detect(rec.image)
        state = self.state_machine.update(rec.t, detections, rec.image.shape)
        text = state.to_json()
        back = ElevatorState.from_json(text, rec.t)
        record = ElevatorStateRecord(rec.t, back.state, back.confidence, text, back.t)
        return ElevatorOutput(detections, state, text, record)


__all__ = ['ElevatorOutput', 'ElevatorStage']
