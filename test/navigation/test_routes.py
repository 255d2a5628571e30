"""Multi-floor routes on a hand-made building: elevator choice, transfers, legs, errors."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from route_building import STAGING_Y, make_building

from multifloor_slam.errors import ConfigError, InputDataError, RouteError
from multifloor_slam.navigation import free_space
from multifloor_slam.navigation.route_types import ROBOT_RADIUS_M
from multifloor_slam.navigation.routes import (
    DriveLeg,
    RideLeg,
    Route,
    RouteParams,
    RoutePlanner,
    parse_floor,
    plan_route,
)

TWO_CARS = {0: (3.0, (0, 1)), 1: (20.0, (0, 1))}


def _kinds(route: Route) -> list[str]:
    return [leg.kind for leg in route.legs]


def _assert_drivable(planner: RoutePlanner, route: Route) -> None:
    """Every drive leg's segments stay in the floor's traversable space (ends may be snapped)."""
    for leg in route.legs:
        if isinstance(leg, DriveLeg):
            pts = np.asarray(leg.waypoints)
            mask = planner.mask(leg.floor)
            assert mask.segments_clear(pts[1:-2], pts[2:-1]).all() if len(pts) > 3 else True
            assert mask.is_traversable(pts[1:-1, 0], pts[1:-1, 1]).all()


def test_the_nearer_elevator_is_chosen_and_the_legs_are_drive_ride_drive() -> None:
    b = make_building(TWO_CARS)
    planner = RoutePlanner(b)
    east = planner.plan(0, (18.0, 2.0), 1, (17.0, 2.0))
    west = planner.plan(0, (5.0, 2.0), 1, (6.0, 1.5))
    assert _kinds(east) == ['drive', 'ride', 'drive'] == _kinds(west)
    assert east.elevators == [1] and west.elevators == [0]
    first, ride, last = east.legs
    assert isinstance(first, DriveLeg) and isinstance(ride, RideLeg) and isinstance(last, DriveLeg)
    assert (first.floor, ride.from_floor, ride.to_floor, last.floor) == (0, 0, 1, 1)
    assert first.waypoints[0] == (18.0, 2.0) and last.waypoints[-1] == (17.0, 2.0)
    # Drive to the staging pose, ride, leave at the staging pose on the goal floor.
    assert math.dist(first.waypoints[-1], (20.0, STAGING_Y)) < 0.1
    assert math.dist(last.waypoints[0], (20.0, STAGING_Y)) < 0.1
    assert ride.board_pose[:2] == (20.0, STAGING_Y) and ride.car_xy == (20.0, 5.4)
    # Cost = driving + one boarding + one storey.
    p = RouteParams()
    rides = p.ride_fixed_cost_m + p.ride_cost_m_per_floor
    assert east.length_m + rides - 1e-6 <= east.cost <= east.length_m * 1.1 + rides
    for route in (east, west):
        _assert_drivable(planner, route)


def test_a_route_changes_cars_on_the_floor_both_serve() -> None:
    b = make_building({0: (3.0, (0, 1)), 1: (20.0, (1, 2))}, floors=3)
    planner = RoutePlanner(b)
    route = planner.plan(0, (5.0, 2.0), 2, (18.0, 2.0))
    assert _kinds(route) == ['drive', 'ride', 'drive', 'ride', 'drive']
    rides = route.rides
    assert [(r.elevator, r.from_floor, r.to_floor) for r in rides] == [(0, 0, 1), (1, 1, 2)]
    transfer = route.legs[2]
    assert isinstance(transfer, DriveLeg) and transfer.floor == 1
    assert transfer.length_m == pytest.approx(17.0, abs=0.3)  # staging to staging
    _assert_drivable(planner, route)


def test_a_car_passing_a_floor_is_one_ride_not_two() -> None:
    b = make_building({0: (3.0, (0, 1, 2))}, floors=3)
    route = plan_route(b, 0, (6.0, 2.0), 2, (8.0, 2.0))
    assert _kinds(route) == ['drive', 'ride', 'drive']
    assert (route.rides[0].from_floor, route.rides[0].to_floor) == (0, 2)


def test_a_goal_on_the_same_floor_is_one_drive_around_an_obstacle() -> None:
    b = make_building(TWO_CARS, blocks={1: [(11.0, 0.4, 13.0, 3.5)]})
    planner = RoutePlanner(b)
    route = planner.plan(1, (8.0, 2.0), 1, (16.0, 2.0))
    assert _kinds(route) == ['drive'] and route.elevators == []
    leg = route.legs[0]
    assert isinstance(leg, DriveLeg)
    assert 8.5 < leg.length_m < 10.5  # around the block, not through it
    assert max(y for _, y in leg.waypoints) > 3.5
    assert len(leg.waypoints) <= 6  # line-of-sight shortcuts, not a staircase of cells
    _assert_drivable(planner, route)


def test_a_floor_cut_in_two_is_crossed_through_another_floor() -> None:
    b = make_building(TWO_CARS, split={0: 12.0})
    route = plan_route(b, 0, (5.0, 2.0), 0, (18.0, 2.0))
    assert _kinds(route) == ['drive', 'ride', 'drive', 'ride', 'drive']
    assert [(r.elevator, r.from_floor, r.to_floor) for r in route.rides] == [(0, 0, 1), (1, 1, 0)]


def test_the_cost_counts_a_boarding_and_each_storey_ridden() -> None:
    b = make_building({0: (3.0, (0, 1, 2))}, floors=3)
    for fixed, per_floor in ((15.0, 3.0), (0.0, 10.0)):
        params = RouteParams(ride_fixed_cost_m=fixed, ride_cost_m_per_floor=per_floor)
        route = plan_route(b, 0, (6.0, 2.0), 2, (8.0, 2.0), params)
        rides = fixed + 2 * per_floor
        # Drive costs are 8-connected grid distances: a little above the shortened path's length.
        assert rides <= route.cost - route.length_m <= rides + 0.1 * route.length_m
        assert route.rides[0].cost == pytest.approx(rides)


def test_a_costly_boarding_makes_a_transfer_route_lose_to_a_direct_car() -> None:
    # E0 serves L0-L2 but stands far west; E1 (L0-L1) and E2 (L1-L2) stand next to the points.
    shafts = {0: (1.5, (0, 1, 2)), 1: (20.0, (0, 1)), 2: (22.0, (1, 2))}
    b = make_building(shafts, floors=3)
    cheap = plan_route(b, 0, (21.0, 2.0), 2, (21.0, 1.5), RouteParams(ride_fixed_cost_m=0.0))
    dear = plan_route(b, 0, (21.0, 2.0), 2, (21.0, 1.5), RouteParams(ride_fixed_cost_m=60.0))
    assert cheap.elevators == [1, 2] and dear.elevators == [0]


def test_the_staging_pose_is_found_from_the_map_when_the_building_has_none() -> None:
    b = make_building(TWO_CARS, staging=False)
    route = plan_route(b, 0, (18.0, 2.0), 1, (17.0, 2.0))
    assert route.elevators == [1]
    board = route.rides[0].board_pose
    assert abs(board[0] - 20.0) < 0.5 and 2.5 < board[1] < 4.5  # in front of the door


def test_route_json_holds_the_legs() -> None:
    b = make_building(TWO_CARS)
    data = json.loads(plan_route(b, 0, (18.0, 2.0), 1, (17.0, 2.0)).to_json())
    assert [leg['kind'] for leg in data['legs']] == ['drive', 'ride', 'drive']
    assert data['start'] == {'floor': 0, 'label': 'L0', 'x': 18.0, 'y': 2.0}
    assert data['goal']['label'] == 'L1' and data['elevators'] == [1]
    ride = data['legs'][1]
    assert (ride['elevator'], ride['from_floor'], ride['to_floor']) == (1, 0, 1)
    assert data['legs'][0]['waypoints'][0] == [18.0, 2.0]
    assert data['length_m'] > 0 and data['cost'] > data['length_m']


def test_floors_are_named_by_label_or_index() -> None:
    b = make_building(TWO_CARS)
    assert parse_floor(b, 'L1') == 1 == parse_floor(b, 'l1') == parse_floor(b, '1')
    with pytest.raises(RouteError, match=r"unknown floor 'L7': the building has L0, L1"):
        parse_floor(b, 'L7')


# ---- errors ------------------------------------------------------------------------------------
@pytest.fixture(scope='module')
def planner() -> RoutePlanner:
    return RoutePlanner(make_building(TWO_CARS))


@pytest.mark.parametrize(
    ('goal', 'message'),
    [
        ((3, (5.0, 2.0)), r'unknown floor .*L0, L1'),
        (
            (1, (0.45, 2.0)),
            r'goal L1 \(0.45, 2.00\) is inside an obstacle; the nearest traversable',
        ),
        ((1, (2.0, 7.0)), r'is in unknown space \(never seen free\); the nearest traversable'),
        ((1, (-5.0, 2.0)), r'lies outside the map of L1 \(unknown space\)'),
        ((1, (0.55, 2.0)), r'closer than the robot radius 0.25 m .* nearest traversable point is'),
        ((1, (12.0, 6.75)), r'unreachable from start L0 .* no path through free space'),
        ((1, (math.nan, 2.0)), r'non-finite'),
    ],
)
def test_a_bad_goal_is_a_route_error_that_says_why(
    planner: RoutePlanner, goal: tuple[int, tuple[float, float]], message: str
) -> None:
    with pytest.raises(RouteError, match=message) as info:
        planner.plan(0, (5.0, 2.0), goal[0], goal[1])
    assert isinstance(info.value, InputDataError)


def test_a_start_outside_free_space_names_the_nearest_traversable_point(
    planner: RoutePlanner,
) -> None:
    with pytest.raises(RouteError, match=r'start L0 \(8.00, 6.00\) is in unknown space') as info:
        planner.plan(0, (8.0, 6.0), 1, (5.0, 2.0))
    near = re.search(r'the nearest traversable point is \(([\d.]+), ([\d.]+)\)', str(info.value))
    assert near is not None and math.dist((8.0, 4.25), map(float, near.groups())) < 0.1
    # Against the wall, within the start tolerance: the route begins at the point itself.
    route = planner.plan(0, (5.0, 0.65), 1, (5.0, 2.0))
    assert route.legs[0].waypoints[0] == (5.0, 0.65)  # type: ignore[union-attr]


def test_a_floor_no_elevator_serves_is_unreachable() -> None:
    b = make_building({0: (3.0, (0, 1))}, floors=3)
    with pytest.raises(RouteError, match='no elevator link serves L2'):
        plan_route(b, 0, (5.0, 2.0), 2, (5.0, 2.0))


def test_a_staging_pose_far_from_free_space_leaves_the_link_unused() -> None:
    b = make_building(TWO_CARS)
    b.links[1].staging[1] = (20.0, 7.5, 0.0)  # deep in unknown space: unusable on L1
    route = plan_route(b, 0, (18.0, 2.0), 1, (17.0, 2.0))
    assert route.elevators == [0]


def test_bad_parameters_are_config_errors() -> None:
    with pytest.raises(ConfigError, match='robot_radius_m'):
        RouteParams(robot_radius_m=-1.0)
    with pytest.raises(ConfigError, match='ride_cost_m_per_floor'):
        RouteParams(ride_cost_m_per_floor=math.inf)


def test_the_default_robot_radius_is_the_free_space_one() -> None:
    assert ROBOT_RADIUS_M == free_space.ROBOT_RADIUS_M == RouteParams().robot_radius_m
