"""Synthetic multi-floor buildings, deterministic from a seed.

Every floor shares the building core (the corridor line and the elevator shafts, which stand at
the same x, y on every floor they serve) and has its own rooms, doorways and clutter. Typical
office floors are near-copies of each other (same partitions, different furniture), the lobby
and the basement differ. Storey heights are non-uniform (lobby, mechanical floor).

Plans are label rasters (``Material`` values, row = y, column = x, origin at (0, 0)) plus the
geometry the tour needs: rooms, doorways and a waypoint graph whose edges are kept clear of
clutter, so a tour along the graph is collision-free by construction.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from multifloor_slam.errors import ConfigError

#: Wall thickness (m).
WALL = 0.2
#: Interior size of an elevator car (m, square).
CAR_SIZE = 2.0
#: Width of an elevator door opening (m).
ELEVATOR_DOOR = 1.1
#: Clearance kept between clutter and any waypoint edge (robot radius + margin, m).
CLEARANCE = 0.55


class Material(IntEnum):
    """What a raster cell is made of; the laser sees everything but FREE, the camera the kind."""

    FREE = 0
    WALL = 1
    CLUTTER = 2
    SHAFT = 3
    DOOR = 4
    PANEL = 5
    DOORFRAME = 6
    PILLAR = 7


try:  # the floor table owns the convention once it exists
    from multifloor_slam.floors.floor_table import floor_label
except ImportError:

    def floor_label(index: int) -> str:
        """Floor label convention of the floor table: ``L<i>`` for i >= 0, ``B<-i>`` below."""
        return f'L{index}' if index >= 0 else f'B{-index}'


@dataclass(frozen=True)
class Elevator:
    """An elevator shaft: car centre (x, y), door facing -y towards the corridor.

    ``v_max`` (m/s), ``a_max`` (m/s^2) and ``j_max`` (m/s^3) limit the car's rides: buildings
    mix slow hydraulic-like cars with faster traction cars.
    """

    id: str
    x: float
    y: float
    floors: tuple[int, ...]
    door_y: float
    width: float = CAR_SIZE
    depth: float = CAR_SIZE
    v_max: float = 1.5
    a_max: float = 1.0
    j_max: float = 2.0

    @property
    def front(self) -> tuple[float, float]:
        """Where a robot waits for the car: in the corridor in front of the door."""
        return (self.x, self.door_y - 1.0)


@dataclass(frozen=True)
class Room:
    """A room: interior box, doorway centre on the corridor wall, points worth exploring."""

    x0: float
    y0: float
    x1: float
    y1: float
    door_x: float
    north: bool
    explore: tuple[tuple[float, float], ...]

    @property
    def center(self) -> tuple[float, float]:
        """Room centre."""
        return ((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2)


@dataclass
class FloorPlan:
    """One floor: label raster with elevator doors closed, rooms and waypoint graph."""

    index: int
    elevation: float
    storey_height: float
    design: str
    labels: NDArray[np.uint8]
    resolution: float
    rooms: list[Room]
    nodes: dict[str, tuple[float, float]]
    edges: list[tuple[str, str]]
    door_cells: dict[str, tuple[slice, slice]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """Floor label (``L0``, ``B1``...)."""
        return floor_label(self.index)

    def raster(self, open_elevator: str | None = None) -> NDArray[np.uint8]:
        """Labels with the door of ``open_elevator`` open (None: every door closed)."""
        if open_elevator is None or open_elevator not in self.door_cells:
            return self.labels
        out = self.labels.copy()
        out[self.door_cells[open_elevator]] = Material.FREE
        return out

    def occupancy_trinary(self) -> NDArray[np.uint8]:
        """Nav2 trinary image values (row 0 = y max): occupied 0, free 254, unknown 205.

        Free space the robot cannot reach (closed rooms behind shafts) stays unknown, as it
        would in any real map; the car interiors are free because the robot rides in them.
        """
        everything_open = self.labels.copy()
        for sl in self.door_cells.values():
            everything_open[sl] = Material.FREE
        free = everything_open == Material.FREE
        comp, _ = ndimage.label(free)
        x, y = self.nodes['c_w']
        seed = comp[int(y / self.resolution), int(x / self.resolution)]
        reachable = comp == seed
        img = np.full(self.labels.shape, 205, np.uint8)
        img[reachable] = 254
        near = ndimage.binary_dilation(reachable, iterations=2)
        img[(self.labels != Material.FREE) & near] = 0
        return img[::-1]


@dataclass
class Building:
    """Floors (sorted by index) and elevators of one synthetic building."""

    seed: int
    size: tuple[float, float]
    resolution: float
    floors: list[FloorPlan]
    elevators: list[Elevator]
    corridor_y: float
    corridor_width: float

    @cached_property
    def _by_index(self) -> dict[int, FloorPlan]:
        return {f.index: f for f in self.floors}

    def floor(self, index: int) -> FloorPlan:
        """The floor with this index."""
        return self._by_index[index]

    def elevator(self, eid: str) -> Elevator:
        """The elevator with this id."""
        return next(e for e in self.elevators if e.id == eid)

    @property
    def indices(self) -> list[int]:
        """Floor indices, lowest first."""
        return [f.index for f in self.floors]


@dataclass(frozen=True)
class BuildingConfig:
    """Parameters of :func:`make_building`.

    Attributes:
        floors: number of floors in all (basement included), 1-12.
        seed: random seed; the same seed gives the same building.
        basement: the lowest floor is a basement (B1, open parking with pillars).
        elevators: number of elevator shafts (1 or 2).
        size: plan size (x, y) in metres.
        resolution: raster cell size (m).
    """

    floors: int = 3
    seed: int = 0
    basement: bool = False
    elevators: int = 2
    size: tuple[float, float] = (30.0, 20.0)
    resolution: float = 0.05

    def __post_init__(self) -> None:
        if not 1 <= self.floors <= 12:
            raise ConfigError(f'floors must be 1..12, got {self.floors}')
        if self.basement and self.floors < 2:
            raise ConfigError('a basement needs at least 2 floors')
        if self.elevators not in (1, 2):
            raise ConfigError(f'elevators must be 1 or 2, got {self.elevators}')
        if not (16.0 <= self.size[0] <= 80.0 and 12.0 <= self.size[1] <= 60.0):
            raise ConfigError(f'plan size must be 16-80 x 12-60 m, got {self.size}')
        if not 0.02 <= self.resolution <= 0.2:
            raise ConfigError(f'resolution must be 0.02-0.2 m, got {self.resolution}')


class _Raster:
    """Label raster with metric drawing helpers."""

    def __init__(self, size: tuple[float, float], res: float) -> None:
        self.res = res
        self.a = np.zeros((round(size[1] / res), round(size[0] / res)), np.uint8)

    def _sl(self, x0: float, y0: float, x1: float, y1: float) -> tuple[slice, slice]:
        r = self.res
        c0, c1 = round(min(x0, x1) / r), round(max(x0, x1) / r)
        r0, r1 = round(min(y0, y1) / r), round(max(y0, y1) / r)
        return slice(max(r0, 0), max(r1, r0 + 1)), slice(max(c0, 0), max(c1, c0 + 1))

    def box(self, x0: float, y0: float, x1: float, y1: float, m: Material) -> tuple[slice, slice]:
        sl = self._sl(x0, y0, x1, y1)
        self.a[sl] = m
        return sl

    def disc(self, cx: float, cy: float, rad: float, m: Material) -> None:
        sl = self._sl(cx - rad, cy - rad, cx + rad, cy + rad)
        rr, cc = np.mgrid[sl]
        inside = ((cc + 0.5) * self.res - cx) ** 2 + ((rr + 0.5) * self.res - cy) ** 2 <= rad**2
        view = self.a[sl]
        view[inside] = m


def _seg_dist(p: NDArray[np.float64], a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    """Smallest distance from point ``p`` to the segments a[i]-b[i]."""
    ab = b - a
    t = np.clip(np.einsum('ij,ij->i', p - a, ab) / np.maximum((ab * ab).sum(1), 1e-12), 0, 1)
    return float(np.min(np.linalg.norm(a + t[:, None] * ab - p, axis=1)))


@dataclass(frozen=True)
class _Design:
    """Room partition of one floor design (shared by near-copy floors)."""

    name: str
    kind: str  # 'office', 'lobby', 'parking'
    north: tuple[tuple[float, float, float], ...]  # (x0, x1, door x) per room
    south: tuple[tuple[float, float, float], ...]


def _partition(
    rng: np.random.Generator, x0: float, x1: float, reserved: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """Split [x0, x1] minus reserved intervals into rooms 3-7 m wide."""
    spans = []
    cur = x0
    for r0, r1 in sorted(reserved):
        if r0 > cur:
            spans.append((cur, r0))
        cur = max(cur, r1)
    if cur < x1:
        spans.append((cur, x1))
    rooms = []
    for s0, s1 in spans:
        if s1 - s0 < 2.0:
            continue
        a = s0
        while s1 - a > 7.5:
            w = float(rng.uniform(3.0, 7.0))
            if s1 - (a + w) < 3.0:
                break
            rooms.append((a, a + w))
            a += w
        rooms.append((a, s1))
    return rooms


class _Builder:
    def __init__(self, cfg: BuildingConfig) -> None:
        self.cfg = cfg
        self.rng = np.random.default_rng(cfg.seed)
        self.W, self.H = cfg.size
        rng = self.rng
        self.cw = float(rng.uniform(1.8, 2.6))
        self.cy = float(rng.uniform(0.42, 0.52) * self.H)
        self.north_wall = self.cy + self.cw / 2  # corridor side face of the north wall
        self.south_wall = self.cy - self.cw / 2
        xs = [float(rng.uniform(0.22, 0.32) * self.W)]
        if cfg.elevators == 2:
            xs.append(float(rng.uniform(0.62, 0.75) * self.W))
        idx = self._indices()
        served_b = tuple(i for i in idx if i >= 0 or len(idx) == 1)
        if cfg.elevators == 2 and len([i for i in idx if i >= 0]) >= 5:
            served_b = served_b[:-1]  # the second car skips the top floor (local vs express)
        if len(served_b) < 2:
            served_b = tuple(idx)
        car_y = self.north_wall + WALL + CAR_SIZE / 2
        speeds = [(float(rng.uniform(0.8, 2.5)), float(rng.uniform(0.5, 1.2))) for _ in xs]
        self.elevators = [
            Elevator(
                id=chr(ord('A') + k),
                x=round(x / cfg.resolution) * cfg.resolution,
                y=car_y,
                floors=tuple(idx) if k == 0 else served_b,
                door_y=self.north_wall,
                v_max=round(speeds[k][0], 2),
                a_max=round(speeds[k][1], 2),
                j_max=round(2 * speeds[k][1], 2),
            )
            for k, x in enumerate(xs)
        ]
        self.core = [
            (e.x - CAR_SIZE / 2 - WALL, e.x + CAR_SIZE / 2 + WALL) for e in self.elevators
        ]

    def _indices(self) -> list[int]:
        start = -1 if self.cfg.basement else 0
        return list(range(start, start + self.cfg.floors))

    def _heights(self, idx: list[int]) -> dict[int, float]:
        """Storey height per floor (m): a tall lobby, one mechanical floor in tall buildings."""
        rng = self.rng
        h = {i: float(rng.uniform(3.0, 3.9)) for i in idx}
        h[0] = float(rng.uniform(4.2, 5.5))
        above = [i for i in idx if i > 0]
        if len(above) >= 4:
            h[int(rng.choice(above[1:-1]))] = float(rng.uniform(5.8, 7.0))
        if -1 in h:
            h[-1] = float(rng.uniform(3.2, 4.0))
        return {i: round(v, 2) for i, v in h.items()}

    def _design(self, name: str, kind: str) -> _Design:
        rng = self.rng
        x0, x1 = WALL, self.W - WALL
        north = _partition(rng, x0, x1, self.core)
        south = _partition(rng, x0, x1, [])
        if kind == 'lobby':
            # One big hall south of the corridor, offices north.
            south = [(x0, x1)]

        def doors(rooms: list[tuple[float, float]]) -> tuple[tuple[float, float, float], ...]:
            return tuple((a, b, float(rng.uniform(a + 0.9, b - 0.9))) for a, b in rooms)

        return _Design(name, kind, doors(north), doors(south))

    def build(self) -> Building:
        rng = self.rng
        idx = self._indices()
        heights = self._heights(idx)
        elev = {0: 0.0}
        for i in range(1, max(idx) + 1):
            elev[i] = round(elev[i - 1] + heights[i - 1], 3)
        if -1 in idx:
            elev[-1] = -heights[-1]
        typical = self._design('typical-A', 'office')
        other = self._design('typical-B', 'office')
        lobby = self._design('lobby', 'lobby')
        floors = []
        for i in idx:
            if i == -1:
                design = _Design('parking', 'parking', (), ())
            elif i == 0 and len(idx) > 1:
                design = lobby
            elif i > 0 and i % 3 == 0:
                design = other
            else:
                design = typical
            seed = int(rng.integers(2**31))
            floors.append(self._floor(i, elev[i], heights[i], design, np.random.default_rng(seed)))
        return Building(
            seed=self.cfg.seed,
            size=(self.W, self.H),
            resolution=self.cfg.resolution,
            floors=floors,
            elevators=self.elevators,
            corridor_y=self.cy,
            corridor_width=self.cw,
        )

    def _floor(
        self, index: int, elevation: float, height: float, d: _Design, rng: np.random.Generator
    ) -> FloorPlan:
        res = self.cfg.resolution
        W, H = self.W, self.H  # noqa: N806 (plan width and height)
        r = _Raster((W, H), res)
        # Declared type: mypy cannot star-unpack the union it infers for the mixed literals.
        outer_walls: tuple[tuple[float, float, float, float], ...] = (
            (0, 0, W, WALL),
            (0, H - WALL, W, H),
            (0, 0, WALL, H),
            (W - WALL, 0, W, H),
        )
        for box in outer_walls:
            r.box(*box, Material.WALL)
        nodes: dict[str, tuple[float, float]] = {}
        edges: list[tuple[str, str]] = []
        nodes['c_w'] = (WALL + 0.8, self.cy)
        nodes['c_e'] = (W - WALL - 0.8, self.cy)
        corridor = ['c_w', 'c_e']
        rooms: list[Room] = []
        nw, sw = self.north_wall, self.south_wall
        parking = d.kind == 'parking'
        if not parking:
            r.box(0, nw, W, nw + WALL, Material.WALL)
            r.box(0, sw - WALL, W, sw, Material.WALL)
        bands = {True: (nw + WALL, H - WALL), False: (WALL, sw - WALL)}
        for north in (True, False):
            y0, y1 = bands[north]
            if parking:
                spans = _partition(rng, WALL, W - WALL, self.core if north else [])
                spec = [(a, b, float(rng.uniform(a + 0.9, b - 0.9))) for a, b in spans]
            else:
                spec = list(d.north if north else d.south)
            for a, b, dx in spec:
                inner_a, inner_b = a > WALL + 1e-6, b < W - WALL - 1e-6
                if not parking:
                    for x, is_inner in ((a, inner_a), (b, inner_b)):
                        if is_inner:
                            r.box(x - WALL / 2, y0, x + WALL / 2, y1, Material.WALL)
                ax, bx = a + WALL / 2 * inner_a, b - WALL / 2 * inner_b
                wall_y = (nw, nw + WALL) if north else (sw - WALL, sw)
                dw = float(rng.uniform(0.9, 1.2)) if d.kind != 'lobby' or north else 3.0
                dx = float(np.clip(dx, ax + dw / 2 + 0.1, bx - dw / 2 - 0.1))
                if not parking:
                    r.box(dx - dw / 2, *wall_y[:1], dx + dw / 2, wall_y[1], Material.FREE)
                    for side in (-1, 1):
                        jx = dx + side * dw / 2
                        r.box(
                            jx - 0.1 * (side < 0),
                            wall_y[0],
                            jx + 0.1 * (side > 0),
                            wall_y[1],
                            Material.DOORFRAME,
                        )
                sgn = 1 if north else -1
                inner = (dx, (nw + WALL + 0.8) if north else (sw - WALL - 0.8))
                c = ((ax + bx) / 2, (y0 + y1) / 2)
                ex = tuple(
                    (
                        float(np.clip(c[0] + s * (bx - ax) / 4, ax + 1.0, bx - 1.0)),
                        float(np.clip(c[1] + sgn * (y1 - y0) / 4, y0 + 1.0, y1 - 1.0)),
                    )
                    for s in (-1, 1)
                )
                room = Room(ax, y0, bx, y1, dx, north, ex)
                rid = f'r{len(rooms)}'
                rooms.append(room)
                nodes[f'{rid}_c'] = (dx, self.cy)
                nodes[f'{rid}_in'] = inner
                nodes[f'{rid}_m'] = c
                edges += [(f'{rid}_c', f'{rid}_in'), (f'{rid}_in', f'{rid}_m')]
                for j, p in enumerate(ex):
                    nodes[f'{rid}_e{j}'] = p
                    edges.append((f'{rid}_m', f'{rid}_e{j}'))
                corridor.append(f'{rid}_c')
        door_cells: dict[str, tuple[slice, slice]] = {}
        for e in self.elevators:
            hx, hy = e.width / 2 + WALL, e.depth / 2 + WALL
            # Core column: shaft, then a closed service room behind it up to the outer wall.
            r.box(e.x - hx, nw, e.x + hx, H, Material.SHAFT)
            r.box(
                e.x - e.width / 2,
                e.y - e.depth / 2,
                e.x + e.width / 2,
                e.y + e.depth / 2,
                Material.FREE,
            )
            r.box(e.x - e.width / 2, e.y + hy, e.x + e.width / 2, H - WALL, Material.FREE)
            if index in e.floors:
                door_cells[e.id] = r.box(
                    e.x - ELEVATOR_DOOR / 2, nw, e.x + ELEVATOR_DOOR / 2, nw + WALL, Material.DOOR
                )
                r.box(
                    e.x + ELEVATOR_DOOR / 2 + 0.25,
                    nw,
                    e.x + ELEVATOR_DOOR / 2 + 0.45,
                    nw + 0.05,
                    Material.PANEL,
                )
                nodes[f'{e.id}_front'] = e.front
                nodes[f'{e.id}_car'] = (e.x, e.y)
                edges.append((f'{e.id}_front', f'{e.id}_car'))
                corridor.append(f'{e.id}_front')
        # Corridor centre line, west to east.
        corridor.sort(key=lambda n: nodes[n][0])
        edges += list(itertools.pairwise(corridor))
        self._clutter(r, rng, d, rooms, nodes, edges)
        return FloorPlan(
            index=index,
            elevation=elevation,
            storey_height=height,
            design=d.name,
            labels=r.a,
            resolution=res,
            rooms=rooms,
            nodes=nodes,
            edges=edges,
            door_cells=door_cells,
        )

    def _clutter(
        self,
        r: _Raster,
        rng: np.random.Generator,
        d: _Design,
        rooms: list[Room],
        nodes: dict[str, tuple[float, float]],
        edges: list[tuple[str, str]],
    ) -> None:
        a = np.array([nodes[u] for u, _ in edges], float)
        b = np.array([nodes[v] for _, v in edges], float)
        fronts = [np.array(e.front) for e in self.elevators]

        def clear(x: float, y: float, rad: float) -> bool:
            p = np.array([x, y])
            if any(np.linalg.norm(p - f) < rad + 1.2 for f in fronts):
                return False
            return _seg_dist(p, a, b) > rad + CLEARANCE

        for room in rooms:
            area = (room.x1 - room.x0) * (room.y1 - room.y0)
            n = int(rng.integers(2, 4 + int(area / 12)))
            for _ in range(n * 3):
                if n <= 0:
                    break
                w, h = float(rng.uniform(0.4, 1.6)), float(rng.uniform(0.4, 1.0))
                if rng.random() < 0.5:
                    w, h = h, w
                x = float(rng.uniform(room.x0 + w / 2, room.x1 - w / 2))
                y = float(rng.uniform(room.y0 + h / 2, room.y1 - h / 2))
                if not clear(x, y, np.hypot(w, h) / 2):
                    continue
                if rng.random() < 0.25:
                    r.disc(x, y, min(w, h) / 2, Material.CLUTTER)
                else:
                    r.box(x - w / 2, y - h / 2, x + w / 2, y + h / 2, Material.CLUTTER)
                n -= 1
        if d.kind in ('parking', 'lobby'):
            # A grid of pillars wherever it leaves the lanes clear.
            for x in np.arange(3.0, self.W - 2.0, 5.0):
                for y in np.arange(2.5, self.H - 2.0, 5.0):
                    if r.a[int(y / r.res), int(x / r.res)] == Material.FREE and clear(x, y, 0.3):
                        r.disc(float(x), float(y), 0.3, Material.PILLAR)
        # Bins and plants along the corridor walls.
        for _ in range(int(rng.integers(2, 6))):
            x = float(rng.uniform(1.0, self.W - 1.0))
            north = bool(rng.random() < 0.5)
            y = (self.north_wall - 0.2) if north else (self.south_wall + 0.2)
            if clear(x, y, 0.2) and r.a[int(y / r.res), int(x / r.res)] == Material.FREE:
                r.disc(x, y, 0.2, Material.CLUTTER)


def make_building(cfg: BuildingConfig | None = None) -> Building:
    """Build the building described by ``cfg`` (same config, same building)."""
    return _Builder(cfg or BuildingConfig()).build()


def with_floors(cfg: BuildingConfig, **changes: object) -> BuildingConfig:
    """A copy of ``cfg`` with some fields changed (validated again)."""
    return dataclasses.replace(cfg, **changes)  # type: ignore[arg-type]


__all__ = [
    'Building',
    'BuildingConfig',
    'Elevator',
    'FloorPlan',
    'Material',
    'Room',
    'floor_label',
    'make_building',
]
