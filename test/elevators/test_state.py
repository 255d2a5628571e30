from __future__ import annotations

import json

import pytest

from multifloor_slam.elevators.detector import Detection
from multifloor_slam.elevators.state import ElevatorStateMachine, StateParams
from multifloor_slam.errors import ConfigError

SHAPE = (240, 320, 3)


def det(name: str, conf: float = 0.8, box: tuple[float, ...] = (100, 40, 200, 230)) -> Detection:
    return Detection(name, 0, conf, (float(box[0]), float(box[1]), float(box[2]), float(box[3])))


CLOSED = [det('elevator_door_closed')]
OPEN = [det('elevator_door_open')]
INSIDE = [
    det('elevator_interior', box=(0, 0, 320, 240)),
    det('elevator_panel', box=(5, 50, 40, 140)),
]


def run(sm: ElevatorStateMachine, frames: list[list[Detection]], t0: float = 0.0) -> list[str]:
    return [sm.update(t0 + 0.1 * i, f, SHAPE).state for i, f in enumerate(frames)]


def test_state_needs_n_of_m_frames() -> None:
    sm = ElevatorStateMachine(StateParams(window=5, min_hits=3))
    states = run(sm, [CLOSED, [], CLOSED, [], CLOSED, [], [], []])
    assert states == ['none', 'none', 'none', 'none', 'approaching', 'none', 'none', 'none']


def test_single_false_detections_never_change_the_state() -> None:
    sm = ElevatorStateMachine(StateParams(window=5, min_hits=3))
    frames = [[], [], OPEN, [], [], [], INSIDE, [], [], []]
    assert set(run(sm, frames)) == {'none'}


def test_open_doors_and_inside_take_precedence() -> None:
    sm = ElevatorStateMachine(StateParams(window=4, min_hits=2))
    assert run(sm, [CLOSED, CLOSED, OPEN, OPEN])[-1] == 'doors_open'
    assert run(sm, [INSIDE, INSIDE], t0=0.4)[-1] == 'inside'


def test_small_boxes_and_weak_scores_are_not_evidence() -> None:
    sm = ElevatorStateMachine(StateParams(window=3, min_hits=2, door_area=0.05))
    far = [det('elevator_door_closed', box=(10, 10, 20, 30))]
    weak = [det('elevator_door_open', conf=0.1)]
    peek = [det('elevator_interior', box=(100, 40, 180, 200))]
    assert set(run(sm, [far, weak, peek, far, weak, peek])) == {'none'}


def test_confidence_is_the_window_mean_and_none_has_a_confidence() -> None:
    sm = ElevatorStateMachine(StateParams(window=4, min_hits=2))
    sm.update(0.0, [det('elevator_door_open', 0.9)], SHAPE)
    s = sm.update(0.1, [det('elevator_door_open', 0.7)], SHAPE)
    assert s.state == 'doors_open'
    assert s.confidence == pytest.approx((0.9 + 0.7) / 4)
    empty = ElevatorStateMachine().update(0.0, [], SHAPE)
    assert empty.state == 'none' and empty.confidence == pytest.approx(1.0)


def test_time_gap_or_time_going_back_clears_the_window() -> None:
    sm = ElevatorStateMachine(StateParams(window=3, min_hits=2, max_gap_s=1.0))
    assert run(sm, [OPEN, OPEN])[-1] == 'doors_open'
    assert sm.update(5.0, OPEN, SHAPE).state == 'none'
    assert sm.update(5.1, OPEN, SHAPE).state == 'doors_open'
    assert sm.update(1.0, OPEN, SHAPE).state == 'none'


def test_to_json_has_state_confidence_and_stamp() -> None:
    s = ElevatorStateMachine(StateParams(window=1, min_hits=1)).update(12.5, OPEN, SHAPE)
    data = json.loads(s.to_json())
    evidence = data.pop('evidence')
    assert data == {'state': 'doors_open', 'confidence': 0.8, 'stamp': 12.5}
    assert evidence['camera'] == {'door_open': 0.8}
    assert (evidence['barometer'], evidence['laser']) == ('unknown', 'unknown')


def test_invalid_state_parameters_raise_config_error() -> None:
    with pytest.raises(ConfigError, match='min_hits'):
        StateParams(window=3, min_hits=4)
    with pytest.raises(ConfigError, match='inside_area'):
        StateParams(inside_area=2.0)
