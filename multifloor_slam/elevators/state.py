"""Elevator state from detections: N-of-M smoothing into none/approaching/doors_open/inside.

A single frame is never trusted: a state is reported only when its evidence was seen in at least
``min_hits`` of the last ``window`` frames. Evidence per frame:

- ``inside``: an ``elevator_interior`` box covering at least ``inside_area`` of the image (inside a
  car the interior fills the view; a car glimpsed through a landing door does not);
- ``doors_open``: an ``elevator_door_open`` box of at least ``door_area`` of the image;
- ``approaching``: any elevator door or call panel of at least ``door_area`` / ``panel_area``.

The most specific state that holds wins (inside > doors_open > approaching > none). Its
confidence is the window's mean evidence score, so two strong hits of five score lower than five.
A gap in time longer than ``max_gap_s`` (camera dropped, bag jumped) or time running backwards
(bag looped) clears the window rather than mixing old frames with new ones.
"""

from __future__ import annotations

import json
import math
from collections import deque
from dataclasses import dataclass

from multifloor_slam.elevators.detector import Detection
from multifloor_slam.errors import ConfigError, InputDataError

STATES: tuple[str, ...] = ('none', 'approaching', 'doors_open', 'inside')

_DOOR_CLOSED = 'elevator_door_closed'
_DOOR_OPEN = 'elevator_door_open'
_PANEL = 'elevator_panel'
_INTERIOR = 'elevator_interior'


@dataclass(frozen=True)
class StateParams:
    """Smoothing settings.

    Attributes:
        window: M, number of recent frames considered.
        min_hits: N, frames of the window that must show a state's evidence.
        min_confidence: detections below this score are ignored.
        door_area: minimum image share of a door box (smaller = too far away to matter).
        panel_area: minimum image share of a panel box.
        inside_area: minimum image share of an interior box to count as being inside.
        max_gap_s: a longer gap between frames clears the window.
    """

    window: int = 5
    min_hits: int = 3
    min_confidence: float = 0.35
    door_area: float = 0.02
    panel_area: float = 0.002
    inside_area: float = 0.3
    max_gap_s: float = 2.0

    def __post_init__(self) -> None:
        if self.window < 1 or not 1 <= self.min_hits <= self.window:
            raise ConfigError(f'need 1 <= min_hits ({self.min_hits}) <= window ({self.window})')
        for name in ('min_confidence', 'door_area', 'panel_area', 'inside_area'):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f'{name} must lie in [0, 1]')
        if self.max_gap_s <= 0:
            raise ConfigError('max_gap_s must be > 0')


@dataclass(frozen=True)
class ElevatorState:
    """The smoothed state at time ``t`` (seconds, the frame's stamp).

    ``stamped`` is False when ``t`` did not come with the state (a plain word, or JSON without
    ``stamp``) but was filled in by whoever received it.
    """

    t: float
    state: str
    confidence: float
    stamped: bool = True

    def to_json(self) -> str:
        """``{"state", "confidence", "stamp"}`` JSON as published on ``elevator/state``."""
        return json.dumps(
            {'state': self.state, 'confidence': round(self.confidence, 4), 'stamp': self.t}
        )

    @classmethod
    def from_json(cls, text: str, receive_t: float) -> ElevatorState:
        """Parse what :meth:`to_json` writes; also a bare state word (``inside``).

        The state is lower-cased; a missing confidence is 1.0; a missing or non-finite
        ``stamp`` gives ``receive_t`` with ``stamped=False``. ``label`` is read as an old
        spelling of ``state``.

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
        if math.isfinite(t) and t > 0.0:
            return cls(t, state, confidence, True)
        return cls(float(receive_t), state, confidence, False)


class ElevatorStateMachine:
    """N-of-M smoothing of per-frame elevator evidence (see the module docstring)."""

    def __init__(self, params: StateParams | None = None) -> None:
        self.params = params or StateParams()
        self._frames: deque[dict[str, float]] = deque(maxlen=self.params.window)
        self._last_t: float | None = None

    def reset(self) -> None:
        """Forget all frames."""
        self._frames.clear()
        self._last_t = None

    def evidence(
        self, detections: list[Detection], image_shape: tuple[int, ...]
    ) -> dict[str, float]:
        """Per-state evidence score of one frame (0 = none)."""
        p = self.params
        score = dict.fromkeys(STATES[1:], 0.0)
        for d in detections:
            if d.confidence < p.min_confidence:
                continue
            area = d.area_fraction(image_shape)
            if d.class_name == _INTERIOR and area >= p.inside_area:
                score['inside'] = max(score['inside'], d.confidence)
            elif d.class_name in (_DOOR_OPEN, _DOOR_CLOSED) and area >= p.door_area:
                score['approaching'] = max(score['approaching'], d.confidence)
                if d.class_name == _DOOR_OPEN:
                    score['doors_open'] = max(score['doors_open'], d.confidence)
            elif d.class_name == _PANEL and area >= p.panel_area:
                score['approaching'] = max(score['approaching'], d.confidence)
        return score

    def update(
        self, t: float, detections: list[Detection], image_shape: tuple[int, ...]
    ) -> ElevatorState:
        """Add one frame's detections and return the smoothed state.

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
        self._frames.append(self.evidence(detections, image_shape))
        m = self.params.window
        for state in ('inside', 'doors_open', 'approaching'):
            scores = [f[state] for f in self._frames]
            if sum(s > 0 for s in scores) >= self.params.min_hits:
                return ElevatorState(t, state, sum(scores) / m)
        best = max((sum(f[s] for f in self._frames) / m for s in STATES[1:]), default=0.0)
        return ElevatorState(t, 'none', 1.0 - best)


__all__ = ['STATES', 'ElevatorState', 'ElevatorStateMachine', 'StateParams']
