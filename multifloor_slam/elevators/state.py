"""Elevator state fused from the camera, the barometer and the laser, smoothed N of M frames.

Each camera frame is one step. Its evidence comes from three sources:

- **camera** (this frame's detections, boxes below ``min_confidence`` ignored): ``interior`` an
  ``elevator_interior`` box of at least ``inside_area`` of the image; ``car_panel`` a
  ``car_operating_panel`` of at least ``car_panel_area`` (a car panel that close means the robot
  is in the car); ``hall_panel`` a ``hall_call_panel`` or the old models' ``elevator_panel`` of at
  least ``panel_area``; ``door_open`` / ``door_closed`` door boxes of at least ``door_area``;
- **barometer** (``floor/riding`` from the floor estimator): ``riding`` now, ``recent`` (a ride
  ended at most ``ride_memory_s`` ago), ``parked``, ``unknown`` (no riding message yet) or
  ``off`` (``use_barometer`` false);
- **laser** (:mod:`~multifloor_slam.elevators.laser_evidence`, the newest evaluated scan no more
  than ``max_gap_s`` from the frame): ``enclosed`` (a closed car-sized box around the robot),
  ``door_gap`` (such a box open in front), ``open``, ``unknown`` or ``off`` (``use_laser``).

Fusion rules, per frame (``cam_inside`` = the larger of ``interior`` and ``car_panel``):

- ``inside`` holds when ``cam_inside`` AND (barometer ``riding`` or ``recent`` OR laser
  ``enclosed``), scored ``cam_inside``, or 1.0 for a car panel while ``riding`` (strong: a car
  operating panel in a moving car); or when barometer ``riding`` AND laser ``enclosed`` without
  the camera, scored 0.8. The camera alone never gives ``inside`` once the barometer or the laser
  has reported: ordinary doors and corridors (barometer ``parked``, laser ``open``) cannot stop
  the mapping. Only when neither has reported (both ``unknown``/``off``) does the camera decide
  alone, as the camera-only machine did.
- ``doors_open`` holds on a ``door_open`` box, or on a laser ``door_gap`` supported by any
  elevator detection (door, panel, interior) or a ``recent`` ride (score 0.6 for the ride alone).
- ``approaching`` holds on any door box or hall call panel.

A single frame is never trusted: a state is reported only when its evidence held in at least
``min_hits`` of the last ``window`` frames; the most specific state that does wins (inside >
doors_open > approaching > none), and its confidence is the window's mean score. A gap in time
longer than ``max_gap_s`` or time running backwards clears the window. The published JSON
carries the evidence of the newest frame (see :meth:`ElevatorState.to_json`).
"""

from __future__ import annotations

import json
import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from multifloor_slam.elevators.classes import CLASS_NAMES, LEGACY_PANEL
from multifloor_slam.elevators.detector import Detection
from multifloor_slam.elevators.laser_evidence import LaserEvidence, LaserParams, LaserTracker
from multifloor_slam.errors import ConfigError, InputDataError

if TYPE_CHECKING:  # io imports this module (the adapter reads elevator states)
    from multifloor_slam.io.records import ScanRecord

STATES: tuple[str, ...] = ('none', 'approaching', 'doors_open', 'inside')
BAROMETER_STATES: tuple[str, ...] = ('riding', 'recent', 'parked', 'unknown', 'off')
CAMERA_KEYS: tuple[str, ...] = ('interior', 'car_panel', 'hall_panel', 'door_open', 'door_closed')

_DOOR_CLOSED, _DOOR_OPEN, _HALL_PANEL, _CAR_PANEL, _INTERIOR = CLASS_NAMES
#: ``inside`` score of barometer riding + laser enclosure with no camera support
SENSOR_PAIR_SCORE = 0.8
#: ``doors_open`` score of a laser door gap right after a ride, with no camera support
GAP_AFTER_RIDE_SCORE = 0.6
_SILENT = ('unknown', 'off')


@dataclass(frozen=True)
class StateParams:
    """Smoothing and fusion settings.

    Attributes:
        window: M, number of recent frames considered.
        min_hits: N, frames of the window that must show a state's evidence.
        min_confidence: detections below this score are ignored.
        door_area: minimum image share of a door box (smaller = too far away to matter).
        panel_area: minimum image share of a hall call panel box.
        inside_area: minimum image share of an interior box to count as inside evidence.
        car_panel_area: minimum image share of a car operating panel to count as inside evidence.
        max_gap_s: a longer gap between frames clears the window; laser evidence older than
            this is not used.
        use_barometer: use ``floor/riding`` (riding, recent ride, parked) as evidence.
        use_laser: use the laser (car-sized enclosure, door gap) as evidence.
        ride_memory_s: a ride that ended at most this long ago still supports ``inside``.
    """

    window: int = 5
    min_hits: int = 3
    min_confidence: float = 0.35
    door_area: float = 0.02
    panel_area: float = 0.002
    inside_area: float = 0.3
    car_panel_area: float = 0.04
    max_gap_s: float = 2.0
    use_barometer: bool = True
    use_laser: bool = True
    ride_memory_s: float = 15.0

    def __post_init__(self) -> None:
        if self.window < 1 or not 1 <= self.min_hits <= self.window:
            raise ConfigError(f'need 1 <= min_hits ({self.min_hits}) <= window ({self.window})')
        for name in ('min_confidence', 'door_area', 'panel_area', 'inside_area', 'car_panel_area'):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f'{name} must lie in [0, 1]')
        if self.max_gap_s <= 0:
            raise ConfigError('max_gap_s must be > 0')
        if not self.ride_memory_s >= 0:
            raise ConfigError('ride_memory_s must be >= 0')


