"""Elevator staging poses: where a robot waits in front of the doors, facing the car.

Nav2's multi-storey discussion asks for exactly this tagged point. It is found from the floor map
alone: rays cast from the car position stop at the car's walls except through the opening, where
free space continues beyond the car. The widest such fan of rays gives the door direction; the
walls on either side of it give the door plane; the staging point lies ``distance_m`` beyond that
plane, moved to the nearest traversable cell (a robot radius from walls and unknown space), with
the heading towards the car.

When the map does not show an opening (doors never seen open, the car area unmapped) the point is
the nearest cell of a large traversable region (``method='nearest_free'``); with no traversable
space at all it is the car position itself (``method='car'``). The method is stored with the
pose, so a user (and the route planner) can tell a seen door from a guess.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from multifloor_slam.errors import ConfigError
from multifloor_slam.maps.building import Building, ElevatorLink
from multifloor_slam.maps.scan_geometry import wrap_angle
from multifloor_slam.navigation.derived_cache import DerivedCache, grid_digest
from multifloor_slam.navigation.free_space import ROBOT_RADIUS_M, Mask, traversable

#: Staging methods: how a pose was found (``manual``: set by hand, never recomputed).
METHODS = ('door', 'nearest_free', 'car', 'manual')


@dataclass(frozen=True)
class StagingParams:
    """How staging poses are found.

    Attributes:
        distance_m: distance of the staging point beyond the door plane (m).
        robot_radius_m: the robot radius the point keeps from walls and unknown space (m).
        rays: rays cast around the car (angular resolution 360 / rays degrees).
        search_m: how far the point may move to reach traversable space (m).
        min_region_m2: smallest traversable region the fallback accepts (m^2).
        max_barrier_m: thickest closed door (with the gap to the shaft door) a ray may cross
            to reach the free space in front of the car (m).
        barrier_tolerance_m: rays whose barrier is this much thicker than the thinnest still
            belong to the opening (m).
    """

    distance_m: float = 1.0
    robot_radius_m: float = ROBOT_RADIUS_M
    rays: int = 72
    search_m: float = 1.0
    min_region_m2: float = 2.0
    max_barrier_m: float = 0.5
    barrier_tolerance_m: float = 0.1

    def __post_init__(self) -> None:
        if not 0.0 < self.distance_m <= 10.0:
            raise ConfigError(f'distance_m must be in (0, 10] m, got {self.distance_m}')
        if not 0.0 <= self.robot_radius_m <= 2.0:
            raise ConfigError(f'robot_radius_m must be in [0, 2] m, got {self.robot_radius_m}')
        if not 8 <= self.rays <= 1440:
            raise ConfigError(f'rays must be in [8, 1440], got {self.rays}')
        if not 0.0 <= self.search_m <= 10.0:
            raise ConfigError(f'search_m must be in [0, 10] m, got {self.search_m}')
        if not 0.0 <= self.barrier_tolerance_m <= self.max_barrier_m <= 2.0:
            raise ConfigError('need 0 <= barrier_tolerance_m <= max_barrier_m <= 2 m')
        if not self.min_region_m2 >= 0.0:
            raise ConfigError(f'min_region_m2 must be >= 0, got {self.min_region_m2}')


@dataclass(frozen=True)
class StagingPose:
    """One staging pose: position and heading (towards the car), and how it was found.

    Attributes:
        x: position (m, floor frame).
        y: position (m, floor frame).
        yaw: heading (rad), facing the car.
        method: ``door`` (the opening was seen), ``nearest_free`` or ``car`` (fallbacks).
        door_yaw: direction from the car centre to its opening on this floor (rad).
        door_m: distance from the car centre to the door plane (m): for a closed door its
            landing side, where the free space in front of the car begins.
    """

    x: float
    y: float
    yaw: float
    method: str
    door_yaw: float
    door_m: float

    @property
    def pose(self) -> tuple[float, float, float]:
        """(x, y, yaw), as :attr:`ElevatorLink.staging` stores it."""
        return (self.x, self.y, self.yaw)


def _runs(open_: NDArray[np.bool_]) -> list[NDArray[np.int64]]:
    """Circular runs of True as index arrays."""
    n = len(open_)
    if open_.all():
        return [np.arange(n)]
    start = int(np.argmin(open_))  # a closed ray: runs never wrap past it
    order = (np.arange(n) + start) % n
    runs: list[NDArray[np.int64]] = []
    current: list[int] = []
    for k in order:
        if open_[k]:
            current.append(int(k))
        elif current:
            runs.append(np.asarray(current, np.int64))
            current = []
    if current:
        runs.append(np.asarray(current, np.int64))
    return runs


def _nearest_traversable(
    mask: Mask, x: float, y: float, radius_m: float, region: NDArray[np.bool_] | None = None
) -> tuple[float, float] | None:
    """The centre of the traversable cell (in ``region`` if given) nearest to (x, y)."""
    res = mask.resolution
    row, col = (int(v) for v in mask.to_cell(x, y))
    k = math.ceil(radius_m / res) + 1
    h, w = mask.shape
    r0, r1, c0, c1 = max(0, row - k), min(h, row + k + 1), max(0, col - k), min(w, col + k + 1)
    if r0 >= r1 or c0 >= c1:
        return None
    ok = mask.traversable[r0:r1, c0:c1]
    if region is not None:
        ok = ok & region[r0:r1, c0:c1]
    rr, cc = np.nonzero(ok)
    if len(rr) == 0:
        return None
    cx, cy = mask.to_world(rr + r0, cc + c0)
    d = np.hypot(cx - x, cy - y)
    best = int(np.argmin(d))
    if d[best] > radius_m + res:
        return None
    return float(cx[best]), float(cy[best])


def _fallback(mask: Mask, cx: float, cy: float, car_half: float, p: StagingParams) -> StagingPose:
    """Nearest cell of a large traversable region outside the car, else the car itself."""
    res = mask.resolution
    if mask.traversable.any():
        _, labels, stats, _ = cv2.connectedComponentsWithStats(
            mask.traversable.astype(np.uint8), connectivity=8
        )
        areas = stats[:, cv2.CC_STAT_AREA] * res * res
        big = np.isin(labels, np.nonzero(areas >= p.min_region_m2)[0][1:])
        if not big.any():
            big = labels == 1 + int(np.argmax(areas[1:]))
        rr, cc = np.nonzero(big)
        x, y = mask.to_world(rr, cc)
        d = np.hypot(x - cx, y - cy)
        d = np.where(d > car_half, d, np.inf)
        if np.isfinite(d).any():
            k = int(np.argmin(d))
            sx, sy = float(x[k]), float(y[k])
            door = math.atan2(sy - cy, sx - cx)
            return StagingPose(sx, sy, wrap_angle(door + math.pi), 'nearest_free', door, car_half)
    return StagingPose(cx, cy, 0.0, 'car', 0.0, car_half)


def _free_run_starts(free: NDArray[np.bool_], n: int) -> NDArray[np.bool_]:
    """Per sample: this and the next ``n - 1`` samples along the ray are all free."""
    c = np.concatenate([np.zeros((free.shape[0], 1), np.int64), np.cumsum(free, axis=1)], axis=1)
    ok = np.zeros(free.shape, np.bool_)
    m = free.shape[1] - n + 1
    if m > 0:
        ok[:, :m] = (c[:, n:] - c[:, :m]) == n
    return ok


def staging_pose(
    mask: Mask,
    car_xy: tuple[float, float],
    car_size_m: tuple[float, float],
    params: StagingParams = StagingParams(),
) -> StagingPose:
    """The staging pose of a car at ``car_xy`` (width, depth ``car_size_m``) on a floor's mask.

    Each ray from the car centre is followed to the car's boundary: through an open door it
    does not stop there; through a closed door (the map's usual view: the car is seen from
    inside with its doors shut) it crosses one thin band of wall and is in free space at once;
    elsewhere it meets a thicker shaft (two walls with unknown space between) or no free space
    at all. The widest fan of rays with the thinnest barrier is the opening. ``mask`` should
    be eroded by ``params.robot_radius_m`` (see :func:`traversable`).
    """
    p, res = params, mask.resolution
    cx, cy = float(car_xy[0]), float(car_xy[1])
    car_half = max(car_size_m) / 2.0
    step = res / 2.0
    r_max = 2.0 * car_half + p.max_barrier_m + p.distance_m + 1.5
    radii = np.arange(0.0, r_max, step)
    angles = np.arange(p.rays) * (2.0 * math.pi / p.rays)
    px = cx + np.cos(angles)[:, None] * radii[None, :]
    py = cy + np.sin(angles)[:, None] * radii[None, :]
    occ = mask.lookup(mask.occupied, px, py)
    free = mask.lookup(mask.free, px, py)
    m = len(radii)
    first = np.where(occ.any(axis=1), np.argmax(occ, axis=1), m)
    # Where free space (0.5 m of it) begins behind the first wall, and how thick that wall is.
    starts_any = _free_run_starts(free, max(2, round(0.5 / step)))
    starts = starts_any & (np.arange(m)[None, :] > first[:, None])
    exit_ = np.where(starts.any(axis=1), np.argmax(starts, axis=1), m)
    hit = np.where(first < m, radii[np.minimum(first, m - 1)], r_max)
    # The car's size as the map shows it (the parameter is a guess): most rays end on its walls.
    near = hit[hit < 2.0 * car_half + 0.5]
    if len(near) >= p.rays // 4:
        car_half = float(np.median(near))
    r_wall = 1.5 * car_half + 0.2  # beyond the car's corners: a ray still free here left it
    barrier = np.where(exit_ < m, (exit_ - first) * step, np.inf)
    # A ray that meets no wall at the car left it through an open door only if it crossed the
    # car's boundary in known free space. Through unknown space (a car or shaft wall the scans
    # never saw) it is no door: its barrier is that unknown band, so a room behind an unseen
    # wall cannot outbid the real, closed door (it did, with barrier 0, before).
    idx = np.arange(m)[None, :]
    band = (radii >= car_half) & (radii <= r_wall)
    opened = (hit > r_wall) & (free | ~band[None, :]).all(axis=1)
    past = ~free & (radii >= car_half)[None, :]
    gap0 = np.where(past.any(axis=1), np.argmax(past, axis=1), m)
    out = starts_any & (idx > gap0[:, None])
    gap1 = np.where(out.any(axis=1), np.argmax(out, axis=1), m)
    unseen = np.where(gap1 < m, (gap1 - gap0) * step, np.inf)
    walled = hit <= r_wall + step
    barrier = np.where(walled, barrier, np.where(opened, 0.0, unseen))
    # Where the free space in front of the car begins on each ray: the landing side of a
    # closed door (the face a waiting robot sees), not the car door seen from inside.
    outer = radii[np.minimum(np.where(walled, exit_, gap1), m - 1)]
    candidate = barrier <= p.max_barrier_m
    if not candidate.any():
        return _fallback(mask, cx, cy, car_half, p)
    best = float(barrier[candidate].min())
    runs = _runs(candidate & (barrier <= best + p.barrier_tolerance_m))
    run = max(runs, key=lambda r: (len(r), -float(barrier[r].mean())))
    door = math.atan2(float(np.sin(angles[run]).sum()), float(np.cos(angles[run]).sum()))
    # The door plane: the landing side of the closed door, else the walls either side of the
    # opening (beside an open door the nearer of those and the car's size: the car's front,
    # not the landing wall that the same opening cuts).
    sides = [(int(run[0]) - 1) % p.rays, (int(run[-1]) + 1) % p.rays]
    shut = [float(outer[k]) * math.cos(angles[k] - door) for k in run if not opened[k]]
    side = [float(hit[k]) * math.cos(angles[k] - door) for k in sides if hit[k] <= r_wall]
    plane = float(np.mean(shut)) if shut else min([*side, car_half])
    door_m = float(np.clip(plane, 0.3, r_wall))
    want = door_m + p.distance_m
    sx, sy = cx + want * math.cos(door), cy + want * math.sin(door)
    if not bool(mask.is_traversable(sx, sy)):
        moved = _nearest_traversable(mask, sx, sy, p.search_m)
        if moved is None:
            return _fallback(mask, cx, cy, car_half, p)
        sx, sy = moved
    return StagingPose(sx, sy, wrap_angle(door + math.pi), 'door', wrap_angle(door), door_m)


def with_staging(
    building: Building,
    params: StagingParams = StagingParams(),
    masks: dict[int, Mask] | None = None,
    recompute: bool = True,
    cache: DerivedCache | None = None,
) -> list[ElevatorLink]:
    """Copies of the building's links with a staging pose on every floor they serve.

    ``recompute`` refreshes every pose but the ``manual`` ones (the map may have changed since);
    without it only missing poses are filled. ``masks`` (by floor index, eroded by
    ``params.robot_radius_m``) saves recomputing them; the masks computed here are added to
    it. Floors without a layer get no pose. With ``cache`` a pose is reused while the floor's map
    (its content), the car position, the car size and ``params`` are unchanged; the mask is then
    not even computed.
    """
    masks = masks if masks is not None else {}
    size = (building.car_width_m, building.car_depth_m)
    digests: dict[int, str] = {}
    out: list[ElevatorLink] = []
    for link in building.links:
        staging = dict(link.staging)
        method = {f: link.staging_method.get(f, 'manual') for f in staging}
        for floor in link.floors:
            if floor not in building.floors:
                continue
            if floor in staging and (method[floor] == 'manual' or not recompute):
                continue
            pose, key = None, None
            if cache is not None:
                if floor not in digests:
                    digests[floor] = grid_digest(building.floors[floor])
                car = tuple(round(float(v), 6) for v in link.positions[floor])
                key = ('staging', digests[floor], car, size, params)
                pose = cache.get(key)
            if pose is None:
                if floor not in masks:
                    masks[floor] = traversable(building.floors[floor], params.robot_radius_m)
                pose = staging_pose(masks[floor], link.positions[floor], size, params)
                if cache is not None:
                    cache.put(key, pose)
            staging[floor], method[floor] = pose.pose, pose.method
        out.append(
            dataclasses.replace(
                link,
                positions=dict(link.positions),
                counts=dict(link.counts),
                staging=staging,
                staging_method=method,
            )
        )
    return out


__all__ = ['METHODS', 'StagingParams', 'StagingPose', 'staging_pose', 'with_staging']
