"""Sensor models sampled along the true trajectory: laser, odometry, SLAM pose, barometer, camera.

Everything returns numpy arrays (stamps in tour seconds); the recorder turns them into messages.
Laser and camera rays are cast in batches of many frames per raster variant (floor, open door).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from multifloor_slam.sim.building import Building, Material
from multifloor_slam.sim.camera import FACADE_HALF_WIDTH, CameraModel, CameraScene
from multifloor_slam.sim.pressure import BarometerNoise, sample_barometer
from multifloor_slam.sim.raycast import RayCaster, RayHits
from multifloor_slam.sim.tour import Trajectory

#: Barometer height above the floor (m).
BARO_HEIGHT = 0.3


def _wrap(a: NDArray[np.float64]) -> NDArray[np.float64]:
    return (a + np.pi) % (2 * np.pi) - np.pi


class Scene:
    """Ray casters per (floor, open elevator door), built on demand and cached."""

    def __init__(self, building: Building) -> None:
        self.building = building
        self._casters: dict[tuple[int, str], RayCaster] = {}

    def caster(self, floor: int, open_door: str) -> RayCaster:
        """Ray caster for ``floor`` with the door of elevator ``open_door`` open ('' none)."""
        key = (floor, open_door)
        if key not in self._casters:
            plan = self.building.floor(floor)
            self._casters[key] = RayCaster(plan.raster(open_door or None), plan.resolution)
        return self._casters[key]

    def cast_frames(
        self,
        traj: Trajectory,
        idx: NDArray[np.int64],
        rel_angles: NDArray[np.float64],
        max_range: float,
    ) -> RayHits:
        """Cast ``rel_angles`` (relative to the heading) from the robot at samples ``idx``."""
        n, m = len(idx), len(rel_angles)
        dist = np.full((n, m), np.inf)
        mat = np.zeros((n, m), np.uint8)
        hx = np.full((n, m), np.nan)
        hy = np.full((n, m), np.nan)
        door = np.where(traj.door_frac[idx] >= 0.5, traj.open_door[idx], '')
        keys = np.char.add(traj.floor[idx].astype(str), np.char.add('|', door))
        for key in np.unique(keys):
            sel = np.flatnonzero(keys == key)
            floor_s, door_s = str(key).split('|')
            caster = self.caster(int(floor_s), door_s)
            k = idx[sel]
            hits = caster.cast(
                traj.x[k, None], traj.y[k, None], traj.yaw[k, None] + rel_angles[None], max_range
            )
            dist[sel], mat[sel], hx[sel], hy[sel] = hits.dist, hits.material, hits.x, hits.y
        return RayHits(dist, mat, hx, hy)


@dataclass(frozen=True)
class LaserModel:
    """A 2D lidar.

    Attributes:
        rate_hz: scan rate.
        beams: beams per revolution.
        range_min: minimum range (m).
        range_max: maximum range (m).
        sigma: range noise RMS (m) at 0 m ...
        sigma_per_m: ... plus this much per metre.
        dropout: probability that a beam returns nothing (+inf).
    """

    rate_hz: float = 10.0
    beams: int = 360
    range_min: float = 0.1
    range_max: float = 12.0
    sigma: float = 0.01
    sigma_per_m: float = 0.002
    dropout: float = 0.003

    @property
    def angle_min(self) -> float:
        """First beam angle (rad)."""
        return -np.pi

    @property
    def angle_increment(self) -> float:
        """Angle between beams (rad)."""
        return 2 * np.pi / self.beams


def laser_scans(
    scene: Scene,
    traj: Trajectory,
    laser: LaserModel,
    rng: np.random.Generator,
    batch: int = 100,
) -> Iterator[tuple[NDArray[np.float64], NDArray[np.float32]]]:
    """Yield ``(t, ranges)`` batches: ranges (n, beams) float32, +inf for no return."""
    t = np.arange(0.0, traj.duration, 1.0 / laser.rate_hz)
    rel = laser.angle_min + laser.angle_increment * np.arange(laser.beams, dtype=np.float64)
    for a in range(0, len(t), batch):
        tb = t[a : a + batch]
        hits = scene.cast_frames(traj, traj.index_at(tb), rel, laser.range_max)
        r = hits.dist
        finite = np.isfinite(r)
        r[finite] += rng.normal(0.0, 1.0, finite.sum()) * (
            laser.sigma + laser.sigma_per_m * r[finite]
        )
        r[rng.random(r.shape) < laser.dropout] = np.inf
        r[(r > laser.range_max)] = np.inf
        r[r < laser.range_min] = -np.inf
        yield tb, r.astype(np.float32)


@dataclass(frozen=True)
class OdomModel:
    """Wheel odometry errors: fixed scale errors drawn once, white noise and a gyro bias walk."""

    rate_hz: float = 20.0
    scale_sigma: float = 0.01
    yaw_scale_sigma: float = 0.01
    v_noise: float = 0.01
    w_noise: float = 0.01
    bias_walk: float = 0.0005


@dataclass(frozen=True)
class Odometry:
    """Odometry samples in the ``odom`` frame (starts at 0, 0, 0)."""

    t: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    yaw: NDArray[np.float64]
    v: NDArray[np.float64]
    w: NDArray[np.float64]


def odometry(traj: Trajectory, model: OdomModel, rng: np.random.Generator) -> Odometry:
    """Integrate drifting wheel odometry along the true trajectory."""
    dt = float(traj.t[1] - traj.t[0])
    dx, dy = np.diff(traj.x), np.diff(traj.y)
    v_true = (dx * np.cos(traj.yaw[:-1]) + dy * np.sin(traj.yaw[:-1])) / dt
    w_true = _wrap(np.diff(traj.yaw)) / dt
    n = len(v_true)
    moving = (np.abs(v_true) > 1e-6) | (np.abs(w_true) > 1e-6)
    bias = np.cumsum(rng.normal(0.0, model.bias_walk * np.sqrt(dt), n))
    v = v_true * (1 + rng.normal(0, model.scale_sigma)) + moving * rng.normal(0, model.v_noise, n)
    w = w_true * (1 + rng.normal(0, model.yaw_scale_sigma))
    w = w + moving * (rng.normal(0, model.w_noise, n) + bias)
    yaw = np.concatenate([[0.0], np.cumsum(w * dt)])
    x = np.concatenate([[0.0], np.cumsum(v * np.cos(yaw[:-1]) * dt)])
    y = np.concatenate([[0.0], np.cumsum(v * np.sin(yaw[:-1]) * dt)])
    v = np.concatenate([v, [0.0]])
    w = np.concatenate([w, [0.0]])
    t = np.arange(0.0, traj.duration, 1.0 / model.rate_hz)
    k = traj.index_at(t)
    return Odometry(t, x[k], y[k], _wrap(yaw[k]), v[k], w[k])


@dataclass(frozen=True)
class SlamModel:
    """A floor-unaware 2D SLAM: locally accurate, jumps by a rigid offset after each ride.

    Attributes:
        rate_hz: pose output rate.
        sigma_xy: position noise (m).
        sigma_yaw: heading noise (rad).
        jump_xy: offsets after a ride are uniform in +-jump_xy (m) ...
        jump_yaw: ... and +-jump_yaw (rad).
    """

    rate_hz: float = 10.0
    sigma_xy: float = 0.02
    sigma_yaw: float = 0.005
    jump_xy: float = 6.0
    jump_yaw: float = np.pi


@dataclass(frozen=True)
class SlamPoses:
    """SLAM poses in the ``map`` frame and the rigid offset of each segment (true -> map)."""

    t: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    yaw: NDArray[np.float64]
    offsets: NDArray[np.float64]  # (segments, 3): dx, dy, dyaw


def slam_poses(traj: Trajectory, model: SlamModel, rng: np.random.Generator) -> SlamPoses:
    """The SLAM pose: true pose mapped by the segment's offset (segment 0: identity) + noise."""
    n_seg = int(traj.segment.max()) + 1
    offsets = np.column_stack(
        [
            rng.uniform(-model.jump_xy, model.jump_xy, n_seg),
            rng.uniform(-model.jump_xy, model.jump_xy, n_seg),
            rng.uniform(-model.jump_yaw, model.jump_yaw, n_seg),
        ]
    )
    offsets[0] = 0.0
    t = np.arange(0.0, traj.duration, 1.0 / model.rate_hz)
    k = traj.index_at(t)
    dx, dy, dth = offsets[traj.segment[k]].T
    c, s = np.cos(dth), np.sin(dth)
    x = c * traj.x[k] - s * traj.y[k] + dx + rng.normal(0, model.sigma_xy, len(k))
    y = s * traj.x[k] + c * traj.y[k] + dy + rng.normal(0, model.sigma_xy, len(k))
    yaw = _wrap(traj.yaw[k] + dth + rng.normal(0, model.sigma_yaw, len(k)))
    return SlamPoses(t, x, y, yaw, offsets)


