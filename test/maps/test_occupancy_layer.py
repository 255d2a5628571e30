"""OccupancyLayer: raster integration of scans, growth, thresholds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from mapping_tour import raycast

from multifloor_slam.errors import ConfigError
from multifloor_slam.maps import occupancy_layer
from multifloor_slam.maps.occupancy_layer import LayerParams, OccupancyLayer
from multifloor_slam.maps.scan_geometry import scan_points, transform_points

BEAMS = 360
ANGLE_MIN = -math.pi
INC = 2 * math.pi / BEAMS


def _room(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array(
        [[x0, y0, x1, y0], [x1, y0, x1, y1], [x1, y1, x0, y1], [x0, y1, x0, y0]], np.float64
    )


def _integrate(layer: OccupancyLayer, segs: np.ndarray, pose, range_max: float = 20.0) -> None:
    angles = ANGLE_MIN + INC * np.arange(BEAMS)
    ranges = raycast(segs, pose, angles, range_max)
    pts = scan_points(ranges, ANGLE_MIN, INC, 0.05, range_max)
    layer.integrate(pose[:2], transform_points(pts.free_xy, pose), pts.hit, pts.full_circle)


def _cell(layer: OccupancyLayer, x: float, y: float) -> float:
    res = layer.resolution
    r0, c0 = layer.cell_offset
    r, c = math.floor(y / res) - r0, math.floor(x / res) - c0
    h, w = layer.shape
    return float(layer.logodds[r, c]) if 0 <= r < h and 0 <= c < w else 0.0


def _near_max(layer: OccupancyLayer, x: float, y: float) -> float:
    res = layer.resolution
    return max(_cell(layer, x + dx * res, y + dy * res) for dx in (-1, 0, 1) for dy in (-1, 0, 1))


def test_scan_in_a_room_marks_walls_occupied_inside_free_and_outside_unknown() -> None:
    layer = OccupancyLayer()
    segs = _room(-2.0, -1.5, 3.0, 2.5)
    for x in (0.0, 0.5, 1.0):
        _integrate(layer, segs, (x, 0.2, 0.3))
    occ, free = layer.occupied_mask(), layer.free_mask()
    th_occ, th_free = layer.params.l_occupied, layer.params.l_free_thresh
    assert _near_max(layer, 1.02, -1.5) > th_occ  # south wall
    assert _near_max(layer, 3.0, 0.73) > th_occ  # east wall
    assert _cell(layer, 0.5, 1.0) < th_free
    assert _cell(layer, -1.0, -1.0) < th_free
    assert _cell(layer, 3.6, 0.0) == 0.0  # behind the wall: never observed
    # Every occupied cell lies on the room's outline (within one cell).
    res = layer.resolution
    rows, cols = np.nonzero(occ)
    r0, c0 = layer.cell_offset
    x = (cols + c0 + 0.5) * res
    y = (rows + r0 + 0.5) * res
    d = np.minimum.reduce([np.abs(x + 2.0), np.abs(x - 3.0), np.abs(y + 1.5), np.abs(y - 2.5)])
    assert d.max() <= 1.5 * res
    assert free.sum() > 0.8 * (5.0 * 4.0) / res**2
    tri = layer.trinary()
    assert set(np.unique(tri).tolist()) == {-1, 0, 100}


def test_grid_grows_in_every_direction_and_keeps_what_it_had() -> None:
    layer = OccupancyLayer(LayerParams(chunk_cells=16))
    segs = _room(-1.0, -1.0, 1.0, 1.0)
    _integrate(layer, segs, (0.0, 0.0, 0.0))
    before = layer.logodds.copy()
    before_off = layer.cell_offset
    far = _room(-41.0, -31.0, -39.0, -29.0)
    _integrate(layer, far, (-40.0, -30.0, 1.0))
    r0, c0 = layer.cell_offset
    assert r0 < before_off[0] and c0 < before_off[1]
    dr, dc = before_off[0] - r0, before_off[1] - c0
    h, w = before.shape
    np.testing.assert_array_equal(layer.logodds[dr : dr + h, dc : dc + w], before)
    assert _near_max(layer, -41.0, -30.0) > layer.params.l_occupied
    assert r0 % 16 == 0 and c0 % 16 == 0


def test_no_return_beams_clear_up_to_range_max_and_nan_beams_are_ignored() -> None:
    layer = OccupancyLayer()
    ranges = np.full(BEAMS, np.inf)
    ranges[:90] = np.nan
    for _ in range(4):
        pts = scan_points(ranges, ANGLE_MIN, INC, 0.1, 4.0)
        layer.integrate((0.0, 0.0), pts.free_xy, pts.hit, pts.full_circle)
    assert not layer.occupied_mask().any()
    assert _cell(layer, 3.5, 0.0) < layer.params.l_free_thresh  # beam at 0 rad
    assert _cell(layer, -0.2, -3.0) == 0.0  # beams from -pi to -pi/2 were NaN


def test_log_odds_are_clamped_so_a_removed_wall_is_unlearnt() -> None:
    p = LayerParams()
    layer = OccupancyLayer(p)
    wall = _room(-2.0, -2.0, 2.0, 2.0)
    inner = np.vstack([wall, [[1.0, -2.0, 1.0, 2.0]]])
    for _ in range(50):
        _integrate(layer, inner, (0.0, 0.0, 0.0))
    assert layer.logodds.max() <= p.l_max + 1e-6
    assert _near_max(layer, 1.0, 0.0) > p.l_occupied
    for _ in range(15):
        _integrate(layer, wall, (0.0, 0.0, 0.0))
    assert layer.logodds.min() >= p.l_min - 1e-6
    assert _near_max(layer, 1.0, 0.0) < p.l_free_thresh


def test_thin_wall_seen_at_grazing_angles_stays_occupied() -> None:
    layer = OccupancyLayer()
    segs = np.vstack([_room(0.0, 0.0, 20.0, 6.0), [[2.0, 3.0, 18.0, 3.0]]])
    for x in np.arange(1.0, 19.0, 0.25):
        _integrate(layer, segs, (float(x), 1.0, 0.0))
        _integrate(layer, segs, (float(x), 5.0, 0.0))
    res = layer.resolution
    row = math.floor(3.0 / res) - layer.cell_offset[0]
    c0 = layer.cell_offset[1]
    cols = np.arange(math.floor(2.5 / res), math.floor(17.5 / res)) - c0
    band = layer.occupied_mask()[row - 1 : row + 1, cols].any(axis=0)
    assert band.mean() > 0.98


@pytest.mark.parametrize('rays', [True, False])
def test_a_stray_hit_in_front_of_an_oblique_wall_is_cleared_by_later_scans(
    rays: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A wall 8.5-10 m away seen at 50-60 deg: one scan from a noisy pose draws it a cell or two
    # in front. Later scans clear that along their own rays; the neighbour min-filter alone
    # (no rays, the old rule) stopped every beam short of it, and the stray wall stayed.
    if not rays:
        monkeypatch.setattr(occupancy_layer, 'RAY_MIN_COS', 2.0)
    layer = OccupancyLayer()
    ys = np.arange(6.0, 9.0, 0.05) + 0.025
    th = layer.params.l_occupied
    _integrate(layer, np.array([[4.92, -15.0, 4.92, 15.0]]), (0.0, 0.0, 0.0))
    stray = sum(_cell(layer, 4.925, y) > th for y in ys)
    assert stray >= 8
    for k in range(8):
        _integrate(layer, np.array([[5.0, -15.0, 5.0, 15.0]]), (0.0, 0.1 * k - 0.4, 0.0))
    left = sum(_cell(layer, 4.925, y) > th for y in ys)
    wall = sum(max(_cell(layer, 4.975, y), _cell(layer, 5.025, y)) > th for y in ys)
    assert wall >= 0.9 * len(ys)  # the true wall stays
    assert (left == 0) if rays else (left == stray)


def test_invalid_params_are_rejected() -> None:
    with pytest.raises(ConfigError):
        LayerParams(resolution=0.0)
    with pytest.raises(ConfigError):
        LayerParams(free_thresh=0.7, occupied_thresh=0.6)
    with pytest.raises(ConfigError):
        LayerParams(l_free=0.1)


def test_a_layer_under_another_sensor_model_keeps_its_cells() -> None:
    layer = OccupancyLayer(LayerParams())
    layer.load_grid(np.linspace(-2, 3, 12, dtype=np.float32).reshape(3, 4), (5, -7))
    assert layer.with_params(LayerParams()) is layer
    other = layer.with_params(LayerParams(l_hit=1.5, l_max=4.0))
    assert other is not layer and other.params.l_hit == 1.5
    np.testing.assert_array_equal(other.logodds, layer.logodds)
    assert other.cell_offset == (5, -7)
    other.logodds[0, 0] = 9.0  # a copy: the source layer is not changed through it
    assert layer.logodds[0, 0] == -2.0
    with pytest.raises(ConfigError):
        layer.with_params(LayerParams(resolution=0.1))


def _circle(range_m: float) -> tuple[np.ndarray, np.ndarray]:
    """A full circle of no-return beams, free to ``range_m`` (sensor frame)."""
    pts = scan_points(np.full(BEAMS, np.inf), ANGLE_MIN, INC, 0.05, range_m)
    return pts.free_xy, pts.hit


def _at(free_xy: np.ndarray, x: float, y: float) -> np.ndarray:
    return free_xy + np.array([x, y])


def _world_extent(layer: OccupancyLayer) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) of the cells that were ever touched."""
    rows, cols = np.nonzero(layer.logodds)
    r0, c0 = layer.cell_offset
    res = layer.resolution
    return (
        (cols.min() + c0) * res,
        (rows.min() + r0) * res,
        (cols.max() + c0 + 1) * res,
        (rows.max() + r0 + 1) * res,
    )


