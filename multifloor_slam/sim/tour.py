"""The robot's tour through a building: explore, take an elevator, ride, explore, revisit.

The tour follows each floor's waypoint graph (kept clear of clutter by construction), so the true
trajectory is collision-free. It is sampled densely (``dt``) and every sensor samples it.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from multifloor_slam.errors import ConfigError
from multifloor_slam.sim.building import Building, FloorPlan
from multifloor_slam.sim.pressure import ElevatorKinematics, ride_profile


@dataclass(frozen=True)
class TourConfig:
    """How the robot moves.

    Attributes:
        visits: floor visits in all (first visits of every floor, then revisits); None gives
            ``floors + 2``.
        rooms_per_visit: rooms explored on a first visit of a floor.
        rooms_per_revisit: rooms explored on a revisit.
        speed: driving speed (m/s).
        turn_rate: turning rate in place (rad/s).
        wait_s: (min, max) wait for the car in front of the doors.
        door_s: time the doors take to open or close.
        kinematics: car limits for every ride; None uses each elevator's own limits.
        max_duration: cut the tour after this many seconds (None: the whole tour).
        dt: sampling period of the true trajectory.
    """

    visits: int | None = None
    rooms_per_visit: int = 2
    rooms_per_revisit: int = 1
    speed: float = 0.7
    turn_rate: float = 1.0
    wait_s: tuple[float, float] = (3.0, 8.0)
    door_s: float = 1.5
    kinematics: ElevatorKinematics | None = None
    max_duration: float | None = None
    dt: float = 0.02

    def __post_init__(self) -> None:
        if self.visits is not None and not 1 <= self.visits <= 100:
            raise ConfigError(f'visits must be 1..100, got {self.visits}')
        if self.rooms_per_visit < 0 or self.rooms_per_revisit < 0:
            raise ConfigError('rooms per visit must be >= 0')
        if not 0.05 <= self.speed <= 2.0:
            raise ConfigError(f'speed must be 0.05-2 m/s, got {self.speed}')
        if not 0.1 <= self.turn_rate <= 3.0:
            raise ConfigError(f'turn_rate must be 0.1-3 rad/s, got {self.turn_rate}')
        if self.max_duration is not None and self.max_duration < 10.0:
            raise ConfigError(f'max_duration must be >= 10 s, got {self.max_duration}')
        if not 0.005 <= self.dt <= 0.1:
            raise ConfigError(f'dt must be 0.005-0.1 s, got {self.dt}')


@dataclass(frozen=True)
class Ride:
    """One elevator ride (times in tour seconds, from t = 0)."""

    elevator: str
    from_floor: int
    to_floor: int
    t_doors_open_src: float
    t_start: float
    t_end: float
    t_doors_open_dst: float
    t_exit: float


@dataclass
class Trajectory:
    """The true robot state every ``dt`` seconds (t from 0).

    Attributes:
        floor: index of the floor the robot is on (the departure floor while riding).
        riding: the car is moving.
        inside_car: the robot is inside an elevator car.
        open_door: per sample, id of the elevator whose door on ``floor`` is open, or ''.
        door_frac: how far that door is open (0-1).
        segment: SLAM segment number; it increases at the end of each ride.
    """

    t: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    yaw: NDArray[np.float64]
    z: NDArray[np.float64]
    floor: NDArray[np.int64]
    riding: NDArray[np.bool_]
    inside_car: NDArray[np.bool_]
    open_door: NDArray[np.str_]
    door_frac: NDArray[np.float64]
    segment: NDArray[np.int64]
    rides: list[Ride]
    visits: list[int]

    @property
    def duration(self) -> float:
        """Length of the tour in seconds."""
        return float(self.t[-1])

    def truncated(self, duration: float) -> Trajectory:
        """The first ``duration`` seconds (rides not finished by then are dropped)."""
        n = int(np.searchsorted(self.t, duration, side='right'))
        arrays = {
            k: getattr(self, k)[:n]
            for k in self.__dataclass_fields__
            if isinstance(getattr(self, k), np.ndarray)
        }
        rides = [r for r in self.rides if r.t_end <= self.t[n - 1]]
        visits = self.visits[: len(rides) + 1]
        return Trajectory(**arrays, rides=rides, visits=visits)

    def index_at(self, t: NDArray[np.float64]) -> NDArray[np.int64]:
        """Index of the sample at or just before each time in ``t``."""
        dt = self.t[1] - self.t[0] if len(self.t) > 1 else 1.0
        return np.clip(np.round(np.asarray(t) / dt).astype(np.int64), 0, len(self.t) - 1)


def _wrap(a: NDArray[np.float64] | float) -> NDArray[np.float64]:
    return (np.asarray(a) + np.pi) % (2 * np.pi) - np.pi


def _shortest_path(plan: FloorPlan, src: str, dst: str) -> list[str]:
    """Dijkstra over the floor's waypoint graph."""
    adj: dict[str, list[tuple[str, float]]] = {}
    for u, v in plan.edges:
        d = float(np.hypot(*np.subtract(plan.nodes[u], plan.nodes[v])))
        adj.setdefault(u, []).append((v, d))
        adj.setdefault(v, []).append((u, d))
    best = {src: 0.0}
    prev: dict[str, str] = {}
    heap = [(0.0, src)]
    while heap:
        d, u = heapq.heappop(heap)
        if u == dst:
            break
        if d > best.get(u, np.inf):
            continue
        for v, w in adj.get(u, []):
            if d + w < best.get(v, np.inf):
                best[v] = d + w
                prev[v] = u
                heapq.heappush(heap, (d + w, v))
    if dst not in best:
        raise ConfigError(f'no path from {src} to {dst} on floor {plan.label}')
    path = [dst]
    while path[-1] != src:
        path.append(prev[path[-1]])
    return path[::-1]


