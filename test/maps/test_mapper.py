"""BuildingMapper: per-floor layers, elevator episodes, re-anchoring, ICP revisits, links."""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pytest
from mapping_tour import Tour, evaluate, feed, make_tour, raycast

from multifloor_slam.errors import ConfigError
from multifloor_slam.maps.building import Building
from multifloor_slam.maps.mapper import (
    BuildingMapper,
    FloorLayer,
    MapperParams,
    floor_label,
)
from multifloor_slam.maps.occupancy_layer import OccupancyLayer
from multifloor_slam.maps.scan_geometry import (
    scan_points,
    se2_compose,
    transform_points,
)

#: mapper parameters that map every scan, however still the robot stands
EVERY_SCAN = {'min_travel_m': 0.0, 'min_turn_deg': 0.0}


@pytest.fixture(scope='module')
def tour() -> Tour:
    return make_tour(scan_rate_hz=5.0, speed_mps=1.5, seed=3)


@pytest.fixture(scope='module')
def mapped(tour: Tour) -> BuildingMapper:
    mapper = BuildingMapper()
    feed(mapper, tour)
    return mapper


def test_three_floor_tour_with_slam_jumps_gives_layers_matching_the_plans(
    tour: Tour, mapped: BuildingMapper
) -> None:
    assert sorted(mapped.floors) == [0, 1, 2]
    assert [fl.label for _, fl in sorted(mapped.floors.items())] == ['L0', 'L1', 'L2']
    quality = evaluate(mapped, tour)
    for index, q in quality.items():
        assert q['occupied_iou'] >= 0.9, (index, q)
        assert q['free_iou'] >= 0.9, (index, q)
        assert q['contamination'] < 0.005, (index, q)
        assert q['link_error_m'] <= 0.3, (index, q)
    for index, z in tour.plan.elevations.items():
        assert mapped.floors[index].elevation_m == pytest.approx(z, abs=0.1)
    stats = mapped.stats
    assert stats['rides'] == 4
    assert stats['icp_accepted'] == 2 and stats['icp_rejected'] == 0
    assert stats['scans_skipped_elevator'] >= sum(s.in_car or s.riding for s in tour.scans)


def test_distinct_elevators_are_distinct_links(tour: Tour, mapped: BuildingMapper) -> None:
    links = sorted(mapped.links, key=lambda link: link.x)
    assert [link.floors for link in links] == [[0, 1], [1, 2]]
    for link, shaft in zip(links, (tour.plan.shafts['A'], tour.plan.shafts['B']), strict=True):
        assert math.hypot(link.x - shaft.cx, link.y - shaft.cy) < 0.3
        assert link.rides == 2


def test_reanchoring_removes_the_injected_slam_jump(tour: Tour, mapped: BuildingMapper) -> None:
    assert len(tour.jumps) == 4
    assert max(math.hypot(j[0], j[1]) for j in tour.jumps) > 1.0
    last = tour.scans[-1]
    assert mapped.transform is not None
    est = se2_compose(mapped.transform, last.slam_pose)
    assert math.hypot(est[0] - last.true_pose[0], est[1] - last.true_pose[1]) < 0.1
    assert abs(est[2] - last.true_pose[2]) < math.radians(1.0)
    # Without re-anchoring (scans at the raw SLAM pose) the later floors are smeared.
    params = MapperParams().layer_params()
    naive = {i: FloorLayer(i, OccupancyLayer(params), 0.0) for i in (0, 1, 2)}
    for s in tour.scans:
        if s.in_car or s.riding:
            continue
        pts = scan_points(s.ranges, tour.angle_min, tour.angle_increment, 0.05, tour.range_max)
        naive[s.floor].layer.integrate(
            s.slam_pose[:2], transform_points(pts.free_xy, s.slam_pose), pts.hit, True
        )
    smeared = evaluate(SimpleNamespace(floors=naive, links=[]), tour)
    assert min(q['occupied_iou'] for q in smeared.values()) < 0.6


def _room_scan(pose: tuple[float, float, float]) -> np.ndarray:
    segs = np.array([[-3, -3, 3, -3], [3, -3, 3, 3], [3, 3, -3, 3], [-3, 3, -3, -3]], float)
    angles = -math.pi + 2 * math.pi / 360 * np.arange(360)
    return raycast(segs, pose, angles, 20.0)


def _scan(mapper: BuildingMapper, t: float, x: float = 0.0) -> bool:
    mapper.add_pose(t, x, 0.0, 0.0)
    return mapper.add_scan(t, _room_scan((x, 0.0, 0.0)), -math.pi, 2 * math.pi / 360, 0.05, 20)