def test_a_layer_never_grows_past_its_maximum_size() -> None:
    p = LayerParams(max_size_m=12.8)  # 256 cells, four chunks
    assert p.max_cells == 256 and LayerParams().max_cells == 5952
    layer = OccupancyLayer(p)
    free_xy, hit = _circle(3.0)
    placed = []
    for x in np.arange(0.0, 30.0, 0.5):  # drives 30 m along x with a 6 m wide view
        placed.append(layer.integrate((float(x), 0.0), _at(free_xy, x, 0.0), hit, True))
        assert max(layer.shape) <= p.max_cells
    assert placed[0] == 'ok'
    assert 'clipped_size' in placed and placed[-1] == 'refused_size'
    xmin, _, xmax, _ = _world_extent(layer)
    assert xmax - xmin <= 12.8 + 1e-9
    # A scan that fits is still taken whole, where the grid already is.
    before = layer.version
    assert layer.integrate((xmin + 4.0, 0.0), _at(free_xy, xmin + 4.0, 0.0), hit, True) == 'ok'
    assert layer.version == before + 1


def test_far_scans_are_refused_and_beams_are_cut_at_the_extent() -> None:
    layer = OccupancyLayer(LayerParams(extent_m=20.0))
    free_xy, hit = _circle(8.0)
    assert layer.integrate((25.0, 0.0), _at(free_xy, 25.0, 0.0), hit, True) == 'refused_extent'
    assert layer.integrate((1e7, 0.0), _at(free_xy, 1e7, 0.0), hit, True) == 'refused_extent'
    assert layer.integrate((np.nan, 0.0), free_xy, hit, True) == 'refused_extent'
    assert layer.shape == (0, 0)
    assert layer.integrate((15.0, -15.0), _at(free_xy, 15.0, -15.0), hit, True) == 'clipped_extent'
    xmin, ymin, xmax, ymax = _world_extent(layer)
    assert (xmax, ymin) == pytest.approx((20.0, -20.0))
    assert (xmin, ymax) == pytest.approx((7.0, -7.0), abs=0.06)
    # Hits beyond the extent are no hits; absurd and non-finite beam ends are no crash.
    ends = np.array([[30.0, -15.0], [1e300, 1e300], [np.inf, 0.0], [np.nan, 1.0], [16.0, -15.0]])
    placed = layer.integrate((15.0, -15.0), ends, np.ones(5, bool), False)
    assert placed == 'clipped_extent'
    occ = layer.occupied_points()
    assert len(occ) == 0 or occ[:, 0].max() < 20.0
    assert max(layer.shape) <= layer.params.max_cells