def barometer(
    traj: Trajectory, noise: BarometerNoise, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Barometer ``(t, pressure_pa)`` along the true height (floor elevation + ride)."""
    return sample_barometer(traj.t, traj.z + BARO_HEIGHT, noise, rng)


def _facades(
    building: Building,
    traj: Trajectory,
    k: NDArray[np.int64],
    rel: NDArray[np.float64],
    hit_dist: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int16]]:
    """Where each camera ray meets an elevator's landing wall first: ``(u, depth, elevator)``.

    ``u`` is the hit's offset from the door centre along the wall (m), ``depth`` its distance
    along the optical axis, ``elevator`` the index into ``building.elevators`` (-1: none). The
    wall plane is used rather than the ray caster's hit so that an open door still shows its
    frame and the car behind it; a nearer obstacle (ray caster distance) hides the facade.
    """
    n, m = hit_dist.shape
    u_out = np.full((n, m), np.nan)
    d_out = np.full((n, m), np.inf)
    e_out = np.full((n, m), -1, np.int16)
    theta = traj.yaw[k, None] + rel[None]
    sin, cos = np.sin(theta), np.cos(theta)
    x0, y0, floor = traj.x[k, None], traj.y[k, None], traj.floor[k, None]
    for i, e in enumerate(building.elevators):
        served = np.isin(floor, e.floors) & (y0 < e.door_y) & ~traj.inside_car[k, None]
        with np.errstate(divide='ignore', invalid='ignore'):
            s = (e.door_y - y0) / sin
        u = x0 + s * cos - e.x
        ok = served & (s > 0) & (np.abs(u) <= FACADE_HALF_WIDTH) & (s <= hit_dist + 0.15)
        ok &= s < d_out
        u_out = np.where(ok, u, u_out)
        d_out = np.where(ok, s, d_out)
        e_out = np.where(ok, np.int16(i), e_out)
    depth = np.where(e_out >= 0, d_out * np.cos(rel)[None], np.inf)
    return u_out, depth, e_out


def _in_car_view(building: Building, traj: Trajectory, k: NDArray[np.int64]) -> NDArray[np.bool_]:
    """The camera looks at a car's interior: in the car, or in its doorway facing in."""
    x, y = traj.x[k], traj.y[k]
    out = traj.inside_car[k].copy()
    for e in building.elevators:
        doorway = (np.abs(x - e.x) < e.width / 2) & (y > e.door_y) & (y < e.y + e.depth / 2)
        out |= doorway & (np.sin(traj.yaw[k]) > 0.5)
    return out


def camera_scenes(
    scene: Scene,
    traj: Trajectory,
    model: CameraModel,
    rate_hz: float,
    batch: int = 50,
) -> Iterator[tuple[float, CameraScene]]:
    """Yield ``(t, CameraScene)`` at ``rate_hz`` for the forward-looking camera."""
    t = np.arange(0.0, traj.duration, 1.0 / rate_hz)
    rel = model.column_angles()
    building = scene.building
    doors = {e.id: e.x for e in building.elevators}
    door_x = np.array(list(doors.values()))
    ids = tuple(doors)
    ride_no = np.full(len(t), -1, np.int64)
    for i, r in enumerate(traj.rides):
        ride_no[(t >= r.t_doors_open_src) & (t <= r.t_exit + 5.0)] = i
    for a in range(0, len(t), batch):
        tb = t[a : a + batch]
        k = traj.index_at(tb)
        hits = scene.cast_frames(traj, k, rel, 30.0)
        depth = hits.dist * np.cos(rel)[None]
        along = np.where(np.abs(np.sin(traj.yaw[k]))[:, None] > 0.7, hits.x, hits.y)
        near = np.abs(np.nan_to_num(hits.x, nan=1e9)[..., None] - door_x).argmin(-1)
        offset = np.nan_to_num(hits.x, nan=np.inf) - door_x[near]
        elevator_mat = np.isin(hits.material, (Material.DOOR, Material.PANEL))
        offset = np.where(elevator_mat, offset, np.nan)
        fu, fdepth, fe = _facades(building, traj, k, rel, hits.dist)
        car_view = _in_car_view(building, traj, k)
        for j, kk in enumerate(k):
            yield (
                float(tb[j]),
                CameraScene(
                    model=model,
                    depth=depth[j],
                    material=hits.material[j],
                    along=np.nan_to_num(along[j]),
                    door_offset=offset[j],
                    inside_car=bool(traj.inside_car[kk]),
                    riding=bool(traj.riding[kk]),
                    floor_index=int(traj.floor[kk]),
                    facade_u=fu[j],
                    facade_depth=fdepth[j],
                    facade_elevator=fe[j],
                    elevator_ids=ids,
                    open_door=str(traj.open_door[kk]),
                    door_frac=float(traj.door_frac[kk]),
                    ride=int(ride_no[a + j]),
                    car_view=bool(car_view[j]),
                    seed=int(building.seed),
                ),
            )


__all__ = [
    'BARO_HEIGHT',
    'LaserModel',
    'OdomModel',
    'Odometry',
    'Scene',
    'SlamModel',
    'SlamPoses',
    'barometer',
    'camera_scenes',
    'laser_scans',
    'odometry',
]