@dataclass(frozen=True)
class ElevatorState:
    """The smoothed state at time ``t`` (seconds, the frame's stamp).

    ``stamped`` is False when ``t`` did not come with the state (a plain word, or JSON without
    ``stamp``) but was filled in by whoever received it. ``evidence`` is what the newest frame
    saw per source (None when the publisher sent none).
    """

    t: float
    state: str
    confidence: float
    stamped: bool = True
    evidence: dict[str, Any] | None = field(default=None, compare=False)

    def to_json(self) -> str:
        """``{"state", "confidence", "stamp"[, "evidence"]}`` as published on ``elevator/state``.

        ``evidence``: ``camera`` (score per camera key, zeros left out), ``barometer`` and
        ``laser`` (words), ``laser_box_m`` (the fitted box when there is one), ``hits`` (frames
        of the window per state) and ``inside`` (the rule that gave this frame's inside
        evidence: ``camera+barometer``, ``camera+laser``, ``barometer+laser``, ``camera``).
        """
        doc: dict[str, Any] = {
            'state': self.state,
            'confidence': round(self.confidence, 4),
            'stamp': self.t,
        }
        if self.evidence is not None:
            doc['evidence'] = self.evidence
        return json.dumps(doc)

    @classmethod
    def from_json(cls, text: str, receive_t: float) -> ElevatorState:
        """Parse what :meth:`to_json` writes; also older JSON and a bare state word (``inside``).

        The state is lower-cased; a missing confidence is 1.0; a missing or non-finite
        ``stamp`` gives ``receive_t`` with ``stamped=False``. ``label`` is read as an old
        spelling of ``state``; an ``evidence`` that is not an object is ignored.

        Raises:
            InputDataError: not JSON and not a state word, a state outside :data:`STATES`,
                or a confidence that is not a number in [0, 1].
        """
        raw = text.strip()
        if not raw.startswith('{'):
            doc: object = {'state': raw}
        else:
            try:
                doc = json.loads(raw)
            except ValueError as err:
                raise InputDataError(f'elevator state is not valid JSON: {raw[:80]!r}') from err
        if not isinstance(doc, dict):
            raise InputDataError(f'elevator state JSON is not an object: {raw[:80]!r}')
        word = doc.get('state', doc.get('label'))
        state = word.strip().lower() if isinstance(word, str) else ''
        if state not in STATES:
            raise InputDataError(f'unknown elevator state {state!r} (one of {", ".join(STATES)})')
        try:
            confidence = float(doc.get('confidence', 1.0))
            stamp = doc.get('stamp')
            t = float(stamp) if stamp is not None else math.nan
        except (TypeError, ValueError) as err:
            raise InputDataError(f'elevator state has a non-numeric field: {raw[:80]!r}') from err
        if not 0.0 <= confidence <= 1.0:
            raise InputDataError(f'elevator state confidence {confidence} is outside [0, 1]')
        evidence = doc.get('evidence')
        evidence = evidence if isinstance(evidence, dict) else None
        if math.isfinite(t) and t > 0.0:
            return cls(t, state, confidence, True, evidence)
        return cls(float(receive_t), state, confidence, False, evidence)


def camera_evidence(
    detections: list[Detection], image_shape: tuple[int, ...], params: StateParams
) -> dict[str, float]:
    """Best score per :data:`CAMERA_KEYS` of one frame's detections (0 = not seen)."""
    p = params
    score = dict.fromkeys(CAMERA_KEYS, 0.0)
    rules = {
        _INTERIOR: ('interior', p.inside_area),
        _CAR_PANEL: ('car_panel', p.car_panel_area),
        _HALL_PANEL: ('hall_panel', p.panel_area),
        LEGACY_PANEL: ('hall_panel', p.panel_area),
        _DOOR_OPEN: ('door_open', p.door_area),
        _DOOR_CLOSED: ('door_closed', p.door_area),
    }
    for d in detections:
        rule = rules.get(d.class_name)
        if rule is None or d.confidence < p.min_confidence:
            continue
        key, min_area = rule
        if d.area_fraction(image_shape) >= min_area:
            score[key] = max(score[key], d.confidence)
    return score