def test_set_region_drops_what_lies_beyond_the_extent_or_the_size() -> None:
    layer = OccupancyLayer(LayerParams(extent_m=5.0, max_size_m=6.4))
    region = np.zeros((40, 40), np.float32)  # 2 m x 2 m
    assert layer.set_region((1e7, 0.0), region) == 'refused_extent'
    assert layer.set_region((np.nan, 0.0), region) == 'refused_extent'
    assert layer.set_region((4.0, 0.0), region) == 'clipped_extent'
    assert layer.shape[1] * layer.resolution <= 6.4
    assert layer.origin_xy[0] + layer.shape[1] * layer.resolution <= 5.0 + 1e-9
    # The grid now covers 3.2-5 m: 6.4 m of layer reach no further left than -1.4 m.
    assert layer.set_region((-4.0, 0.0), region) == 'refused_size'
    assert layer.set_region((-2.0, 0.0), region) == 'clipped_size'
    assert layer.origin_xy[0] == pytest.approx(-1.4)
    assert layer.set_region((0.0, 0.0), region) == 'ok'
    assert max(layer.shape) * layer.resolution <= 6.4 + 1e-9


def test_bounds_are_validated() -> None:
    with pytest.raises(ConfigError):
        LayerParams(max_size_m=1.0)  # less than one chunk
    with pytest.raises(ConfigError):
        LayerParams(extent_m=0.0)
    with pytest.raises(ConfigError):
        LayerParams(extent_m=math.nan)