def test_no_scan_is_integrated_while_riding_inside_the_car_or_before_the_floor_settles() -> None:
    mapper = BuildingMapper(MapperParams(floor_settle_s=1.0, car_exit_m=0.3, **EVERY_SCAN))
    assert _scan(mapper, 0.0)
    mapper.set_elevator_state(0.5, 'inside')
    assert not _scan(mapper, 0.6)
    mapper.set_riding(1.0, True)
    assert not _scan(mapper, 1.5)
    mapper.set_floor(5.0, 1)
    mapper.set_riding(5.2, False)
    assert not _scan(mapper, 5.3)  # still inside the car
    mapper.set_elevator_state(5.4, 'none')
    assert not _scan(mapper, 5.5)  # floor changed 0.5 s ago: not settled
    assert not _scan(mapper, 6.5)  # the robot still stands in the car: anchor when it moves off
    assert _scan(mapper, 6.7, x=0.5)
    assert mapper.current_floor == 1
    assert sorted(mapper.floors) == [0, 1]
    assert mapper.stats['scans_skipped_elevator'] == 5
    assert mapper.links[0].floors == [0, 1]
    # A detector 'inside' blip without a floor change keeps the floor and its frame.
    before = mapper.transform
    mapper.set_elevator_state(7.0, 'inside')
    mapper.set_elevator_state(7.5, 'doors_open')
    assert _scan(mapper, 8.0, x=0.5)
    assert mapper.transform == before
    assert mapper.stats['rides'] == 1


def test_icp_rejections_keep_the_anchor_or_skip_the_visit(tour: Tour) -> None:
    # (the single ICP from the anchor; global registration is tested in test_registration.py)
    strict = {'icp_max_correction_m': 0.0, 'icp_max_correction_deg': 0.0, 'revisit_global': False}
    anchor = BuildingMapper(MapperParams(icp_reject='anchor', **strict))
    feed(anchor, tour)
    assert anchor.stats['icp_rejected'] == 2
    assert anchor.last_alignment is not None and not anchor.last_alignment.accepted
    for q in evaluate(anchor, tour).values():
        assert q['occupied_iou'] >= 0.9  # the anchor alone is good on this tour
    skip = BuildingMapper(MapperParams(icp_reject='skip', **strict))
    feed(skip, tour)
    assert skip.stats['icp_rejected'] == 2
    assert skip.stats['scans_skipped_visit'] > 50
    assert skip.stats['scans_integrated'] < anchor.stats['scans_integrated']


def test_slam_map_source_copies_the_slam_grid_through_the_floor_transform() -> None:
    mapper = BuildingMapper(MapperParams(map_source='slam_map'))
    grid = np.full((40, 60), -1, np.int8)  # 3 m x 2 m at 5 cm
    grid[10:30, 10:50] = 0
    grid[20, 10:50] = 100
    mapper.add_pose(0.0, 0.0, 0.0, 0.0)
    assert mapper.add_slam_map(0.0, grid, 0.05, (1.0, 2.0, 0.0))
    layer = mapper.floors[0].layer
    tri = layer.trinary()
    r0, c0 = layer.cell_offset
    assert tri[40 + 20 - r0, 20 + 30 - c0] == 100  # y = 2 + 20*0.05, x = 1 + 30*0.05
    assert tri[40 + 15 - r0, 20 + 30 - c0] == 0
    assert (tri == 100).sum() == 40
    # Rotated by 90 degrees: the occupied row becomes a column.
    rot = BuildingMapper(MapperParams(map_source='slam_map'))
    rot.add_pose(0.0, 0.0, 0.0, 0.0)
    assert rot.add_slam_map(0.0, grid, 0.05, (0.0, 0.0, math.pi / 2))
    occ = rot.floors[0].layer.occupied_points()
    assert np.allclose(occ[:, 0], -20.5 * 0.05, atol=0.03)
    assert (occ[:, 1].max() - occ[:, 1].min()) == pytest.approx(39 * 0.05, abs=0.06)
    # Scans are not integrated in this mode, and a ride blocks the SLAM map too.
    assert not rot.add_scan(0.1, _room_scan((0, 0, 0)), -math.pi, 2 * math.pi / 360, 0.05, 20)
    rot.set_riding(1.0, True)
    assert not rot.add_slam_map(1.1, grid, 0.05, (0.0, 0.0, 0.0))


def test_floor_labels_and_param_validation() -> None:
    assert [floor_label(i) for i in (0, 3, -1, -2)] == ['L0', 'L3', 'B1', 'B2']
    with pytest.raises(ConfigError):
        MapperParams(map_source='lidar')
    with pytest.raises(ConfigError):
        MapperParams(anchor_yaw='north')
    with pytest.raises(ConfigError):
        MapperParams(resolution=-1.0)
    with pytest.raises(ConfigError):
        MapperParams(building_name='a/b')