class _Recorder:
    """Accumulates trajectory pieces sampled every dt."""

    def __init__(self, cfg: TourConfig, x: float, y: float, yaw: float, floor: int, z: float):
        self.cfg = cfg
        self.cols: dict[str, list[NDArray]] = {k: [] for k in Trajectory.__dataclass_fields__}
        self.x, self.y, self.yaw, self.z = x, y, yaw, z
        self.floor = floor
        self.riding = False
        self.inside = False
        self.open_door = ''
        self.door_frac = 0.0
        self.segment = 0
        self.n = 0

    @property
    def t(self) -> float:
        return self.n * self.cfg.dt

    def _emit(self, n: int, **arrays: NDArray) -> None:
        if n <= 0:
            return
        state = {
            'x': self.x,
            'y': self.y,
            'yaw': self.yaw,
            'z': self.z,
            'floor': self.floor,
            'riding': self.riding,
            'inside_car': self.inside,
            'open_door': self.open_door,
            'door_frac': self.door_frac,
            'segment': self.segment,
        }
        for k, v in state.items():
            self.cols[k].append(arrays[k] if k in arrays else np.full(n, v))
        self.cols['t'].append((self.n + np.arange(n)) * self.cfg.dt)
        self.n += n

    def wait(self, seconds: float) -> None:
        self._emit(round(seconds / self.cfg.dt))

    def turn_to(self, yaw: float) -> None:
        d = float(_wrap(yaw - self.yaw))
        n = int(np.ceil(abs(d) / (self.cfg.turn_rate * self.cfg.dt)))
        if n:
            self._emit(n, yaw=_wrap(self.yaw + d * np.arange(1, n + 1) / n))
        self.yaw = float(_wrap(yaw))

    def drive_to(self, x: float, y: float) -> None:
        dist = float(np.hypot(x - self.x, y - self.y))
        if dist < 1e-6:
            return
        self.turn_to(float(np.arctan2(y - self.y, x - self.x)))
        n = int(np.ceil(dist / (self.cfg.speed * self.cfg.dt)))
        s = np.arange(1, n + 1) / n
        self._emit(n, x=self.x + (x - self.x) * s, y=self.y + (y - self.y) * s)
        self.x, self.y = x, y

    def move_door(self, eid: str, opening: bool) -> None:
        self.open_door = eid
        n = max(1, round(self.cfg.door_s / self.cfg.dt))
        s = np.arange(1, n + 1) / n
        self._emit(n, door_frac=s if opening else 1 - s)
        self.door_frac = 1.0 if opening else 0.0
        if not opening:
            self.open_door = ''

    def ride(self, dz: float, kin: ElevatorKinematics) -> None:
        prof = ride_profile(dz, kin, self.cfg.dt)
        self.riding = True
        self._emit(len(prof) - 1, z=self.z + prof[1:])
        self.z += float(prof[-1])
        self.riding = False

    def result(self, rides: list[Ride], visits: list[int]) -> Trajectory:
        cat = {k: np.concatenate(v) for k, v in self.cols.items() if v}
        return Trajectory(
            t=cat['t'],
            x=cat['x'].astype(float),
            y=cat['y'].astype(float),
            yaw=cat['yaw'].astype(float),
            z=cat['z'].astype(float),
            floor=cat['floor'].astype(np.int64),
            riding=cat['riding'].astype(bool),
            inside_car=cat['inside_car'].astype(bool),
            open_door=cat['open_door'].astype(str),
            door_frac=cat['door_frac'].astype(float),
            segment=cat['segment'].astype(np.int64),
            rides=rides,
            visits=visits,
        )