def fuse(camera: dict[str, float], barometer: str, laser: str) -> tuple[dict[str, float], str]:
    """Per-state scores of one frame and the rule that gave ``inside`` ('' none): module doc."""
    cam_inside = max(camera['interior'], camera['car_panel'])
    ride = barometer in ('riding', 'recent')
    box = laser == 'enclosed'
    inside, rule = 0.0, ''
    if barometer in _SILENT and laser in _SILENT:
        if cam_inside > 0.0:
            inside, rule = cam_inside, 'camera'
    elif cam_inside > 0.0 and (ride or box):
        strong = camera['car_panel'] > 0.0 and barometer == 'riding'
        inside = 1.0 if strong else cam_inside
        rule = '+'.join(['camera'] + ['barometer'] * ride + ['laser'] * box)
    elif barometer == 'riding' and box:
        inside, rule = SENSOR_PAIR_SCORE, 'barometer+laser'
    seen = max(camera['door_open'], camera['door_closed'], camera['hall_panel'])
    doors_open = camera['door_open']
    if laser == 'door_gap':
        after_ride = GAP_AFTER_RIDE_SCORE if barometer == 'recent' else 0.0
        doors_open = max(doors_open, seen, cam_inside, after_ride)
    scores = {'inside': inside, 'doors_open': doors_open, 'approaching': seen}
    return scores, rule


class ElevatorStateMachine:
    """Fusion and N-of-M smoothing of per-frame elevator evidence (see the module docstring)."""

    def __init__(
        self, params: StateParams | None = None, laser_params: LaserParams | None = None
    ) -> None:
        self.params = params or StateParams()
        self.laser = LaserTracker(laser_params)
        self._frames: deque[dict[str, float]] = deque(maxlen=self.params.window)
        self._last_t: float | None = None
        self._riding: bool | None = None
        self._ride_end_t: float | None = None

    def reset(self) -> None:
        """Forget all frames and the other sources' evidence."""
        self._frames.clear()
        self._last_t = None
        self._riding = None
        self._ride_end_t = None
        self.laser.reset()

    def on_riding(self, t: float, riding: bool) -> None:
        """``floor/riding`` at time ``t`` (s); the end of a ride starts the ``recent`` memory."""
        if not self.params.use_barometer:
            return
        if self._riding and not riding:
            self._ride_end_t = float(t)
        self._riding = bool(riding)

    def on_scan(self, rec: ScanRecord) -> LaserEvidence | None:
        """A laser scan; evaluated at most ``laser_rate_hz`` (the evidence, None when skipped)."""
        if not self.params.use_laser:
            return None
        return self.laser.on_scan(rec)

    def barometer_at(self, t: float) -> str:
        """The barometer's word (:data:`BAROMETER_STATES`) for a frame at ``t``."""
        if not self.params.use_barometer:
            return 'off'
        if self._riding is None:
            return 'unknown'
        if self._riding:
            return 'riding'
        end = self._ride_end_t
        if end is not None and -self.params.max_gap_s <= t - end <= self.params.ride_memory_s:
            return 'recent'
        return 'parked'

    def laser_at(self, t: float) -> LaserEvidence | None:
        """The laser evidence for a frame at ``t`` (None: off, no scan, or too old)."""
        if not self.params.use_laser:
            return None
        return self.laser.at(t, self.params.max_gap_s)

    def update(
        self, t: float, detections: list[Detection], image_shape: tuple[int, ...]
    ) -> ElevatorState:
        """Add one frame's detections, fuse them with the other sources, return the state.

        Args:
            t: frame time in seconds.
            detections: the frame's detections.
            image_shape: the frame's shape (rows, cols[, channels]) for box-area shares.
        """
        if self._last_t is not None and (
            t < self._last_t or t - self._last_t > self.params.max_gap_s
        ):
            self._frames.clear()
        self._last_t = t
        camera = camera_evidence(detections, image_shape, self.params)
        barometer = self.barometer_at(t)
        scan = self.laser_at(t)
        laser = 'off' if not self.params.use_laser else 'unknown' if scan is None else scan.state
        scores, rule = fuse(camera, barometer, laser)
        self._frames.append(scores)
        hits = {s: sum(f[s] > 0 for f in self._frames) for s in STATES[1:]}
        evidence: dict[str, Any] = {
            'camera': {k: round(v, 3) for k, v in camera.items() if v > 0.0},
            'barometer': barometer,
            'laser': laser,
        }
        if scan is not None and scan.size_m is not None:
            evidence['laser_box_m'] = [round(float(x), 2) for x in scan.size_m]
        evidence['hits'] = {s: n for s, n in hits.items() if n}
        if rule:
            evidence['inside'] = rule
        m = self.params.window
        for state in ('inside', 'doors_open', 'approaching'):
            if hits[state] >= self.params.min_hits:
                score = sum(f[state] for f in self._frames) / m
                return ElevatorState(t, state, score, evidence=evidence)
        best = max((sum(f[s] for f in self._frames) / m for s in STATES[1:]), default=0.0)
        return ElevatorState(t, 'none', 1.0 - best, evidence=evidence)


__all__ = [
    'BAROMETER_STATES',
    'CAMERA_KEYS',
    'STATES',
    'ElevatorState',
    'ElevatorStateMachine',
    'StateParams',
    'camera_evidence',
    'fuse',
]
