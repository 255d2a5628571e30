"""The offline pipeline with the real detector on a simulated ride: the fused state says inside.

The elevator stage gets the floor stage's riding flags and the laser scans (as the live node
subscribes ``floor/riding`` and ``scan``); during the ride the state must be ``inside`` with
the barometer's ``riding`` in its evidence, and never ``inside`` far from the elevator.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from multifloor_slam.elevators.detector import DetectorParams, ElevatorDetector
from multifloor_slam.elevators.state import ElevatorStateMachine
from multifloor_slam.io.bag_reader import BagReader
from multifloor_slam.io.records import ImageRecord
from multifloor_slam.pipeline.elevator_stage import ElevatorOutput, ElevatorStage
from multifloor_slam.pipeline.process import ProcessOptions, make_pipeline, stream_topics
from multifloor_slam.sim.simulator import SimConfig, SimResult, simulate

os.environ.setdefault('YOLO_CONFIG_DIR', tempfile.mkdtemp(prefix='yolo_cfg_'))

RIDE_SIM = SimConfig(
    floors=2,
    seed=3,
    visits=2,
    rooms_per_visit=1,
    max_duration_s=130.0,  # the ride ends about 124 s into the tour
    camera=True,
    camera_rate_hz=1.0,
    tf=False,
    clock_rate_hz=0.0,
    scan_rate_hz=5.0,
    scan_beams=180,
    odom_rate_hz=5.0,
)


class RecordingStage(ElevatorStage):
    """The elevator stage, keeping every frame's output."""

    outputs: list[ElevatorOutput]

    def on_image(self, rec: ImageRecord) -> ElevatorOutput:
        out = super().on_image(rec)
        self.outputs.append(out)
        return out


@pytest.fixture(scope='module')
def ride(tmp_path_factory: pytest.TempPathFactory) -> SimResult:
    return simulate(RIDE_SIM, tmp_path_factory.mktemp('ride'))


def _run(bag: Path) -> RecordingStage:
    detector = ElevatorDetector(DetectorParams(device='cpu'))
    stage = RecordingStage(detector, ElevatorStateMachine())
    stage.outputs = []
    options = ProcessOptions(detector='run', progress=False)
    pipe = make_pipeline(options, stage)
    with BagReader(bag) as reader:
        streams, _ = stream_topics(reader, options)
        for kind, rec in reader.read(streams):
            pipe.feed(kind, rec)
    return stage


def test_a_simulated_ride_is_inside_with_barometer_and_laser_evidence(ride: SimResult) -> None:
    stage = _run(ride.bag_path)
    t0 = RIDE_SIM.start_time_s
    states = [(o.state.t - t0, o.state) for o in stage.outputs]
    assert len(states) > 100 and ride.trajectory.rides
    for r in ride.trajectory.rides:
        moving = [s for t, s in states if r.t_start <= t <= r.t_end]
        inside = [s for s in moving if s.state == 'inside']
        assert len(inside) >= len(moving) // 2, [s.state for s in moving]
        assert all(s.evidence is not None for s in inside)
        assert any(s.evidence['barometer'] == 'riding' for s in inside if s.evidence)
        assert any(s.evidence['laser'] == 'enclosed' for s in inside if s.evidence)
    near = [(r.t_doors_open_src - 5.0, r.t_exit + 20.0) for r in ride.trajectory.rides]
    far_inside = [
        t for t, s in states if s.state == 'inside' and not any(a <= t <= b for a, b in near)
    ]
    assert not far_inside, far_inside
