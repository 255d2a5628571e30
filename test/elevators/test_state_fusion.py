"""Fusion of camera, barometer and laser into the elevator state (rules in elevators/state.py)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import cv2
import pytest
from laser_scenes import CAR, CAR_OPEN, CORRIDOR, Segment, cast

from multifloor_slam.elevators.detector import Detection
from multifloor_slam.elevators.state import (
    CAMERA_KEYS,
    ElevatorState,
    ElevatorStateMachine,
    StateParams,
    camera_evidence,
    fuse,
)

os.environ.setdefault('YOLO_CONFIG_DIR', tempfile.mkdtemp(prefix='yolo_cfg_'))

SHAPE = (240, 320, 3)
FULL = (0.0, 0.0, 320.0, 240.0)
DOORS = Path(__file__).resolve().parents[3] / 'shared' / 'data' / 'ordinary-doors' / 'test'


def det(name: str, conf: float = 0.8, box: tuple[float, ...] = (100, 40, 200, 230)) -> Detection:
    return Detection(name, 0, conf, (float(box[0]), float(box[1]), float(box[2]), float(box[3])))


INTERIOR = [det('elevator_interior', box=FULL)]
CAR_PANEL = [det('car_operating_panel', 0.7, box=(120, 20, 200, 200))]
OPEN_DOOR = [det('elevator_door_open')]


def cam(**scores: float) -> dict[str, float]:
    return {k: scores.get(k, 0.0) for k in CAMERA_KEYS}


# -------------------------------------------------------------------------- the rules, per frame
@pytest.mark.parametrize(
    ('camera', 'barometer', 'laser', 'inside', 'rule'),
    [
        # camera inside evidence needs the barometer (riding or a recent ride) or the laser box
        (cam(interior=0.7), 'riding', 'open', 0.7, 'camera+barometer'),
        (cam(interior=0.7), 'recent', 'unknown', 0.7, 'camera+barometer'),
        (cam(interior=0.7), 'parked', 'enclosed', 0.7, 'camera+laser'),
        (cam(interior=0.7), 'off', 'enclosed', 0.7, 'camera+laser'),
        (cam(interior=0.7), 'riding', 'enclosed', 0.7, 'camera+barometer+laser'),
        (cam(interior=0.7), 'parked', 'open', 0.0, ''),
        (cam(interior=0.7), 'parked', 'unknown', 0.0, ''),
        (cam(interior=0.7), 'unknown', 'open', 0.0, ''),
        (cam(interior=0.7), 'parked', 'door_gap', 0.0, ''),
        (cam(car_panel=0.6), 'parked', 'open', 0.0, ''),
        # a car operating panel in a moving car is strong
        (cam(car_panel=0.6), 'riding', 'open', 1.0, 'camera+barometer'),
        (cam(car_panel=0.6), 'recent', 'open', 0.6, 'camera+barometer'),
        # barometer riding and the laser box need no camera; either alone is not enough
        (cam(), 'riding', 'enclosed', 0.8, 'barometer+laser'),
        (cam(), 'riding', 'open', 0.0, ''),
        (cam(), 'parked', 'enclosed', 0.0, ''),
        (cam(hall_panel=0.9, door_open=0.9), 'riding', 'door_gap', 0.0, ''),
        # neither barometer nor laser has reported: the camera alone, as before fusion
        (cam(interior=0.7), 'unknown', 'unknown', 0.7, 'camera'),
        (cam(interior=0.7), 'off', 'off', 0.7, 'camera'),
        (cam(car_panel=0.5), 'off', 'unknown', 0.5, 'camera'),
    ],
)
def test_inside_truth_table(
    camera: dict[str, float], barometer: str, laser: str, inside: float, rule: str
) -> None:
    scores, got_rule = fuse(camera, barometer, laser)
    assert scores['inside'] == pytest.approx(inside)
    assert got_rule == rule


@pytest.mark.parametrize(
    ('camera', 'barometer', 'laser', 'doors_open', 'approaching'),
    [
        (cam(door_open=0.7), 'parked', 'open', 0.7, 0.7),
        (cam(door_closed=0.6), 'parked', 'open', 0.0, 0.6),
        (cam(hall_panel=0.5), 'parked', 'open', 0.0, 0.5),
        # the laser door gap supports doors_open with any elevator detection ...
        (cam(door_closed=0.6), 'parked', 'door_gap', 0.6, 0.6),
        (cam(interior=0.5), 'parked', 'door_gap', 0.5, 0.0),
        # ... or right after a ride; alone it is not evidence
        (cam(), 'recent', 'door_gap', 0.6, 0.0),
        (cam(), 'parked', 'door_gap', 0.0, 0.0),
        (cam(), 'riding', 'door_gap', 0.0, 0.0),
    ],
)
def test_doors_open_and_approaching(
    camera: dict[str, float], barometer: str, laser: str, doors_open: float, approaching: float
) -> None:
    scores, _ = fuse(camera, barometer, laser)
    assert scores['doors_open'] == pytest.approx(doors_open)
    assert scores['approaching'] == pytest.approx(approaching)


def test_camera_evidence_reads_new_and_legacy_classes() -> None:
    p = StateParams()
    frame = [
        det('hall_call_panel', 0.5, (10, 10, 40, 60)),
        det('elevator_panel', 0.6, (50, 10, 80, 60)),  # the old model's panel: a hall call panel
        det('car_operating_panel', 0.9, (0, 0, 20, 20)),  # far away: not inside evidence
        det('elevator_interior', 0.9, (0, 0, 100, 100)),  # a glimpse through doors
        det('elevator_door_closed', 0.2),  # too weak
        det('elevator_door_open', 0.8),
        det('person', 0.9),
    ]
    assert camera_evidence(frame, SHAPE, p) == cam(hall_panel=0.6, door_open=0.8)
    near = [det('car_operating_panel', 0.9, (100, 20, 200, 220))]
    assert camera_evidence(near, SHAPE, p) == cam(car_panel=0.9)


# -------------------------------------------------------------------------- the state machine
def run(
    sm: ElevatorStateMachine,
    frames: list[list[Detection]],
    t0: float = 0.0,
    scan: list[Segment] | None = None,
) -> list[ElevatorState]:
    out = []
    for i, f in enumerate(frames):
        t = t0 + 0.2 * i
        if scan is not None:
            sm.on_scan(cast(scan, t=t))
        out.append(sm.update(t, f, SHAPE))
    return out


def test_interior_frames_in_an_open_corridor_while_parked_never_give_inside() -> None:
    sm = ElevatorStateMachine()
    sm.on_riding(0.0, False)
    states = run(sm, [INTERIOR + CAR_PANEL] * 20, scan=CORRIDOR)
    assert {s.state for s in states} == {'none'}
    ev = states[-1].evidence
    assert ev is not None and (ev['barometer'], ev['laser']) == ('parked', 'open')
    assert ev['camera'] == {'interior': 0.8, 'car_panel': 0.7}


def test_a_ride_gives_inside_from_riding_and_the_car_box_even_without_the_camera() -> None:
    sm = ElevatorStateMachine()
    sm.on_riding(0.0, False)
    assert run(sm, [[]] * 5, scan=CAR)[-1].state == 'none'  # a closet is not a car
    sm.on_riding(1.0, True)
    states = run(sm, [[]] * 5, t0=1.0, scan=CAR)
    assert [s.state for s in states] == ['none', 'none', 'inside', 'inside', 'inside']
    assert states[-1].confidence == pytest.approx(0.8)
    assert states[-1].evidence is not None
    assert states[-1].evidence['inside'] == 'barometer+laser'


def test_a_car_panel_while_riding_is_strong() -> None:
    sm = ElevatorStateMachine(StateParams(use_laser=False))
    sm.on_riding(0.0, True)
    s = run(sm, [CAR_PANEL] * 5)[-1]
    assert (s.state, s.confidence) == ('inside', pytest.approx(1.0))
    assert s.evidence is not None and s.evidence['laser'] == 'off'


def test_a_recent_ride_supports_inside_until_its_memory_ends() -> None:
    sm = ElevatorStateMachine(StateParams(ride_memory_s=5.0, use_laser=False))
    sm.on_riding(0.0, True)
    sm.on_riding(10.0, False)
    assert run(sm, [INTERIOR] * 5, t0=10.0)[-1].state == 'inside'
    late = run(sm, [INTERIOR] * 5, t0=16.0)
    assert {s.state for s in late} == {'none'}
    assert late[-1].evidence is not None and late[-1].evidence['barometer'] == 'parked'


def test_the_laser_door_gap_after_a_ride_gives_doors_open() -> None:
    sm = ElevatorStateMachine()
    sm.on_riding(0.0, True)
    sm.on_riding(5.0, False)
    states = run(sm, [[]] * 5, t0=5.0, scan=CAR_OPEN)
    assert states[-1].state == 'doors_open'
    assert states[-1].evidence is not None and states[-1].evidence['laser'] == 'door_gap'


def test_stale_laser_evidence_is_not_used() -> None:
    sm = ElevatorStateMachine(StateParams(max_gap_s=1.0))
    sm.on_riding(0.0, True)
    sm.on_scan(cast(CAR, t=0.0))
    assert sm.laser_at(0.5) is not None
    assert sm.laser_at(5.0) is None
    assert run(sm, [[]] * 5, t0=5.0)[-1].state == 'none'


def test_sources_turned_off_are_ignored_and_camera_decides_alone() -> None:
    sm = ElevatorStateMachine(StateParams(use_barometer=False, use_laser=False))
    sm.on_riding(0.0, False)
    assert sm.on_scan(cast(CORRIDOR)) is None
    s = run(sm, [INTERIOR] * 5)[-1]
    assert s.state == 'inside'
    assert s.evidence is not None and (s.evidence['barometer'], s.evidence['laser']) == (
        'off',
        'off',
    )
    assert s.evidence['inside'] == 'camera'


def test_reset_forgets_the_other_sources() -> None:
    sm = ElevatorStateMachine()
    sm.on_riding(0.0, True)
    sm.on_scan(cast(CAR))
    sm.reset()
    assert sm.barometer_at(0.0) == 'unknown' and sm.laser_at(0.0) is None


# -------------------------------------------------------------------------- JSON
def test_evidence_round_trips_and_old_json_still_reads() -> None:
    sm = ElevatorStateMachine()
    sm.on_riding(0.0, True)
    s = run(sm, [CAR_PANEL] * 5, scan=CAR)[-1]
    back = ElevatorState.from_json(s.to_json(), 99.0)
    assert (back.state, back.t, back.stamped) == ('inside', s.t, s.stamped)
    assert back.evidence == s.evidence
    ev = json.loads(s.to_json())['evidence']
    assert ev['barometer'] == 'riding' and ev['laser'] == 'enclosed'
    assert ev['laser_box_m'] == pytest.approx([2.0, 2.0], abs=0.1)
    assert ev['hits'] == {'inside': 5} and ev['inside'] == 'camera+barometer+laser'
    old = ElevatorState.from_json('{"state": "inside", "confidence": 0.9, "stamp": 3.0}', 9.0)
    assert (old.state, old.t, old.evidence) == ('inside', 3.0, None)
    word = ElevatorState.from_json('doors_open', 9.0)
    assert (word.state, word.t, word.stamped, word.evidence) == ('doors_open', 9.0, False, None)
    odd = ElevatorState.from_json('{"state": "none", "evidence": [1, 2]}', 9.0)
    assert odd.evidence is None


# -------------------------------------------------------------------------- real photos
@pytest.mark.skipif(
    not (DOORS / 'images').is_dir(), reason='../shared ordinary-door photos absent'
)
def test_real_ordinary_door_photos_never_give_inside_with_a_parked_barometer() -> None:
    """Every other test-split photo of ordinary doors, 3 frames each, the real shipped model."""
    from multifloor_slam.elevators.detector import DetectorParams, ElevatorDetector

    detector = ElevatorDetector(DetectorParams(device='cpu'))
    paths = sorted((DOORS / 'images').iterdir())[::2]
    sm = ElevatorStateMachine()
    sm.on_riding(0.0, False)
    states: list[str] = []
    camera_inside = 0
    t = 0.0
    for i in range(0, len(paths), 16):
        images = [cv2.imread(str(p)) for p in paths[i : i + 16]]
        batch = [im for im in images if im is not None]
        for img, dets in zip(batch, detector.detect_batch(batch), strict=True):
            for _ in range(3):  # the robot looks at each door for a moment
                sm.on_scan(cast(CORRIDOR, t=t))
                s = sm.update(t, dets, img.shape)
                assert s.evidence is not None
                camera_inside += 'interior' in s.evidence['camera']
                camera_inside += 'car_panel' in s.evidence['camera']
                states.append(s.state)
                t += 0.2
    assert len(states) >= 3 * 60
    print(f'{len(states)} frames, {camera_inside} with camera inside evidence')
    assert 'inside' not in states, f'{states.count("inside")} inside ({camera_inside} camera)'
