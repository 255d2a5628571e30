"""Elevator links: clustering rides into elevators, the car's position on the arrival floor."""

from __future__ import annotations

import pytest

from multifloor_slam.maps.building import ElevatorLink
from multifloor_slam.maps.links import arrival_car_xy, link_for


def test_rides_from_near_one_car_position_are_one_elevator() -> None:
    links: list[ElevatorLink] = []
    a = link_for(links, 0, (3.0, 8.0), cluster_m=1.5)
    assert links == [a] and a.id == 0
    a.observe(0, (3.0, 8.0))
    assert link_for(links, 0, (3.5, 8.5), cluster_m=1.5) is a
    b = link_for(links, 0, (21.0, 8.0), cluster_m=1.5)  # the other shaft
    assert b is not a and b.id == 1 and len(links) == 2
    b.observe(0, (21.0, 8.0))
    # The same x, y on a floor neither link has served yet: a third link.
    c = link_for(links, 1, (3.0, 8.0), cluster_m=1.5)
    assert c.id == 2 and len(links) == 3


def test_the_nearest_link_within_range_wins() -> None:
    near, far = ElevatorLink(0), ElevatorLink(1)
    near.observe(0, (1.0, 0.0))
    far.observe(0, (-1.2, 0.0))
    links = [far, near]
    assert link_for(links, 0, (0.0, 0.0), cluster_m=1.5) is near
    assert link_for(links, 0, (0.0, 0.0), cluster_m=0.5).id == 2  # none close enough


def test_observations_average_per_floor() -> None:
    link = ElevatorLink(0)
    link.observe(2, (1.0, 1.0))
    link.observe(2, (2.0, 3.0))
    link.observe(2, (3.0, 2.0))
    link.observe(0, (10.0, 0.0))
    assert link.positions[2] == pytest.approx((2.0, 2.0))
    assert link.counts == {2: 3, 0: 1}
    assert link.floors == [0, 2]
    assert (link.x, link.y) == pytest.approx((6.0, 1.0))


def test_the_arrival_car_position_carries_the_offset_between_the_floor_frames() -> None:
    link = ElevatorLink(0)
    link.observe(0, (3.0, 8.0))
    # Never served floor 1: the ride defines where the car is there.
    assert arrival_car_xy(link, 0, (3.2, 7.9), 1) == (3.2, 7.9)
    link.observe(1, (5.0, 6.0))  # floor 1's frame is shifted by (2, -2) at this shaft
    assert arrival_car_xy(link, 0, (3.2, 7.9), 1) == pytest.approx((5.2, 5.9))
