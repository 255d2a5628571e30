"""The elevator stage: camera frames, ``floor/riding`` and laser scans in; the fused state out.

``elevator_detector`` (live) and ``process`` (offline) both run it. Camera frames drive the
state (one state per frame); ``on_riding`` and ``on_scan`` only update the barometer and laser
evidence the next frame is fused with (:mod:`multifloor_slam.elevators.state`). The state it
hands on is the one a subscriber of ``elevator/state`` reads back
(:meth:`ElevatorState.from_json` of the published JSON, rounding included), so the floor and
map stages see the same record live and offline.

The node calls ``on_riding`` and ``on_scan`` from its executor while a worker thread runs
``on_image``: a lock keeps the state machine consistent; the network itself runs outside it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from multifloor_slam.elevators.detector import Detection, ElevatorDetector
from multifloor_slam.elevators.laser_evidence import LaserEvidence
from multifloor_slam.elevators.state import ElevatorState, ElevatorStateMachine
from multifloor_slam.io.records import ElevatorStateRecord, ImageRecord, ScanRecord


@dataclass(frozen=True)
class ElevatorOutput:
    """One processed frame."""

    detections: list[Detection]
    state: ElevatorState
    json: str  # what is published on ``elevator/state``
    record: ElevatorStateRecord  # what a subscriber of ``elevator/state`` reads back


class ElevatorStage:
    """Detector + fused N-of-M state machine."""

    def __init__(self, detector: ElevatorDetector, state_machine: ElevatorStateMachine) -> None:
        self.detector = detector
        self.state_machine = state_machine
        self._lock = threading.Lock()

    def on_riding(self, t: float, riding: bool) -> None:
        """``floor/riding`` (from the floor stage offline, the floor estimator live)."""
        with self._lock:
            self.state_machine.on_riding(t, riding)

    def on_scan(self, rec: ScanRecord) -> LaserEvidence | None:
        """A laser scan (evaluated at most ``laser_rate_hz``; None when skipped or off)."""
        with self._lock:
            return self.state_machine.on_scan(rec)

    def on_image(self, rec: ImageRecord) -> ElevatorOutput:
        """Detect on one frame and update the fused state (stamped with the frame's time)."""
        detections = self.detector.detect(rec.image)
        return self.on_detections(rec.t, detections, rec.image.shape)

    def on_detections(
        self, t: float, detections: list[Detection], image_shape: tuple[int, ...]
    ) -> ElevatorOutput:
        """The state step of :meth:`on_image` for detections already made (batched offline)."""
        with self._lock:
            state = self.state_machine.update(t, detections, image_shape)
        text = state.to_json()
        back = ElevatorState.from_json(text, t)
        record = ElevatorStateRecord(t, back.state, back.confidence, text, back.t)
        return ElevatorOutput(detections, state, text, record)


__all__ = ['ElevatorOutput', 'ElevatorStage']
