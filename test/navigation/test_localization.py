"""Localization mode's decisions (no ROS): which floor is shown when, and the arrival pose."""

from __future__ import annotations

import math

import pytest
from localization_tour import EXPECTED_FLOORS, NavTour, make_nav_tour, mapped_building

from multifloor_slam.errors import ConfigError
from multifloor_slam.maps.building import Building
from multifloor_slam.navigation.localization import FloorLocalizer, LocalizerParams, Switch

AMCL_VAR_XY, AMCL_VAR_YAW = 0.03**2, 0.01**2


def run(
    building: Building,
    inputs: list[tuple[float, str, object]],
    params: LocalizerParams | None = None,
) -> tuple[FloorLocalizer, list[Switch]]:
    """Feed the inputs as the node does; the switches in order."""
    loc = FloorLocalizer(building, params)
    out: list[Switch] = []
    for t, kind, value in inputs:
        if kind == 'odom':
            sw = loc.on_odom(t, *value)  # type: ignore[misc]
        elif kind == 'pose':
            loc.on_pose(t, *value, AMCL_VAR_XY, AMCL_VAR_YAW)  # type: ignore[misc, call-arg]
            sw = None
        elif kind == 'floor':
            sw = loc.on_floor(t, value)  # type: ignore[arg-type]
        else:
            sw = loc.on_riding(t, value)  # type: ignore[arg-type]
        if sw is not None:
            out.append(sw)
    return loc, out


def yaw_error_deg(a: float, b: float) -> float:
    return math.degrees(abs((a - b + math.pi) % (2 * math.pi) - math.pi))


@pytest.fixture(scope='module')
def building() -> Building:
    return mapped_building()


@pytest.fixture(scope='module')
def tour() -> NavTour:
    return make_nav_tour()


def test_maps_switch_once_per_arrival_after_the_robot_leaves_the_car(
    building: Building, tour: NavTour
) -> None:
    loc, switches = run(building, tour.inputs)
    assert [sw.floor for sw in switches] == EXPECTED_FLOORS
    assert switches[0].reason == 'start' and switches[0].initial_pose is None
    for sw, (t_end, floor) in zip(switches[1:], tour.arrivals, strict=True):
        assert sw.floor == floor and sw.reason == 'left_car'
        # After the ride, on the new floor, and only once the robot drove out of its stand.
        assert sw.t > t_end
        assert tour.true_floor(sw.t) == floor
    assert loc.shown == 0 and not loc.pending
    assert loc.label(2) == 'L2'


def test_no_switch_at_the_intermediate_stop(building: Building, tour: NavTour) -> None:
    _, switches = run(building, tour.inputs)
    stop_t = next(
        t for t, kind, v in tour.inputs if kind == 'floor' and v == 1 and t > tour.arrivals[1][0]
    )
    assert stop_t < tour.arrivals[2][0]
    assert not [sw for sw in switches if stop_t <= sw.t <= tour.arrivals[2][0]]
    assert [sw.floor for sw in switches if sw.t > stop_t] == [0]  # L1 is never shown


def test_initial_pose_is_within_0_3_m_and_5_deg_of_the_truth(
    building: Building, tour: NavTour
) -> None:
    """The robot turns in every car after AMCL's last pose (by pi on entering car A, plus half a
    radian during the ride): the heading must come through the ride by odometry."""
    _, switches = run(building, tour.inputs)
    for sw in switches[1:]:
        pose = sw.initial_pose
        assert pose is not None
        tx, ty, tyaw = tour.true_pose(pose.t)
        err = math.hypot(pose.x - tx, pose.y - ty)
        assert err < 0.3, (sw, err)
        assert yaw_error_deg(pose.yaw, tyaw) < 5.0, (sw, tyaw)
        # The covariance covers the error and is not absurdly wide.
        assert err < 3 * pose.sigma_xy and pose.sigma_xy < 1.0
        assert 0.0 < pose.sigma_yaw < math.radians(10)
        cov = pose.covariance()
        assert cov[0] == cov[7] == pytest.approx(pose.sigma_xy**2)
        assert cov[35] == pytest.approx(pose.sigma_yaw**2)
    # Link B was never seen on L0: that arrival is less sure than the others.
    assert switches[3].initial_pose.sigma_xy > switches[2].initial_pose.sigma_xy  # type: ignore[union-attr]
    assert [sw.initial_pose.link_id for sw in switches[1:]] == [0, 1, 1]  # type: ignore[union-attr]


