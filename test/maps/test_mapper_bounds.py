"""BuildingMapper on bad input: far and NaN poses, unbounded or NaN ranges, bad angles.

Nothing crashes, everything refused is counted in ``mapper.stats``, and memory stays bounded.
"""

from __future__ import annotations

import math
import sys
import tracemalloc

import numpy as np
import pytest
from mapping_tour import raycast

from multifloor_slam.errors import ConfigError
from multifloor_slam.maps.mapper import BuildingMapper, MapperParams
from multifloor_slam.maps.stats import STAT_KEYS

BEAMS = 360
ANGLE_MIN = -math.pi
INC = 2 * math.pi / BEAMS
ANGLES = ANGLE_MIN + INC * np.arange(BEAMS)
#: A 6 m x 6 m room around the origin with an open side (a 4 m door) towards +x.
ROOM = np.array(
    [[-3, -3, 3, -3], [3, -3, 3, -2], [3, 2, 3, 3], [3, 3, -3, 3], [-3, 3, -3, -3]], float
)


def _ranges(x: float, y: float, range_max: float = 80.0) -> np.ndarray:
    return raycast(ROOM, (x, y, 0.0), ANGLES, range_max)  # inf where nothing is hit


def _mapper(**changes: object) -> BuildingMapper:
    """A mapper that maps every scan (these tests scan from few, repeated poses)."""
    changes = {'min_travel_m': 0.0, 'min_turn_deg': 0.0, **changes}
    return BuildingMapper(MapperParams(scan_wait_s=0.0, **changes))  # type: ignore[arg-type]


def _layer_bytes(mapper: BuildingMapper) -> int:
    return sum(fl.layer.logodds.nbytes for fl in mapper.floors.values())


def test_far_and_nan_poses_are_refused_counted_and_never_grow_a_layer() -> None:
    mapper = _mapper()
    t = 0.0
    for _ in range(20):  # a normal start in the room
        mapper.add_pose(t, 0.0, 0.0, 0.0)
        assert mapper.add_scan(t, _ranges(0.0, 0.0), ANGLE_MIN, INC, 0.05, 80.0)
        t += 0.1
    shape = mapper.floors[0].layer.shape
    tracemalloc.start()
    bad = [(1e7, 0.0), (1e4, 0.0), (1e5, 1e5), (-2e3, 5.0), (math.nan, 0.0), (0.0, math.inf)]
    for x, y in bad:  # the SLAM publishes garbage for a while; scans keep coming
        for _ in range(20):
            mapper.add_pose(t, x, y, 0.0)
            mapper.add_scan(t, _ranges(0.0, 0.0), ANGLE_MIN, INC, 0.05, 80.0)
            t += 0.1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    stats = mapper.stats
    assert stats['poses_out_of_extent'] == 4 * 20
    assert stats['poses_bad'] == 2 * 20
    assert mapper.floors[0].layer.shape == shape  # (10 km away grew it to 100 MB before)
    assert peak < 4 * 2**20, peak  # ((100 km, 100 km) raised MemoryError before)
    # Scans with no good pose near them wait for one, then are counted as without a pose.
    assert stats['scans_skipped_no_pose'] >= 100
    # Good poses again: mapping continues.
    mapper.add_pose(t, 0.5, 0.0, 0.0)
    assert mapper.add_scan(t, _ranges(0.5, 0.0), ANGLE_MIN, INC, 0.05, 80.0)
    assert mapper.stats['scans_integrated'] == stats['scans_integrated'] + 1
    assert set(stats) == set(STAT_KEYS)


