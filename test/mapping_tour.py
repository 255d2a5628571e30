"""A small synthetic 3-floor building and a robot tour through it, for the map-layer tests.

Two elevator shafts (A west, B east) run through three different floor plans (lobby, offices,
lab, at non-uniform elevations 0 / 4.0 / 7.5 m). The robot maps L0, rides A to L1, rides B to
L2, comes back to L1 through B (a revisit) and to L0 through A (another revisit). The SLAM pose
that the mapper receives jumps by an arbitrary rigid transform in the middle of every ride (as a
2D SLAM does when the car's walls and the new floor do not match its map), and during the ride the
lidar sees the closed car. Ground truth: the wall segments of every floor, the true poses, and the
noise-free ranges.

This is deliberately small and self-contained; the full sensor simulator lives beside it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import cast

import numpy as np
from numpy.typing import NDArray

from multifloor_slam.io.records import (
    BoolRecord,
    ElevatorStateRecord,
    FloorRecord,
    PoseRecord,
    Record,
    ScanRecord,
    ValueRecord,
)
from multifloor_slam.maps.mapper import BuildingMapper
from multifloor_slam.maps.occupancy_layer import LayerParams, OccupancyLayer
from multifloor_slam.maps.scan_geometry import (
    scan_points,
    se2_compose,
    transform_points,
    wrap_angle,
)
from multifloor_slam.pipeline.map_stage import MapStage
from multifloor_slam.sim.map_score import place

Segment = tuple[float, float, float, float]
Pose = tuple[float, float, float]


@dataclass(frozen=True)
class Shaft:
    """An elevator shaft (= its car): centre, half sizes, door side ('east' or 'west')."""

    cx: float
    cy: float
    half: float = 1.0
    door_half: float = 0.6
    door: str = 'east'

    def walls(self, doors_closed: bool) -> list[Segment]:
        """The box, with a gap for the door unless it is closed."""
        x0, x1 = self.cx - self.half, self.cx + self.half
        y0, y1 = self.cy - self.half, self.cy + self.half
        dx = x1 if self.door == 'east' else x0
        bx = x0 if self.door == 'east' else x1
        segs = [(x0, y0, x1, y0), (x0, y1, x1, y1), (bx, y0, bx, y1)]
        d0, d1 = self.cy - self.door_half, self.cy + self.door_half
        if doors_closed:
            segs.append((dx, y0, dx, y1))
        else:
            segs += [(dx, y0, dx, d0), (dx, d1, dx, y1)]
        return segs

    def contains(self, x: float, y: float) -> bool:
        """True when (x, y) is inside the car."""
        return abs(x - self.cx) < self.half and abs(y - self.cy) < self.half


def _box(x0: float, y0: float, x1: float, y1: float) -> list[Segment]:
    return [(x0, y0, x1, y0), (x1, y0, x1, y1), (x1, y1, x0, y1), (x0, y1, x0, y0)]


@dataclass(frozen=True)
class BuildingPlan:
    """Wall segments per floor index, shafts by id, elevations."""

    floors: dict[int, list[Segment]]
    shafts: dict[str, Shaft]
    elevations: dict[int, float]

    def walls(self, floor: int) -> NDArray[np.float64]:
        """(M, 4) static walls of a floor, shafts with open doors included."""
        segs = list(self.floors[floor])
        for shaft in self.shafts.values():
            segs += shaft.walls(doors_closed=False)
        return np.asarray(segs, dtype=np.float64)

    def wall_cells(self, floor: int, resolution: float) -> set[tuple[int, int]]:
        """Global (row, col) cells every wall of a floor passes through."""
        return _segment_cells(self.walls(floor), resolution)


def _segment_cells(segs: NDArray[np.float64], resolution: float) -> set[tuple[int, int]]:
    cells: set[tuple[int, int]] = set()
    for x0, y0, x1, y1 in segs:
        n = max(2, math.ceil(math.hypot(x1 - x0, y1 - y0) / (resolution / 4)) + 1)
        t = np.linspace(0.0, 1.0, n)
        c = np.floor((x0 + (x1 - x0) * t) / resolution).astype(int)
        r = np.floor((y0 + (y1 - y0) * t) / resolution).astype(int)
        cells.update(zip(r.tolist(), c.tolist(), strict=True))
    return cells


def default_plan() -> BuildingPlan:
    """The three-floor test building (24 m x 16 m)."""
    outer = _box(0.0, 0.0, 24.0, 16.0)
    lobby = [
        *outer,
        (8.0, 0.0, 8.0, 2.0),
        (16.0, 14.5, 16.0, 16.0),
        (10.0, 12.0, 14.0, 12.0),
        *_box(11.5, 7.5, 12.5, 8.5),
    ]
    offices = [
        *outer,
        (6.0, 5.5, 8.0, 5.5),
        (9.2, 5.5, 14.0, 5.5),
        (15.2, 5.5, 18.0, 5.5),
        (6.0, 10.5, 10.0, 10.5),
        (11.2, 10.5, 18.0, 10.5),
        (12.0, 0.0, 12.0, 5.5),
        (14.0, 10.5, 14.0, 16.0),
    ]
    lab = [
        *outer,
        (12.0, 0.0, 12.0, 6.0),
        (12.0, 10.0, 12.0, 16.0),
        *_box(6.0, 12.0, 8.0, 14.0),
        (15.0, 3.0, 18.0, 5.0),
    ]
    return BuildingPlan(
        floors={0: lobby, 1: offices, 2: lab},
        shafts={'A': Shaft(3.0, 8.0, door='east'), 'B': Shaft(21.0, 8.0, door='west')},
        elevations={0: 0.0, 1: 4.0, 2: 7.5},
    )


def raycast(
    segs: NDArray[np.float64], pose: Pose, angles: NDArray[np.float64], range_max: float
) -> NDArray[np.float64]:
    """Ranges from ``pose`` along ``angles`` (robot frame) to the nearest segment (inf: none)."""
    px, py, yaw = pose
    d = np.stack([np.cos(angles + yaw), np.sin(angles + yaw)], axis=1)  # (N, 2)
    a, e = segs[:, :2], segs[:, 2:] - segs[:, :2]  # (M, 2)
    ap = a - (px, py)
    denom = d[:, :1] * e[:, 1] - d[:, 1:] * e[:, 0]  # (N, M)
    with np.errstate(divide='ignore', invalid='ignore'):
        t = (ap[:, 0] * e[:, 1] - ap[:, 1] * e[:, 0]) / denom
        u = (ap[:, 0] * d[:, 1:] - ap[:, 1] * d[:, :1]) / denom
    ok = (np.abs(denom) > 1e-12) & (t > 1e-6) & (u >= 0.0) & (u <= 1.0)
    r = np.where(ok, t, np.inf).min(axis=1)
    r[r > range_max] = np.inf
    return r


@dataclass
class TourScan:
    """One lidar scan of the tour with its ground truth."""

    t: float
    ranges: NDArray[np.float32]
    true_ranges: NDArray[np.float64]
    floor: int
    true_pose: Pose
    slam_pose: Pose
    in_car: bool
    riding: bool


@dataclass
class Tour:
    """Everything a mapper receives, in time order, plus the truth."""

    plan: BuildingPlan
    scans: list[TourScan]
    events: list[tuple[float, str, object]]
    rides: list[tuple[float, float, int, int, str]]
    angle_min: float
    angle_increment: float
    range_min: float
    range_max: float
    jumps: list[Pose] = field(default_factory=list)

    def observed_wall_cells(self, floor: int, resolution: float) -> set[tuple[int, int]]:
        """Wall cells that noise-free beams from the true poses hit on ``floor``.

        Scans in the car are left out: this is what a perfect mapper can know.
        """
        cells: set[tuple[int, int]] = set()
        n = self.scans[0].ranges.size
        ang = self.angle_min + self.angle_increment * np.arange(n)
        for s in self.scans:
            if s.floor != floor or s.in_car or s.riding:
                continue
            ok = np.isfinite(s.true_ranges)
            pts = np.stack([np.cos(ang[ok]), np.sin(ang[ok])], 1) * s.true_ranges[ok, None]
            w = transform_points(pts, s.true_pose)
            rc = np.floor(w[:, ::-1] / resolution).astype(int)
            cells.update(map(tuple, rc.tolist()))
        return cells

    def mapper_inputs(self) -> list[tuple[float, str, object]]:
        """Every input in time order: ('pose', (x, y, yaw)), ('scan', TourScan) and the events."""
        items: list[tuple[float, str, object]] = list(self.events)
        for s in self.scans:
            items.append((s.t, 'pose', s.slam_pose))
            items.append((s.t, 'scan', s))
        order = {'floor': 0, 'riding': 0, 'elevator': 0, 'altitude': 0, 'pose': 1, 'scan': 2}
        items.sort(key=lambda it: (it[0], order[it[1]]))
        return items


def _legs(plan: BuildingPlan) -> list[tuple]:
    """The tour script: ('drive', floor, waypoints, reverse) and ('ride', shaft, from, to)."""
    a, b = plan.shafts['A'], plan.shafts['B']
    return [
        (
            'drive',
            0,
            [
                (6, 8),
                (6, 3),
                (12, 3),
                (18, 4),
                (18, 13),
                (13, 14),
                (7, 14),
                (1, 13),
                (1, 3),
                (5, 3),
                (6, 8),
                (a.cx, a.cy),
            ],
            False,
        ),
        ('ride', 'A', 0, 1),
        ('drive', 1, [(a.cx, a.cy), (5.5, 8)], True),
        (
            'drive',
            1,
            [
                (5.5, 8),
                (8.6, 8),
                (8.6, 3),
                (10.5, 2.5),
                (8.6, 3),
                (8.6, 8),
                (10.6, 8),
                (10.6, 13),
                (12.5, 13.5),
                (10.6, 13),
                (10.6, 8),
                (14.6, 8),
                (14.6, 3),
                (17, 2.5),
                (14.6, 3),
                (14.6, 8),
                (18.8, 8),
                (18.8, 13),
                (18.8, 8),
                (b.cx, b.cy),
            ],
            False,
        ),
        ('ride', 'B', 1, 2),
        ('drive', 2, [(b.cx, b.cy), (18.5, 8)], True),
        (
            'drive',
            2,
            [
                (18.5, 8),
                (12, 8),
                (6, 8),
                (5, 3),
                (3, 2),
                (1, 5),
                (1, 11),
                (4, 12),
                (5, 15),
                (9, 15),
                (10, 11),
                (12, 8),
                (16, 8),
                (16, 13),
                (19, 13),
                (18.5, 8),
                (b.cx, b.cy),
            ],
            False,
        ),
        ('ride', 'B', 2, 1),
        ('drive', 1, [(b.cx, b.cy), (18.5, 8)], True),
        ('drive', 1, [(18.5, 8), (6, 8), (a.cx, a.cy)], False),
        ('ride', 'A', 1, 0),
        ('drive', 0, [(a.cx, a.cy), (5.5, 8)], True),
        ('drive', 0, [(5.5, 8), (10, 6), (14, 6)], False),
    ]


def make_tour(
    plan: BuildingPlan | None = None,
    *,
    scan_rate_hz: float = 10.0,
    speed_mps: float = 1.0,
    beams: int = 360,
    range_max: float = 20.0,
    range_noise_m: float = 0.01,
    jump_m: float = 3.0,
    jump_rad: float = 0.4,
    ride_s: float = 8.0,
    seed: int = 0,
    t0: float = 100.0,
) -> Tour:
    """Generate the tour. Every ride gets a random SLAM jump of up to ``jump_m`` / ``jump_rad``."""
    plan = plan or default_plan()
    rng = np.random.default_rng(seed)
    angle_increment = 2.0 * math.pi / beams
    angle_min = -math.pi
    angles = angle_min + angle_increment * np.arange(beams, dtype=np.float64)
    dt = 1.0 / scan_rate_hz
    scans: list[TourScan] = []
    events: list[tuple[float, str, object]] = [(t0 - 0.5, 'floor', 0), (t0 - 0.5, 'riding', False)]
    rides: list[tuple[float, float, int, int, str]] = []
    jumps: list[Pose] = []
    offset: Pose = (0.0, 0.0, 0.0)  # SLAM frame = offset * world
    t = t0
    floor = 0
    yaw = 0.0
    last_state = 'none'

    def emit(pose: Pose, in_car: bool, riding: bool, segs: NDArray[np.float64]) -> None:
        nonlocal t, last_state
        true_r = raycast(segs, pose, angles, range_max)
        noisy = true_r + rng.normal(0.0, range_noise_m, beams)
        scans.append(
            TourScan(
                t,
                noisy.astype(np.float32),
                true_r,
                floor,
                pose,
                se2_compose(offset, pose),
                in_car,
                riding,
            )
        )
        state = 'inside' if in_car else 'none'
        if state != last_state:
            events.append((t, 'elevator', state))
            last_state = state
        if len(scans) % max(1, round(scan_rate_hz / 2)) == 0:
            z = plan.elevations[floor] + rng.normal(0.0, 0.05)
            events.append((t, 'altitude', float(z)))
        t = t0 + len(scans) * dt

    for leg in _legs(plan):
        if leg[0] == 'drive':
            _, floor, wps, reverse = leg
            segs = plan.walls(floor)
            for (x0, y0), (x1, y1) in itertools.pairwise(wps):
                dist = math.hypot(x1 - x0, y1 - y0)
                heading = math.atan2(y1 - y0, x1 - x0)
                yaw = wrap_angle(heading + math.pi) if reverse else heading
                n = max(1, math.ceil(dist / (speed_mps * dt)))
                for k in range(n):
                    x = x0 + (x1 - x0) * k / n
                    y = y0 + (y1 - y0) * k / n
                    in_car = any(s.contains(x, y) for s in plan.shafts.values())
                    emit((x, y, yaw), in_car, False, segs)
        else:
            _, sid, f_from, f_to = leg
            shaft = plan.shafts[sid]
            pose = (shaft.cx, shaft.cy, yaw)
            car = np.asarray(shaft.walls(doors_closed=True), dtype=np.float64)
            start = t
            events.append((start + 0.5, 'riding', True))
            n = math.ceil(ride_s / dt)
            for k in range(n):
                if k == n // 2:
                    jump = (
                        float(rng.uniform(-jump_m, jump_m)),
                        float(rng.uniform(-jump_m, jump_m)),
                        float(rng.uniform(-jump_rad, jump_rad)),
                    )
                    jumps.append(jump)
                    offset = se2_compose(jump, offset)
                emit(pose, True, True, car)
            end = t
            floor = f_to
            events.append((end, 'floor', f_to))
            events.append((end + 0.3, 'riding', False))
            rides.append((start, end, f_from, f_to, sid))
            # The car waits with its doors open for a moment before the robot drives out.
            segs = plan.walls(floor)
            for _ in range(math.ceil(1.0 / dt)):
                emit(pose, True, False, segs)
    events.sort(key=lambda e: e[0])
    return Tour(plan, scans, events, rides, angle_min, angle_increment, 0.05, range_max, jumps)


def tour_records(tour: Tour) -> list[tuple[str, Record]]:
    """The tour as the records a live map manager or ``process`` hands the map stage."""
    out: list[tuple[str, Record]] = []
    for t, kind, value in tour.mapper_inputs():
        if kind == 'pose':
            x, y, yaw = cast(Pose, value)
            out.append(('pose', PoseRecord(t, x, y, yaw)))
        elif kind == 'scan':
            s = cast(TourScan, value)
            scan = ScanRecord(
                t,
                s.ranges.astype(np.float32, copy=False),
                tour.angle_min,
                tour.angle_increment,
                tour.range_min,
                tour.range_max,
            )
            out.append(('scan', scan))
        elif kind == 'floor':
            out.append(('floor', FloorRecord(t, cast(int, value))))
        elif kind == 'riding':
            out.append(('riding', BoolRecord(t, cast(bool, value))))
        elif kind == 'elevator':
            out.append(('elevator_state', ElevatorStateRecord(t, cast(str, value), stamp=t)))
        elif kind == 'altitude':
            out.append(('altitude', ValueRecord(t, cast(float, value))))
    return out


def feed(mapper: BuildingMapper, tour: Tour) -> None:
    """Push the whole tour through the map stage (as the node and ``process`` do), then flush."""
    stage = MapStage(mapper)
    for kind, rec in tour_records(tour):
        stage.feed(kind, rec)
    mapper.flush()


def reference_layers(tour: Tour, params: LayerParams) -> dict[int, OccupancyLayer]:
    """Layers built from the true poses and noise-free ranges (what perfect mapping gives)."""
    layers: dict[int, OccupancyLayer] = {}
    for s in tour.scans:
        if s.in_car or s.riding:
            continue
        pts = scan_points(
            s.true_ranges, tour.angle_min, tour.angle_increment, tour.range_min, tour.range_max
        )
        layer = layers.setdefault(s.floor, OccupancyLayer(params))
        layer.integrate(
            s.true_pose[:2], transform_points(pts.free_xy, s.true_pose), pts.hit, pts.full_circle
        )
    return layers


def _cells_grid(cells: set[tuple[int, int]], offset: tuple[int, int], shape: tuple[int, int]):
    grid = np.zeros(shape, bool)
    outside = 0
    if cells:
        rc = np.asarray(sorted(cells)) - offset
        ok = (rc[:, 0] >= 0) & (rc[:, 0] < shape[0]) & (rc[:, 1] >= 0) & (rc[:, 1] < shape[1])
        grid[rc[ok, 0], rc[ok, 1]] = True
        outside = int((~ok).sum())
    return grid, outside


def evaluate(mapper: object, tour: Tour) -> dict[int, dict[str, float]]:
    """Per floor: occupied IoU (1-cell tolerance), free IoU, contamination, link error.

    * occupied IoU: layer occupied cells within one cell of an observed wall cell are hits, the
      others false positives; observed wall cells with no occupied cell within one cell are misses.
    * free IoU: free cells of the layer vs. of the reference layer (true poses, noise-free ranges),
      both away (> 1 cell) from the floor's walls.
    * contamination: share of the layer's occupied cells more than one cell from any wall of the
      floor's plan (another floor's walls, the car seen from a wrong pose, smear).
    * link_error_m: the largest distance, over links serving the floor, between the link's car
      position on the floor and the nearest true shaft centre.
    """
    import cv2

    floors = mapper.floors  # type: ignore[attr-defined]
    first = next(iter(floors.values()))
    params = first.layer.params
    res = params.resolution
    refs = reference_layers(tour, params)
    kernel = np.ones((3, 3), np.uint8)
    out: dict[int, dict[str, float]] = {}
    for index, fl in sorted(floors.items()):
        layer = fl.layer
        off, shape = layer.cell_offset, layer.shape
        occ = layer.occupied_mask()
        seen, outside = _cells_grid(tour.observed_wall_cells(index, res), off, shape)
        walls, _ = _cells_grid(tour.plan.wall_cells(index, res), off, shape)
        seen_d = cv2.dilate(seen.view(np.uint8), kernel).view(bool)
        walls_d = cv2.dilate(walls.view(np.uint8), kernel).view(bool)
        occ_d = cv2.dilate(occ.view(np.uint8), kernel).view(bool)
        tp = int((occ & seen_d).sum())
        fp = int((occ & ~seen_d).sum())
        fn = int((seen & ~occ_d).sum()) + outside
        ref = refs.get(index)
        free_iou = 0.0
        if ref is not None:
            ref_free = place(ref.free_mask(), ref.cell_offset, off, shape) & ~walls_d
            free = layer.free_mask() & ~walls_d
            union = int((ref_free | free).sum())
            free_iou = int((ref_free & free).sum()) / union if union else 0.0
        centres = [(s.cx, s.cy) for s in tour.plan.shafts.values()]
        errs = [
            min(
                math.hypot(link.positions[index][0] - cx, link.positions[index][1] - cy)
                for cx, cy in centres
            )
            for link in mapper.links  # type: ignore[attr-defined]
            if index in link.positions
        ]
        out[index] = {
            'occupied_iou': tp / max(1, tp + fp + fn),
            'free_iou': free_iou,
            'contamination': int((occ & ~walls_d).sum()) / max(1, int(occ.sum())),
            'link_error_m': max(errs) if errs else float('nan'),
            'occupied_cells': int(occ.sum()),
        }
    return out


__all__ = [
    'BuildingPlan',
    'Shaft',
    'Tour',
    'TourScan',
    'default_plan',
    'evaluate',
    'feed',
    'make_tour',
    'raycast',
    'reference_layers',
]