def test_without_amcl_poses_the_arrival_is_the_car_with_unknown_heading(
    building: Building, tour: NavTour
) -> None:
    _, switches = run(building, tour.without('pose'))
    assert [sw.floor for sw in switches] == EXPECTED_FLOORS
    pose = switches[1].initial_pose
    assert pose is not None and pose.link_id == 0
    assert math.hypot(pose.x - 3.0, pose.y - 8.0) < 0.05  # link A's car position on L1
    assert pose.sigma_yaw == pytest.approx(math.pi) and pose.sigma_xy >= 1.0


def test_without_odometry_the_switch_waits_for_the_timeout(
    building: Building, tour: NavTour
) -> None:
    params = LocalizerParams(leave_timeout_s=3.0)
    loc = FloorLocalizer(building, params)
    switches = []
    for t, kind, value in tour.inputs:
        if kind == 'floor':
            sw = loc.on_floor(t, value)  # type: ignore[arg-type]
        elif kind == 'riding':
            sw = loc.on_riding(t, value)  # type: ignore[arg-type]
        elif kind == 'pose':
            loc.on_pose(t, *value)  # type: ignore[misc]
            sw = None
        else:  # no odometry: the node's timer ticks instead
            sw = loc.tick(t)
        if sw is not None:
            switches.append(sw)
    # The 4 s stop at L1 is longer than the 3 s timeout: without odometry it is shown.
    assert [sw.floor for sw in switches] == [0, 1, 2, 1, 0]
    assert all(sw.reason == 'timeout' for sw in switches[1:])


def test_a_floor_without_a_map_is_not_shown(building: Building) -> None:
    loc = FloorLocalizer(building)
    assert loc.on_floor(0.0, 7) is None and loc.shown is None
    assert loc.on_floor(0.1, 1) is not None and loc.shown == 1
    loc.on_riding(1.0, True)
    loc.on_floor(5.0, 7)
    loc.on_riding(5.3, False)
    loc.on_odom(5.4, 0.0, 0.0, 0.0)
    assert loc.on_odom(9.0, 2.0, 0.0, 0.0) is None
    assert loc.shown == 1 and 7 in loc.unknown_floors and not loc.pending


def test_a_ride_back_to_the_shown_floor_switches_nothing(building: Building) -> None:
    loc = FloorLocalizer(building)
    loc.on_floor(0.0, 1)
    loc.on_odom(0.0, 0.0, 0.0, 0.0)
    loc.on_riding(1.0, True)
    loc.on_floor(4.0, 2)
    loc.on_floor(8.0, 1)
    loc.on_riding(8.3, False)
    assert loc.on_odom(12.0, 3.0, 0.0, 0.0) is None
    assert loc.shown == 1 and len(loc.switches) == 1


@pytest.mark.parametrize(
    ('field', 'value'), [('exit_distance_m', 0.0), ('settle_s', -1.0), ('odom_drift', math.nan)]
)
def test_bad_parameters_are_config_errors(field: str, value: float) -> None:
    with pytest.raises(ConfigError, match=field):
        LocalizerParams(**{field: value})


def test_the_start_floor_timed_by_another_clock_does_not_hide_later_poses(
    building: Building, tour: NavTour
) -> None:
    """The node times the first floor by its own clock before any odometry arrives."""
    assert tour.inputs[0][1:] == ('floor', 0)
    _, switches = run(building, [(1.9e9, 'floor', 0), *tour.inputs[1:]])
    assert [sw.floor for sw in switches] == EXPECTED_FLOORS
    assert switches[1].initial_pose is not None and switches[1].initial_pose.sigma_xy < 1.0