def test_scans_newer_than_the_newest_pose_wait_for_the_next_pose() -> None:
    """A SLAM publishing poses at 2 Hz, scans at 10 Hz arriving before the pose after them."""

    def run(wait: float) -> BuildingMapper:
        mapper = BuildingMapper(MapperParams(scan_wait_s=wait, **EVERY_SCAN))
        for k in range(51):
            t = k * 0.1
            x = 0.2 * t  # 0.2 m/s along x
            if k % 5 == 0:
                mapper.add_pose(t, x, 0.0, 0.0)
            ranges = _room_scan((x, 0.0, 0.0))
            mapper.add_scan(t, ranges, -math.pi, 2 * math.pi / 360, 0.05, 20)
        mapper.flush()
        return mapper

    waited = run(0.5)
    assert waited.stats['scans_integrated'] == 51
    assert waited.stats['scans_skipped_no_pose'] == 0
    occ = waited.floors[0].layer.occupied_points()
    d = np.minimum(np.abs(np.abs(occ[:, 0]) - 3.0), np.abs(np.abs(occ[:, 1]) - 3.0))
    assert d.max() <= 0.08  # interpolated poses: the walls stay sharp
    eager = run(0.0)
    assert eager.stats['scans_skipped_no_pose'] > 15  # beyond pose_max_age_s: dropped


def test_a_floor_change_published_after_the_ride_end_still_goes_to_the_new_floor() -> None:
    mapper = BuildingMapper(MapperParams(floor_settle_s=1.0, car_exit_m=0.3, **EVERY_SCAN))
    assert _scan(mapper, 0.0)
    mapper.set_riding(1.0, True)
    mapper.set_riding(5.0, False)
    assert not _scan(mapper, 5.5)  # the estimator may still publish the new floor
    mapper.set_floor(5.8, 2)
    assert not _scan(mapper, 6.5)
    assert not _scan(mapper, 7.0)
    assert _scan(mapper, 7.2, x=0.4)
    assert sorted(mapper.floors) == [0, 2]
    assert mapper.floors[2].layer.occupied_mask().any()
    assert mapper.links[0].floors == [0, 2]


def test_icp_corrects_a_wrong_anchor_on_a_revisit(tour: Tour) -> None:
    """Shift the elevator's stored car position on L1 before the robot comes back to L1 through
    it: the anchor is then 0.3 m off, and ICP must bring the revisit back onto the layer."""

    def run(icp: bool) -> tuple[BuildingMapper, float]:
        mapper = BuildingMapper(MapperParams(icp_enabled=icp))
        second_ride_end = tour.rides[2][1]  # L2 -> L1 through B: the revisit of L1
        shifted = False
        for t, kind, value in tour.mapper_inputs():
            if not shifted and t >= second_ride_end - 1.0:
                link = next(lk for lk in mapper.links if 2 in lk.positions)
                x, y = link.positions[1]
                link.positions[1] = (x + 0.25, y - 0.15)
                shifted = True
            if kind == 'pose':
                mapper.add_pose(t, *value)
            elif kind == 'scan':
                mapper.add_scan(
                    t, value.ranges, tour.angle_min, tour.angle_increment, 0.05, tour.range_max
                )
            elif kind == 'floor':
                mapper.set_floor(t, value)
            elif kind == 'riding':
                mapper.set_riding(t, value)
            elif kind == 'elevator':
                mapper.set_elevator_state(t, value)
            if kind == 'scan' and t > second_ride_end + 6.0 and not value.in_car:
                break
        assert mapper.current_floor == 1 and mapper.transform is not None
        s = value
        est = se2_compose(mapper.transform, s.slam_pose)
        return mapper, math.hypot(est[0] - s.true_pose[0], est[1] - s.true_pose[1])

    refined, err = run(True)
    assert refined.stats['icp_accepted'] == 1
    assert err < 0.03
    assert evaluate(refined, tour)[1]['contamination'] < 0.005
    _, err_anchor_only = run(False)
    assert err_anchor_only > 0.25


