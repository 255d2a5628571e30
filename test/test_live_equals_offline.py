"""Live equals offline: the same bag through the three nodes over DDS and through ``process``.

The bag is replayed with ``multifloor-slam replay`` (with /clock) into ``multifloor-slam run
--use-sim-time``; the building the node saves on shutdown must match the offline one within the
tolerance the README states: the same floors and rides, per-floor occupied cells agreeing with
an IoU >= 0.85 (one-cell tolerance), elevator links within 0.3 m, elevations within 0.2 m.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from live_run import params_file, run_and_replay

from multifloor_slam.io.building_files import load_building
from multifloor_slam.maps.building import Building
from multifloor_slam.pipeline.process import ProcessOptions, process_bag
from multifloor_slam.sim.map_score import place
from multifloor_slam.sim.simulator import SimConfig, simulate

pytestmark = [pytest.mark.ros, pytest.mark.slow]


def _occupied_agreement(a: Building, b: Building, floor: int) -> float:
    la, lb = a.floors[floor].layer, b.floors[floor].layer
    occ_a = la.occupied_mask()
    occ_b = place(lb.occupied_mask(), lb.cell_offset, la.cell_offset, la.shape)
    kernel = np.ones((3, 3), np.uint8)
    near_a = cv2.dilate(occ_a.view(np.uint8), kernel).view(bool)
    near_b = cv2.dilate(occ_b.view(np.uint8), kernel).view(bool)
    agree = int((occ_a & near_b).sum()) + int((occ_b & near_a).sum())
    return agree / max(1, int(occ_a.sum()) + int(occ_b.sum()))


@pytest.fixture(scope='module')
def small_bag(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp('sim')
    simulate(SimConfig(floors=3, seed=3, visits=4, rooms_per_visit=1, camera=False), out)
    return out / 'bag'


def test_replayed_bag_through_the_nodes_matches_offline_processing(
    small_bag: Path, tmp_path: Path
) -> None:
    offline = process_bag(small_bag, tmp_path / 'offline', ProcessOptions(progress=False))

    live_dir = tmp_path / 'live'
    log = run_and_replay(small_bag, params_file(tmp_path / 'params.yaml', live_dir))

    live = load_building(live_dir / 'building.yaml')
    batch = load_building(Path(offline.building_yaml))
    assert sorted(live.floors) == sorted(batch.floors) == [0, 1, 2], log
    for index in batch.floors:
        agreement = _occupied_agreement(live, batch, index)
        assert agreement >= 0.85, (index, agreement)
        dz = abs(live.floors[index].elevation_m - batch.floors[index].elevation_m)
        assert dz <= 0.2, (index, dz)
    assert len(live.links) == len(batch.links)
    for link in batch.links:
        nearest = min(math.hypot(link.x - o.x, link.y - o.y) for o in live.links)
        assert nearest <= 0.3, (link, live.links)
