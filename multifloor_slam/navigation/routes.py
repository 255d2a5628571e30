"""Multi-floor routes: drive to an elevator's staging pose, ride, leave the car, drive to the goal.

The route is a shortest path in a small graph: its nodes are the start, the goal and every
elevator stop (a link's staging pose on one floor it serves); a drive edge joins two nodes on
one floor and costs their geodesic distance through the floor's traversable mask (the known
free space eroded by the robot radius, :mod:`~multifloor_slam.navigation.free_space`); a ride
edge joins two stops of one link and costs ``ride_fixed_cost_m`` (waiting, doors, boarding) plus
``ride_cost_m_per_floor`` per storey. So the elevator, and the floor where a route changes cars
when no car serves both floors, fall out of one Dijkstra over a few dozen nodes.

The geodesic distances come from distance fields (:mod:`~multifloor_slam.navigation.geodesic`)
computed once per stop and kept by the :class:`RoutePlanner`: a query then costs one grid search
at most (start and goal on one floor), and only the fields of the stops the search reaches are
ever computed. Each drive leg's grid path is shortened by line-of-sight shortcuts.
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from multifloor_slam.errors import RouteError
from multifloor_slam.maps.building import Building, floor_label
from multifloor_slam.navigation.free_space import Mask, traversable
from multifloor_slam.navigation.geodesic import (
    Cell,
    DistanceField,
    GridGraph,
    polyline_length,
    shortcut,
)
from multifloor_slam.navigation.route_types import (
    XY,
    DriveLeg,
    Leg,
    RideLeg,
    Route,
    RouteParams,
    parse_floor,
)
from multifloor_slam.navigation.staging import StagingParams, staging_pose


@dataclass
class _Floor:
    mask: Mask
    graph: GridGraph
    nearest: NDArray[np.float64] | None = None  # (n, 2) traversable cell centres, for hints


@dataclass(frozen=True)
class _Stop:
    floor: int
    link: int
    cell: Cell
    pose: tuple[float, float, float]


Node = tuple[str, int, int]  # ('S', 0, 0), ('G', 0, 0), ('E', floor, link id)


class RoutePlanner:
    """Routes through one building; keeps masks, graphs and stop distance fields for reuse."""

    def __init__(self, building: Building, params: RouteParams | None = None) -> None:
        self.building = building
        self.params = params or RouteParams()
        self._floors: dict[int, _Floor] = {}
        self._stops: dict[tuple[int, int], _Stop | None] = {}
        self._fields: dict[tuple[int, int], DistanceField] = {}

    # ---- per-floor data, built on first use --------------------------------------------------
    def floor(self, index: int) -> _Floor:
        """The floor's traversable mask and grid graph."""
        if index not in self._floors:
            fl = self.building.floors[index]
            mask = traversable(fl, self.params.robot_radius_m)
            self._floors[index] = _Floor(mask, GridGraph(mask.traversable))
        return self._floors[index]

    def mask(self, index: int) -> Mask:
        """The floor's traversable mask."""
        return self.floor(index).mask

    def _snap(self, index: int, xy: XY, tolerance_m: float) -> tuple[Cell | None, XY | None]:
        """The point's cell if traversable, else the nearest traversable one within tolerance.

        Returns (cell or None, nearest traversable point anywhere on the floor or None).
        """
        fl = self.floor(index)
        row, col = fl.mask.to_cell(xy[0], xy[1])
        cell = (int(row), int(col))
        if fl.graph.inside(cell):
            return cell, xy
        if fl.nearest is None:
            x, y = fl.mask.to_world(fl.graph.rows, fl.graph.cols)
            fl.nearest = np.stack([x, y], axis=1)
        if not len(fl.nearest):
            return None, None
        d = np.hypot(fl.nearest[:, 0] - xy[0], fl.nearest[:, 1] - xy[1])
        k = int(d.argmin())
        near = (float(fl.nearest[k, 0]), float(fl.nearest[k, 1]))
        if d[k] <= tolerance_m + fl.mask.resolution * 0.5:
            return (int(fl.graph.rows[k]), int(fl.graph.cols[k])), near
        return None, near

    def stop(self, index: int, link_id: int) -> _Stop | None:
        """The link's stop on a floor: its staging pose moved onto traversable space, or None."""
        key = (index, link_id)
        if key not in self._stops:
            link = next(lk for lk in self.building.links if lk.id == link_id)
            pose = link.staging.get(index)
            if pose is None:  # not stored with the building: found from the floor map now
                b = self.building
                pose = staging_pose(
                    self.mask(index),
                    link.positions[index],
                    (b.car_width_m, b.car_depth_m),
                    StagingParams(robot_radius_m=self.params.robot_radius_m),
                ).pose
            cell, _ = self._snap(index, (pose[0], pose[1]), self.params.staging_tolerance_m)
            stop = None if cell is None else _Stop(index, link_id, cell, pose)
            self._stops[key] = stop
        return self._stops[key]

    def field(self, stop: _Stop) -> DistanceField:
        """The distance field of a stop (computed once)."""
        key = (stop.floor, stop.link)
        if key not in self._fields:
            self._fields[key] = self.floor(stop.floor).graph.field(stop.cell)
        return self._fields[key]

    def stops_on(self, index: int) -> list[_Stop]:
        """Usable stops on a floor."""
        out = []
        for link in self.building.links:
            if index in link.positions:
                s = self.stop(index, link.id)
                if s is not None:
                    out.append(s)
        return out

    # ---- checks ------------------------------------------------------------------------------
    def _check_point(self, what: str, index: int, xy: XY, tolerance_m: float) -> Cell:
        """The traversable cell of a start or goal, or a RouteError that says what is wrong."""
        fl = self.floor(index)
        label = floor_label(index)
        where = f'{what} {label} ({xy[0]:.2f}, {xy[1]:.2f})'
        if not all(math.isfinite(v) for v in xy):
            raise RouteError(f'{what} on {label} has a non-finite coordinate {xy}')
        cell, near = self._snap(index, xy, tolerance_m)
        if cell is not None:
            return cell
        hint = (
            f'; the nearest traversable point is ({near[0]:.2f}, {near[1]:.2f})'
            if near is not None
            else f'; {label} has no traversable space for a robot of radius '
            f'{self.params.robot_radius_m:g} m'
        )
        row, col = fl.mask.to_cell(xy[0], xy[1])
        r, c = int(row), int(col)
        if not bool(fl.mask.inside(r, c)):
            raise RouteError(f'{where} lies outside the map of {label} (unknown space){hint}')
        trinary = self.building.floors[index].layer.trinary()
        value = int(trinary[r, c])
        if value == 100:
            raise RouteError(f'{where} is inside an obstacle{hint}')
        if value < 0:
            raise RouteError(f'{where} is in unknown space (never seen free){hint}')
        raise RouteError(
            f'{where} is closer than the robot radius {self.params.robot_radius_m:g} m to an '
            f'obstacle or unknown space{hint}'
        )

    # ---- planning ----------------------------------------------------------------------------
    def plan(self, start_floor: int, start_xy: XY, goal_floor: int, goal_xy: XY) -> Route:
        """The cheapest route from a point on one floor to a point on another (or the same).

        Raises:
            RouteError: an unknown floor, a start or goal outside traversable space (the message
                names the nearest traversable point), or a goal no drive and ride reaches.
        """
        for index in (start_floor, goal_floor):
            if index not in self.building.floors:
                parse_floor(self.building, index)  # raises with the list of floors
        start_xy = (float(start_xy[0]), float(start_xy[1]))
        goal_xy = (float(goal_xy[0]), float(goal_xy[1]))
        s_cell = self._check_point('start', start_floor, start_xy, self.params.start_tolerance_m)
        g_cell = self._check_point('goal', goal_floor, goal_xy, self.params.goal_tolerance_m)
        res = self.building.resolution
        start_field: DistanceField | None = None
        start: Node = ('S', start_floor, 0)
        goal: Node = ('G', goal_floor, 0)

        def edges(node: Node) -> list[tuple[Node, float]]:
            nonlocal start_field
            kind, index, link_id = node
            out: list[tuple[Node, float]] = []
            if kind == 'S':
                for s in self.stops_on(index):
                    out.append((('E', index, s.link), self.field(s).distance(s_cell) * res))
                if index == goal_floor:
                    start_field = self.floor(index).graph.field(s_cell)
                    out.append((goal, start_field.distance(g_cell) * res))
                return out
            here = self.stop(index, link_id)
            assert here is not None
            f = self.field(here)
            for s in self.stops_on(index):
                if s.link != link_id:
                    out.append((('E', index, s.link), f.distance(s.cell) * res))
            if index == goal_floor:
                out.append((goal, f.distance(g_cell) * res))
            link = next(lk for lk in self.building.links if lk.id == link_id)
            for other in link.floors:
                if other != index and self.stop(other, link_id) is not None:
                    out.append((('E', other, link_id), self._ride_cost(index, other)))
            return out

        best: dict[Node, float] = {start: 0.0}
        prev: dict[Node, Node] = {}
        heap: list[tuple[float, Node]] = [(0.0, start)]
        done: set[Node] = set()
        while heap:
            cost, node = heapq.heappop(heap)
            if node in done:
                continue
            done.add(node)
            if node == goal:
                break
            for nxt, c in edges(node):
                if not math.isfinite(c) or nxt in done:
                    continue
                if cost + c < best.get(nxt, math.inf):
                    best[nxt] = cost + c
                    prev[nxt] = node
                    heapq.heappush(heap, (cost + c, nxt))
        if goal not in done:
            raise RouteError(self._unreachable_message(start_floor, start_xy, goal_floor, goal_xy))
        chain = [goal]
        while chain[-1] != start:
            chain.append(prev[chain[-1]])
        chain.reverse()
        return self._route(chain, best[goal], start_xy, goal_xy, s_cell, g_cell, start_field)

    def _ride_cost(self, a: int, b: int) -> float:
        return self.params.ride_fixed_cost_m + self.params.ride_cost_m_per_floor * abs(b - a)

    def _unreachable_message(self, sf: int, sxy: XY, gf: int, gxy: XY) -> str:
        head = (
            f'goal {floor_label(gf)} ({gxy[0]:.2f}, {gxy[1]:.2f}) is unreachable from start '
            f'{floor_label(sf)} ({sxy[0]:.2f}, {sxy[1]:.2f})'
        )
        if sf != gf:
            serving = [lk for lk in self.building.links if gf in lk.positions]
            if not serving:
                return f'{head}: no elevator link serves {floor_label(gf)}'
            if not self.stops_on(gf):
                return (
                    f'{head}: no elevator serving {floor_label(gf)} has a staging pose in '
                    'traversable space there'
                )
        return (
            f'{head}: no path through free space (robot radius '
            f'{self.params.robot_radius_m:g} m) and the elevators joins them'
        )

    def _route(
        self,
        chain: list[Node],
        cost: float,
        start_xy: XY,
        goal_xy: XY,
        s_cell: Cell,
        g_cell: Cell,
        start_field: DistanceField | None,
    ) -> Route:
        legs: list[Leg] = []
        pending: list[tuple[int, NDArray[np.float64]]] = []  # drive pieces of the current floor

        def flush() -> None:
            if not pending:
                return
            index = pending[0][0]
            pts = np.concatenate([p for _, p in pending])
            keep = np.ones(len(pts), bool)
            keep[1:] = np.any(np.diff(pts, axis=0) != 0, axis=1)
            pts = pts[keep]
            wps = [(float(x), float(y)) for x, y in pts]
            legs.append(DriveLeg(index, floor_label(index), wps, polyline_length(pts)))
            pending.clear()

        for a, b in itertools.pairwise(chain):
            if a[0] == 'E' and b[0] == 'E' and a[2] == b[2] and a[1] != b[1]:
                flush()
                board = self.stop(a[1], a[2])
                leave = self.stop(b[1], b[2])
                assert board is not None and leave is not None
                link = next(lk for lk in self.building.links if lk.id == a[2])
                car = link.positions.get(a[1], (link.x, link.y))
                legs.append(
                    RideLeg(a[2], a[1], b[1], floor_label(a[1]), floor_label(b[1]),
                            (float(car[0]), float(car[1])), board.pose, leave.pose,
                            self._ride_cost(a[1], b[1]))
                )  # fmt: skip
                continue
            index = a[1]
            cells = self._grid_path(a, b, s_cell, g_cell, start_field)
            mask = self.floor(index).mask
            cells = shortcut(mask.traversable, cells)
            x, y = mask.to_world(cells[:, 0], cells[:, 1])
            pts = np.stack([x, y], axis=1)
            if a[0] == 'S':
                pts[0] = start_xy
            if b[0] == 'G':
                pts[-1] = goal_xy
            if pending and pending[0][0] != index:
                flush()
            pending.append((index, pts))
        flush()
        length = sum(leg.length_m for leg in legs if isinstance(leg, DriveLeg))
        rides = [leg.elevator for leg in legs if isinstance(leg, RideLeg)]
        s, g = chain[0], chain[-1]
        return Route(legs, length, cost, (s[1], *start_xy), (g[1], *goal_xy), rides)

    def _grid_path(
        self, a: Node, b: Node, s_cell: Cell, g_cell: Cell, start_field: DistanceField | None
    ) -> NDArray[np.int64]:
        """Grid cells of the drive from node a to node b (same floor)."""
        target = g_cell if b[0] == 'G' else self._cell(b)
        if a[0] == 'S':
            if b[0] == 'G':
                assert start_field is not None
                return start_field.path_to(g_cell)
            stop = self.stop(b[1], b[2])
            assert stop is not None
            return self.field(stop).path_to(s_cell)[::-1]
        stop = self.stop(a[1], a[2])
        assert stop is not None
        return self.field(stop).path_to(target)

    def _cell(self, node: Node) -> Cell:
        stop = self.stop(node[1], node[2])
        assert stop is not None
        return stop.cell


def plan_route(
    building: Building,
    start_floor: int,
    start_xy: XY,
    goal_floor: int,
    goal_xy: XY,
    params: RouteParams | None = None,
) -> Route:
    """One route (a planner kept for more queries is faster: :class:`RoutePlanner`)."""
    return RoutePlanner(building, params).plan(start_floor, start_xy, goal_floor, goal_xy)


__all__ = [
    'DriveLeg',
    'Leg',
    'RideLeg',
    'Route',
    'RouteParams',
    'RoutePlanner',
    'parse_floor',
    'plan_route',
]
