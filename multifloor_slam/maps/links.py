"""Which elevator a ride took, and where its car stands on the arrival floor.

A building has several elevators and the robot sees none of their ids: rides are told apart by
where the car stood on the departure floor. Departures close to a known car position are the same
elevator; the car's known offset between two floors then places the robot on the arrival floor.
"""

from __future__ import annotations

import math

from multifloor_slam.maps.building import ElevatorLink


def link_for(
    links: list[ElevatorLink], floor: int, xy: tuple[float, float], cluster_m: float
) -> ElevatorLink:
    """The link whose car on ``floor`` is nearest ``xy`` within ``cluster_m``, else a new one.

    A new link gets the next id and is appended to ``links``.
    """
    best, best_d = None, cluster_m
    for link in links:
        pos = link.positions.get(floor)
        if pos is None:
            continue
        d = math.hypot(pos[0] - xy[0], pos[1] - xy[1])
        if d <= best_d:
            best, best_d = link, d
    if best is None:
        best = ElevatorLink(len(links))
        links.append(best)
    return best


def arrival_car_xy(
    link: ElevatorLink, from_floor: int, departure_xy: tuple[float, float], to_floor: int
) -> tuple[float, float]:
    """Where the robot stands on ``to_floor`` after riding ``link`` from ``departure_xy``.

    Shafts are vertical: the car keeps its x, y. When the link has been seen on both floors, the
    robot's offset from the car's mean position on the departure floor is carried over to the
    arrival floor (the two floors' frames may differ by what earlier anchors left); otherwise
    the arrival floor's frame is defined by this ride and the position is the departure's.
    """
    dx, dy = departure_xy
    if to_floor in link.positions:
        fx, fy = link.positions[from_floor]
        ax, ay = link.positions[to_floor]
        return ax + dx - fx, ay + dy - fy
    return dx, dy


__all__ = ['arrival_car_xy', 'link_for']