def test_a_layer_stops_at_its_maximum_size_and_scans_beyond_it_are_refused() -> None:
    mapper = _mapper(max_layer_size_m=16.0)  # 320 cells -> 5 chunks, 16 m
    t = 0.0
    sizes = []
    for x in np.arange(0.0, 40.0, 0.25):  # a 40 m corridor: 2 m walls either side
        mapper.add_pose(t, float(x), 0.0, 0.0)
        walls = np.array([[-50.0, -1.0, 50.0, -1.0], [-50.0, 1.0, 50.0, 1.0]])
        ranges = raycast(walls, (float(x), 0.0, 0.0), ANGLES, 30.0)
        mapper.add_scan(t, ranges, ANGLE_MIN, INC, 0.05, 30.0)
        sizes.append(mapper.floors[0].layer.logodds.nbytes)
        t += 0.1
    layer = mapper.floors[0].layer
    assert max(layer.shape) <= 320
    assert max(sizes) <= 320 * 320 * 4
    stats = mapper.stats
    assert stats['scans_clipped_layer'] > 0 and stats['scans_out_of_layer'] > 0
    integrated = stats['scans_integrated'] + stats['scans_out_of_layer']
    assert integrated == stats['scans_in']


def test_beams_are_cut_at_the_extent_and_far_slam_maps_are_refused() -> None:
    mapper = _mapper(max_extent_m=20.0, no_return_free='cap')  # (an all no-return scan)
    mapper.add_pose(0.0, 15.0, 0.0, 0.0)
    assert mapper.add_scan(0.0, np.full(BEAMS, np.inf), ANGLE_MIN, INC, 0.05, 12.0)
    assert mapper.stats['scans_clipped_extent'] == 1
    xmax = mapper.floors[0].layer.origin_xy[0] + mapper.floors[0].layer.shape[1] * 0.05
    assert xmax <= 20.0 + 1e-9
    grid = np.zeros((40, 40), np.int8)
    slam = _mapper(map_source='slam_map')
    slam.add_pose(0.0, 0.0, 0.0, 0.0)
    assert not slam.add_slam_map(0.0, grid, 0.05, (1e7, 0.0, 0.0))
    assert not slam.add_slam_map(0.0, grid, 0.05, (math.nan, 0.0, 0.0))
    assert not slam.add_slam_map(0.0, grid, math.inf, (0.0, 0.0, 0.0))
    assert slam.add_slam_map(0.0, grid, 0.05, (1.0, 0.0, 0.0))
    s = slam.stats
    assert (s['slam_maps_out_of_extent'], s['slam_maps_bad'], s['slam_maps_used']) == (1, 2, 1)


@pytest.mark.parametrize('range_max', [math.inf, math.nan, sys.float_info.max])
def test_unbounded_range_max_does_not_crash_and_clears_only_to_max_free_range(
    range_max: float,
) -> None:
    # pointcloud_to_laserscan's default range_max is +inf (or the largest double).
    mapper = _mapper(no_return_free='cap')
    ranges = _ranges(0.0, 0.0, math.inf)
    ranges[::45] = 1e300  # absurd returns below range_max (beyond any layer)
    for k in range(3):
        mapper.add_pose(0.1 * k, 0.0, 0.0, 0.0)
        assert mapper.add_scan(0.1 * k, ranges, ANGLE_MIN, INC, 0.05, range_max)
    layer = mapper.floors[0].layer
    assert mapper.stats['scans_integrated'] == 3
    free = layer.free_mask()
    rows, cols = np.nonzero(free)
    r0, c0 = layer.cell_offset
    far = np.hypot((cols + c0 + 0.5) * 0.05, (rows + r0 + 0.5) * 0.05).max()
    assert 19.0 < far <= 20.0 * math.sqrt(2) + 0.1  # through the door, to 20 m (and 1e300)
    assert max(layer.shape) <= layer.params.max_cells
    assert layer.occupied_mask().sum() > 100  # the walls


