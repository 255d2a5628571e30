"""The Open-RMF export read back: a nav graph per level in free space, joined to every lift."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import yaml
from mapping_tour import default_plan, feed, make_tour
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from small_sim import SMALL_SIM

from multifloor_slam.io.building_files import save_building
from multifloor_slam.maps.mapper import BuildingMapper
from multifloor_slam.pipeline.process import ProcessOptions, process_bag
from multifloor_slam.sim.simulator import simulate

FREE = 254


@pytest.fixture(scope='module')
def tour_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    m = BuildingMapper()
    feed(m, make_tour(scan_rate_hz=4.0, speed_mps=2.0, seed=5))
    m.flush()
    return save_building(m.building, tmp_path_factory.mktemp('tour')).parent


@pytest.fixture(scope='module')
def sim_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sim = simulate(SMALL_SIM, tmp_path_factory.mktemp('sim'))
    out = tmp_path_factory.mktemp('out') / 'building'
    process_bag(sim.bag_path, out, ProcessOptions(progress=False))
    return out


def _read(out: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    data = yaml.safe_load((out / 'building.yaml').read_text())
    return data, yaml.safe_load((out / data['open_rmf']).read_text())


def _door_px(lift: dict[str, Any], door: dict[str, Any], res: float) -> tuple[float, float]:
    """Pixel offset (u right, v down) from the lift centre to a door (lift frame in metres)."""
    c, s = math.cos(lift['yaw']), math.sin(lift['yaw'])
    dx = door['x'] * c - door['y'] * s
    dy = door['x'] * s + door['y'] * c
    return dx / res, -dy / res


def _in_lift(lift: dict[str, Any], u: float, v: float, res: float) -> bool:
    du, dv = (u - lift['x']) * res, -(v - lift['y']) * res  # metres, y up
    c, s = math.cos(lift['yaw']), math.sin(lift['yaw'])
    lx, ly = du * c + dv * s, -du * s + dv * c
    return abs(lx) <= lift['width'] / 2 and abs(ly) <= lift['depth'] / 2


def check_export(out: Path) -> dict[str, Any]:
    """Every level: one connected graph in free space, joined to every lift serving it."""
    data, rmf = _read(out)
    res = float(data['resolution'])
    served = {label for lift in rmf['lifts'].values() for label in lift['level_doors']}
    assert served, 'no lift in the export'
    for label, level in rmf['levels'].items():
        img = cv2.imread(str(out / level['drawing']['filename']), cv2.IMREAD_UNCHANGED)
        verts, lanes = level['vertices'], level['lanes']
        assert all(len(v) >= 4 and isinstance(v[3], str) for v in verts)
        assert len(lanes) > 10
        names = {v[3]: k for k, v in enumerate(verts) if v[3]}
        cabins = {k for name, k in names.items() if name.endswith('_cabin')}
        for i, j, params in lanes:
            assert params['graph_idx'] == [2, 0] and params['bidirectional'] == [4, True]
            assert i not in (0, 1) and j not in (0, 1)  # the measurement's vertices stay apart
            if i in cabins or j in cabins:
                continue  # the lane through the lift door
            # Every lane stays in the map's free space (the level drawing: free pixels 254).
            (u0, v0), (u1, v1) = verts[i][:2], verts[j][:2]
            t = np.linspace(0.0, 1.0, int(math.hypot(u1 - u0, v1 - v0) * 4) + 2)
            uu, vv = u0 + (u1 - u0) * t, v0 + (v1 - v0) * t
            assert (img[np.floor(vv).astype(int), np.floor(uu).astype(int)] == FREE).all(), (
                f'{label}: lane {i}-{j} leaves free space'
            )
        ends = np.array([[i, j] for i, j, _ in lanes])
        adj = coo_matrix((np.ones(len(ends)), (ends[:, 0], ends[:, 1])), (len(verts),) * 2)
        _, comp = connected_components(adj, directed=False)
        used = np.unique(ends)
        assert len(np.unique(comp[used])) == 1, f'{label}: graph not connected'
        for lift_name, lift in rmf['lifts'].items():
            if label not in lift['level_doors']:
                continue
            cabin = names[f'{lift_name}_{label}_cabin']
            staging = names[f'{lift_name}_{label}_staging']
            assert comp[cabin] == comp[staging] == comp[used[0]]
            assert [staging, cabin] in [lane[:2] for lane in lanes]
            assert verts[staging][4] == {'is_holding_point': [4, True]}
            assert _in_lift(lift, *verts[cabin][:2], res)
            assert not _in_lift(lift, *verts[staging][:2], res)
            # The level's door faces the staging vertex.
            (door,) = lift['level_doors'][label]
            du, dv = _door_px(lift, lift['doors'][door], res)
            su, sv = verts[staging][0] - lift['x'], verts[staging][1] - lift['y']
            cos = (du * su + dv * sv) / (math.hypot(du, dv) * math.hypot(su, sv))
            assert cos > math.cos(math.radians(30)), f'{lift_name} door on {label}'
    return rmf


def test_tour_export_has_connected_graphs_joined_to_the_lift_doors(tour_out: Path) -> None:
    rmf = check_export(tour_out)
    plan = default_plan()
    assert len(rmf['lifts']) == 2
    data, _ = _read(tour_out)
    res = float(data['resolution'])
    for lift in rmf['lifts'].values():
        ((door_name, door),) = lift['doors'].items()
        assert all(doors == [door_name] for doors in lift['level_doors'].values())
        du, _ = _door_px(lift, door, res)
        # Shaft A (west) opens east, shaft B (east) opens west.
        east = lift['x'] < np.mean([lf['x'] for lf in rmf['lifts'].values()])
        assert (du > 0) == east
        assert lift['width'] == lift['depth'] == pytest.approx(1.6)
    assert plan.shafts['A'].door == 'east' and plan.shafts['B'].door == 'west'


def test_simulated_building_export_has_connected_graphs_joined_to_the_lift_doors(
    sim_out: Path,
) -> None:
    rmf = check_export(sim_out)
    for lift in rmf['lifts'].values():
        assert len(lift['level_doors']) == 3
        # The simulator's doors face -y, so the lift's front (+y in its frame) points down.
        assert abs(abs(lift['yaw']) - math.pi) < math.radians(10)
