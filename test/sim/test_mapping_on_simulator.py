"""The building mapper on the project simulator's bag: SLAM jumps of up to 6 m / 180 degrees
after every ride, rides known from the barometer alone (no camera), scored against the
simulator's ground-truth floor maps."""

from __future__ import annotations

from pathlib import Path

import pytest

from multifloor_slam.io.building_files import load_building
from multifloor_slam.pipeline.process import ProcessOptions, process_bag
from multifloor_slam.sim.ground_truth import load_ground_truth
from multifloor_slam.sim.map_score import score_building
from multifloor_slam.sim.simulator import SimConfig, simulate


@pytest.mark.slow
def test_simulated_three_floor_bag_gives_clean_layers_and_one_link_per_elevator(
    tmp_path: Path,
) -> None:
    cfg = SimConfig(
        camera=False, seed=0, rooms_per_visit=1, rooms_per_revisit=1, speed=1.0, tf=False
    )
    sim = simulate(cfg, tmp_path / 'sim')
    report = process_bag(
        sim.bag_path, tmp_path / 'building', ProcessOptions(detector='off', progress=False)
    )
    gt = load_ground_truth(sim.ground_truth_dir)
    building = load_building(Path(report.building_yaml))
    assert sorted(fl.label for fl in building.floors.values()) == ['L0', 'L1', 'L2']
    quality = score_building(building, gt)
    for label, q in quality.items():
        assert q['occupied_iou'] >= 0.9, (label, q)
        assert q['contamination'] < 0.005, (label, q)
        assert q['link_error_m'] <= 0.3, (label, q)
    used = {r['elevator'] for r in gt.rides}
    assert len(building.links) == len(used)
    assert report.map_stats['rides'] == len(gt.rides)
    true_z = {f['label']: f['elevation'] for f in gt.floors}
    for fl in building.floors.values():
        assert fl.elevation_m == pytest.approx(true_z[fl.label], abs=0.3)