def test_a_slam_jump_after_the_ride_end_while_the_robot_stands_in_the_car_is_removed() -> None:
    """The barometer reports the ride's end before the car stops; the SLAM jumps after that."""
    mapper = BuildingMapper(MapperParams(**EVERY_SCAN))
    for k in range(5):
        assert _scan(mapper, k * 0.1, x=0.0)
    mapper.set_riding(1.0, True)
    for k in range(11, 50):  # standing in the car
        _scan(mapper, k * 0.1)
    mapper.set_floor(5.0, 1)
    mapper.set_riding(5.0, False)
    jump = (2.0, -1.0, 0.5)
    t = 5.0
    for k in range(20):  # 2 s more standing; the SLAM jumps at 5.8 s
        t = 5.0 + k * 0.1
        pose = se2_compose(jump, (0.0, 0.0, 0.0)) if t >= 5.8 else (0.0, 0.0, 0.0)
        mapper.add_pose(t, *pose)
    for k in range(1, 10):  # drives off along its own x axis
        true = (0.1 * k, 0.0, 0.0)
        mapper.add_pose(t + 0.1 * k, *se2_compose(jump, true))
    assert mapper.transform is not None
    est = se2_compose(mapper.transform, se2_compose(jump, (0.9, 0.0, 0.0)))
    assert est == pytest.approx((0.9, 0.0, 0.0), abs=1e-6)


def test_the_building_view_shares_the_live_state_and_changes_nothing() -> None:
    mapper = BuildingMapper(MapperParams(building_name='hq', car_width_m=2.0, **EVERY_SCAN))
    mapper.floor_table = {'floors': []}
    assert _scan(mapper, 0.0)
    mapper.add_pose(0.5, 0.0, 0.0, 0.0)
    ranges = _room_scan((0.0, 0.0, 0.0))
    assert mapper.add_scan(0.7, ranges, -math.pi, 2 * math.pi / 360, 0.05, 20)  # waits
    before = mapper.stats
    building = mapper.building
    assert isinstance(building, Building)
    assert building.floors is mapper.floors and building.links is mapper.links
    assert building.floor_table is mapper.floor_table
    assert (building.name, building.car_width_m, building.resolution) == ('hq', 2.0, 0.05)
    assert building.layer_params == mapper.params.layer_params()
    assert mapper.stats == before  # the waiting scan still waits
    mapper.flush()
    assert mapper.stats['scans_integrated'] == before['scans_integrated'] + 1


def test_from_building_continues_the_floors_links_elevations_and_table(
    mapped: BuildingMapper,
) -> None:
    building = dataclasses.replace(mapped.building, floor_table={'floors': [{'index': 0}]})
    params = MapperParams(resolution=0.1, l_hit=1.2, initial_floor=1, building_name='hq')
    mapper = BuildingMapper.from_building(building, params)
    assert mapper.params.resolution == 0.05  # the layers keep theirs
    assert mapper.params.building_name == 'hq'  # named by the caller
    assert mapper.params.l_hit == 1.2
    assert sorted(mapper.floors) == [0, 1, 2]
    for index, fl in mapper.floors.items():
        old = mapped.floors[index]
        assert fl.layer.params == mapper.params.layer_params()  # re-made for this sensor model
        np.testing.assert_array_equal(fl.layer.logodds, old.layer.logodds)
        assert fl.layer.cell_offset == old.layer.cell_offset
    assert mapped.floors[0].layer.params == MapperParams().layer_params()  # source untouched
    assert [link.positions for link in mapper.links] == [lk.positions for lk in mapped.links]
    assert mapper.floor_table == {'floors': [{'index': 0}]}
    assert BuildingMapper.from_building(mapped.building).params.building_name == 'building'
    # A measured elevation goes on averaging with new altitudes.
    z1 = mapped.floors[1].elevation_m
    mapper.add_altitude(0.0, z1 + 0.2)
    assert mapper.floors[1].elevation_m == pytest.approx(z1 + 0.1)


def test_a_continued_building_aligns_the_first_scans_to_the_existing_floor(
    tour: Tour, mapped: BuildingMapper
) -> None:
    """A restarted SLAM has a new frame: ICP finds it from the first scans on the mapped floor."""
    mapper = BuildingMapper.from_building(mapped.building)
    offset = (0.2, -0.1, math.radians(2.0))  # the new SLAM frame, unknown to the mapper
    first_leg = [s for s in tour.scans if s.floor == 0 and not s.in_car][:40]
    for s in first_leg:
        slam = se2_compose(offset, s.true_pose)
        mapper.add_pose(s.t, *slam)
        mapper.add_scan(s.t, s.ranges, tour.angle_min, tour.angle_increment, 0.05, tour.range_max)
    mapper.flush()
    assert mapper.stats['icp_accepted'] == 1
    last = first_leg[-1]
    assert mapper.transform is not None
    est = se2_compose(mapper.transform, se2_compose(offset, last.true_pose))
    assert math.hypot(est[0] - last.true_pose[0], est[1] - last.true_pose[1]) < 0.05