def test_no_return_beams_clear_free_space_only_up_to_max_free_range() -> None:
    # A real laser: range_max 81.9 m, no return through the door. With 'cap' the default
    # (20 m, like slam_toolbox's max_laser_range) stops the free fan there; 0 keeps range_max.
    # The default 'bounded' stops it at the door frame (the shorter neighbouring return,
    # 3 / cos(33.7 deg) = 3.6 m): what lies beyond the door was never seen.
    reach = {}
    for mode, cap in (('cap', 20.0), ('cap', 0.0), ('bounded', 20.0)):
        mapper = _mapper(max_free_range_m=cap, no_return_free=mode)
        for k in range(3):
            mapper.add_pose(0.1 * k, 0.0, 0.0, 0.0)
            mapper.add_scan(0.1 * k, _ranges(0.0, 0.0, 81.9), ANGLE_MIN, INC, 0.05, 81.9)
        layer = mapper.floors[0].layer
        _, cols = np.nonzero(layer.free_mask())
        reach[mode, cap] = (cols + layer.cell_offset[1] + 0.5).max() * 0.05
    assert reach['cap', 20.0] == pytest.approx(20.0, abs=0.1)
    assert reach['cap', 0.0] == pytest.approx(81.9, abs=0.1)
    assert 3.0 < reach['bounded', 20.0] < 3.8
    assert MapperParams().max_free_range_m == 20.0
    assert MapperParams().no_return_free == 'bounded'
    with pytest.raises(ConfigError, match='no_return_free'):
        MapperParams(no_return_free='full')


def test_returns_beyond_max_hit_range_are_no_walls_but_clear_free_space() -> None:
    # Walls 40 m ahead (a long hall on a real log): with the 30 m default no wall is drawn
    # there and the beam clears free space up to 30 m; 0 draws the far wall.
    far = np.array([[40.0, -5.0, 40.0, 5.0], [-3.0, -3.0, -3.0, 3.0]])
    ranges = raycast(far, (0.0, 0.0, 0.0), ANGLES, 81.9)
    walls, reach = {}, {}
    for cap in (30.0, 0.0):
        mapper = _mapper(max_hit_range_m=cap)
        mapper.add_pose(0.0, 0.0, 0.0, 0.0)
        assert mapper.add_scan(0.0, ranges, ANGLE_MIN, INC, 0.05, 81.9)
        occ = mapper.floors[0].layer.occupied_points()
        walls[cap] = occ[:, 0].max()
        layer = mapper.floors[0].layer
        _, cols = np.nonzero(layer.logodds < 0)  # (crossed once)
        reach[cap] = (cols + layer.cell_offset[1] + 0.5).max() * 0.05
    assert walls[30.0] < -2.9  # only the near wall
    # The far returns still prove their beams free, up to max_hit_range_m.
    assert reach[30.0] == pytest.approx(30.0, abs=0.2)
    assert reach[0.0] == pytest.approx(40.0, abs=0.2)
    assert walls[0.0] == pytest.approx(40.0, abs=0.1)
    assert MapperParams().max_hit_range_m == 30.0


@pytest.mark.parametrize(
    ('angle_min', 'angle_increment'),
    [(math.nan, INC), (math.inf, INC), (ANGLE_MIN, 0.0), (ANGLE_MIN, math.nan)],
)
def test_bad_angles_are_counted_not_crashed_on(angle_min: float, angle_increment: float) -> None:
    mapper = _mapper()
    mapper.add_pose(0.0, 0.0, 0.0, 0.0)
    assert not mapper.add_scan(0.0, _ranges(0.0, 0.0), angle_min, angle_increment, 0.05, 80.0)
    assert mapper.stats['scans_bad_angles'] == 1 and mapper.stats['scans_integrated'] == 0
    assert not mapper.add_scan(0.1, np.ones(1), ANGLE_MIN, INC, 0.05, 80.0)  # one beam
    assert not mapper.add_scan(math.nan, _ranges(0.0, 0.0), ANGLE_MIN, INC, 0.05, 80.0)
    assert not mapper.add_scan(0.1, _ranges(0.0, 0.0), ANGLE_MIN, INC, 0.05, -1.0)
    assert mapper.stats['scans_bad'] == 3


def test_bound_parameters_are_validated() -> None:
    for bad in (
        {'max_extent_m': 0.0},
        {'max_extent_m': math.nan},
        {'max_layer_size_m': 3.0},  # under 64 cells of 5 cm
        {'max_free_range_m': -1.0},
        {'max_free_range_m': math.nan},
    ):
        with pytest.raises(ConfigError):
            MapperParams(**bad)  # type: ignore[arg-type]
    layer = MapperParams(max_extent_m=50.0, max_layer_size_m=20.0).layer_params()
    assert (layer.extent_m, layer.max_size_m) == (50.0, 20.0)