def _visit_order(building: Building, cfg: TourConfig, rng: np.random.Generator) -> list[int]:
    """Every floor once (ground floor up, then the basement), then random revisits."""
    idx = building.indices
    order = [i for i in idx if i >= 0] + [i for i in idx if i < 0]
    n = cfg.visits if cfg.visits is not None else len(idx) + 2
    if len(idx) == 1:
        return order
    while len(order) < n:
        order.append(int(rng.choice([i for i in idx if i != order[-1]])))
    return order[:n]


def plan_tour(building: Building, cfg: TourConfig, rng: np.random.Generator) -> Trajectory:
    """Plan the robot's tour and sample the true trajectory."""
    order = _visit_order(building, cfg, rng)
    plan = building.floor(order[0])
    x, y = plan.nodes['c_w']
    rec = _Recorder(cfg, x, y, 0.0, order[0], plan.elevation)
    rec.wait(3.0)
    node = 'c_w'
    rides: list[Ride] = []
    seen: set[int] = set()
    used_second = False
    for k, floor in enumerate(order):
        plan = building.floor(floor)
        n_rooms = cfg.rooms_per_revisit if floor in seen else cfg.rooms_per_visit
        seen.add(floor)
        rooms = rng.permutation(len(plan.rooms))[: min(n_rooms, len(plan.rooms))]
        for r in rooms:
            rid = f'r{int(r)}'
            targets = [f'{rid}_m', f'{rid}_e0', f'{rid}_m', f'{rid}_e1', f'{rid}_m']
            for target in targets:
                for name in _shortest_path(plan, node, target)[1:]:
                    rec.drive_to(*plan.nodes[name])
                node = target
                if target.endswith(('_e0', '_e1')):
                    rec.turn_to(rec.yaw + float(rng.uniform(-2.5, 2.5)))
        if k + 1 == len(order):
            for name in _shortest_path(plan, node, 'c_w')[1:]:
                rec.drive_to(*plan.nodes[name])
            rec.wait(2.0)
            break
        nxt = order[k + 1]
        cars = [e for e in building.elevators if floor in e.floors and nxt in e.floors]
        if not cars:
            raise ConfigError(f'no elevator serves both {plan.label} and floor {nxt}')
        revisit = nxt in seen
        car = cars[-1] if revisit and not used_second else cars[0]
        used_second |= car is not building.elevators[0]
        for name in _shortest_path(plan, node, f'{car.id}_front')[1:]:
            rec.drive_to(*plan.nodes[name])
        rec.turn_to(np.pi / 2)
        rec.wait(float(rng.uniform(*cfg.wait_s)))
        t_open = rec.t
        rec.move_door(car.id, opening=True)
        rec.wait(0.5)
        rec.drive_to(car.x, car.y)
        rec.inside = True
        rec.turn_to(-np.pi / 2)
        rec.wait(1.0)
        rec.move_door(car.id, opening=False)
        rec.wait(1.0)
        t_start = rec.t
        dst = building.floor(nxt)
        kin = cfg.kinematics or ElevatorKinematics(car.v_max, car.a_max, car.j_max)
        rec.ride(dst.elevation - plan.elevation, kin)
        t_end = rec.t
        rec.floor = nxt
        rec.segment += 1
        rec.wait(1.0)
        t_open_dst = rec.t
        rec.move_door(car.id, opening=True)
        rec.wait(0.5)
        rec.drive_to(*car.front)
        rec.inside = False
        t_exit = rec.t
        rec.move_door(car.id, opening=False)
        rides.append(Ride(car.id, floor, nxt, t_open, t_start, t_end, t_open_dst, t_exit))
        node = f'{car.id}_front'
    traj = rec.result(rides, order)
    if cfg.max_duration is not None and cfg.max_duration < traj.duration:
        traj = traj.truncated(cfg.max_duration)
    return traj


__all__ = ['Ride', 'TourConfig', 'Trajectory', 'plan_tour']
