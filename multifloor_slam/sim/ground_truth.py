"""Ground truth written beside the bag: Nav2 maps per floor, building facts, true floor and pose.

Layout of ``ground_truth/``:
- ``<label>.yaml`` + ``<label>.pgm`` per floor: Nav2 map_server maps (trinary 254/0/205);
- ``ground_truth.yaml``: floors (label, index, elevation, storey height, design, map), elevators
  (id, x, y, floors served), rides, SLAM jump offsets per segment, start time;
- ``floor_truth.csv``: ``t,floor,riding,inside_car`` at 10 Hz (absolute stamps, s);
- ``pose_truth.csv``: ``t,x,y,z,yaw,floor`` at 10 Hz (true pose in the building frame);
- ``elevator_truth.csv``: ``t,state,elevator`` at 10 Hz, the elevator state the detector should
  report: ``inside`` (in a car), ``doors_open`` (in front of an open door), ``approaching``
  (within 3 m of a served door and facing it), else ``none``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from multifloor_slam.io.atomic_file import write_atomic as atomic_write
from multifloor_slam.sim.building import Building, FloorPlan
from multifloor_slam.sim.tour import Trajectory


def write_nav2_map(folder: Path, plan: FloorPlan) -> Path:
    """Write ``<label>.pgm`` + ``<label>.yaml`` (Nav2 map_server format); returns the yaml."""
    img = plan.occupancy_trinary()
    h, w = img.shape
    atomic_write(folder / f'{plan.label}.pgm', b'P5\n%d %d\n255\n' % (w, h) + img.tobytes())
    meta = {
        'image': f'{plan.label}.pgm',
        'mode': 'trinary',
        'resolution': float(plan.resolution),
        'origin': [0.0, 0.0, 0.0],
        'negate': 0,
        'occupied_thresh': 0.65,
        'free_thresh': 0.25,
    }
    path = folder / f'{plan.label}.yaml'
    atomic_write(path, yaml.safe_dump(meta, sort_keys=False).encode())
    return path


def _csv(header: str, cols: list[np.ndarray], fmt: list[str]) -> bytes:
    buf = io.StringIO()
    np.savetxt(buf, np.column_stack(cols), fmt=fmt, delimiter=',', header=header, comments='')
    return buf.getvalue().encode()


def elevator_states(
    building: Building, traj: Trajectory, k: np.ndarray, approach_m: float = 3.0
) -> tuple[list[str], list[str]]:
    """True elevator state and nearest elevator id at trajectory samples ``k``."""
    x, y, yaw, floor = traj.x[k], traj.y[k], traj.yaw[k], traj.floor[k]
    fronts = np.array([e.front for e in building.elevators])
    doors = np.array([(e.x, e.door_y) for e in building.elevators])
    d = np.hypot(x[:, None] - fronts[:, 0], y[:, None] - fronts[:, 1])
    near = d.argmin(1)
    served = np.array([floor[j] in building.elevators[n].floors for j, n in enumerate(near)], bool)
    bearing = np.arctan2(doors[near, 1] - y, doors[near, 0] - x)
    facing = np.cos(bearing - yaw) > 0.7
    state = np.full(len(k), 'none', dtype=object)
    state[(d[np.arange(len(k)), near] < approach_m) & served & facing] = 'approaching'
    state[(traj.door_frac[k] > 0) & ~traj.inside_car[k]] = 'doors_open'
    state[traj.inside_car[k]] = 'inside'
    ids = [
        building.elevators[n].id if s != 'none' else '' for n, s in zip(near, state, strict=True)
    ]
    return [str(s) for s in state], ids


def write_ground_truth(
    folder: Path,
    building: Building,
    traj: Trajectory,
    slam_offsets: np.ndarray,
    start_time_s: float,
    rate_hz: float = 10.0,
) -> Path:
    """Write everything in the module docstring to ``folder``; returns ``ground_truth.yaml``."""
    folder.mkdir(parents=True, exist_ok=True)
    floors = []
    for plan in building.floors:
        write_nav2_map(folder, plan)
        floors.append(
            {
                'label': plan.label,
                'index': plan.index,
                'elevation': float(plan.elevation),
                'storey_height': float(plan.storey_height),
                'design': plan.design,
                'map': f'{plan.label}.yaml',
            }
        )
    seg_start = [0.0] + [r.t_end for r in traj.rides]
    seg_floor = [traj.visits[0]] + [r.to_floor for r in traj.rides]
    doc = {
        'start_time': float(start_time_s),
        'duration': float(traj.duration),
        'seed': int(building.seed),
        'size': [float(v) for v in building.size],
        'resolution': float(building.resolution),
        'floors': floors,
        'elevators': [
            {
                'id': e.id,
                'x': float(e.x),
                'y': float(e.y),
                'width': float(e.width),
                'depth': float(e.depth),
                'door_y': float(e.door_y),
                'v_max': float(e.v_max),
                'a_max': float(e.a_max),
                'floors': [int(i) for i in e.floors],
            }
            for e in building.elevators
        ],
        'visits': [int(v) for v in traj.visits],
        'rides': [
            {
                'elevator': r.elevator,
                'from': int(r.from_floor),
                'to': int(r.to_floor),
                't_doors_open_src': start_time_s + r.t_doors_open_src,
                't_start': start_time_s + r.t_start,
                't_end': start_time_s + r.t_end,
                't_doors_open_dst': start_time_s + r.t_doors_open_dst,
                't_exit': start_time_s + r.t_exit,
            }
            for r in traj.rides
        ],
        'slam_offsets': [
            {
                'segment': k,
                't_start': start_time_s + float(seg_start[k]),
                'floor': int(seg_floor[k]),
                'dx': float(o[0]),
                'dy': float(o[1]),
                'dyaw': float(o[2]),
            }
            for k, o in enumerate(slam_offsets)
        ],
        'slam_offset_convention': 'map_pose = R(dyaw) * true_pose + (dx, dy); yaw += dyaw',
        'files': {
            'floor_truth': 'floor_truth.csv',
            'pose_truth': 'pose_truth.csv',
            'elevator_truth': 'elevator_truth.csv',
        },
    }
    t = np.arange(0.0, traj.duration, 1.0 / rate_hz)
    k = traj.index_at(t)
    ts = start_time_s + t
    atomic_write(
        folder / 'floor_truth.csv',
        _csv(
            't,floor,riding,inside_car',
            [ts, traj.floor[k], traj.riding[k], traj.inside_car[k]],
            ['%.3f', '%d', '%d', '%d'],
        ),
    )
    atomic_write(
        folder / 'pose_truth.csv',
        _csv(
            't,x,y,z,yaw,floor',
            [ts, traj.x[k], traj.y[k], traj.z[k], traj.yaw[k], traj.floor[k]],
            ['%.3f', '%.4f', '%.4f', '%.4f', '%.5f', '%d'],
        ),
    )
    state, eid = elevator_states(building, traj, k)
    lines = ['t,state,elevator'] + [
        f'{ti:.3f},{st},{el}' for ti, st, el in zip(ts, state, eid, strict=True)
    ]
    atomic_write(folder / 'elevator_truth.csv', ('\n'.join(lines) + '\n').encode())
    path = folder / 'ground_truth.yaml'
    atomic_write(path, yaml.safe_dump(doc, sort_keys=False).encode())
    return path


@dataclass
class GroundTruth:
    """Ground truth loaded back from a ``ground_truth/`` folder (see the module docstring).

    Attributes:
        folder: the folder.
        meta: the parsed ``ground_truth.yaml``.
        t: stamps (s) of the 10 Hz tables.
        floor: true floor index at ``t``.
        riding: the car moves at ``t``.
        inside_car: the robot is in a car at ``t``.
        x: true x at ``t`` (building frame).
        y: true y at ``t``.
        z: true height at ``t``.
        yaw: true heading at ``t``.
        elevator_state: detector truth at ``t`` (none/approaching/doors_open/inside).
    """

    folder: Path
    meta: dict
    t: np.ndarray
    floor: np.ndarray
    riding: np.ndarray
    inside_car: np.ndarray
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    yaw: np.ndarray
    elevator_state: np.ndarray

    @property
    def floors(self) -> list[dict]:
        """Floors: label, index, elevation, storey_height, design, map."""
        return list(self.meta['floors'])

    @property
    def elevators(self) -> list[dict]:
        """Elevators: id, x, y, width, depth, door_y, floors."""
        return list(self.meta['elevators'])

    @property
    def rides(self) -> list[dict]:
        """Rides: elevator, from, to and absolute times."""
        return list(self.meta['rides'])

    def map_yaml(self, label: str) -> Path:
        """Path of the Nav2 map yaml of floor ``label``."""
        return self.folder / f'{label}.yaml'

    def _idx(self, t: np.ndarray | float) -> np.ndarray:
        return np.clip(
            np.searchsorted(self.t, np.asarray(t), side='right') - 1, 0, len(self.t) - 1
        )

    def floor_at(self, t: np.ndarray | float) -> np.ndarray:
        """True floor index at time(s) ``t`` (s)."""
        return self.floor[self._idx(t)]

    def pose_at(self, t: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """True (x, y, yaw) at time(s) ``t``."""
        i = self._idx(t)
        return self.x[i], self.y[i], self.yaw[i]


def load_ground_truth(folder: Path | str) -> GroundTruth:
    """Load a ground-truth folder written by :func:`write_ground_truth`."""
    folder = Path(folder)
    meta = yaml.safe_load((folder / 'ground_truth.yaml').read_text())
    ft = np.loadtxt(folder / 'floor_truth.csv', delimiter=',', skiprows=1, ndmin=2)
    pt = np.loadtxt(folder / 'pose_truth.csv', delimiter=',', skiprows=1, ndmin=2)
    states = []
    with open(folder / 'elevator_truth.csv') as fh:
        next(fh)
        states = [line.split(',')[1] for line in fh if line.strip()]
    return GroundTruth(
        folder=folder,
        meta=meta,
        t=ft[:, 0],
        floor=ft[:, 1].astype(int),
        riding=ft[:, 2].astype(bool),
        inside_car=ft[:, 3].astype(bool),
        x=pt[:, 1],
        y=pt[:, 2],
        z=pt[:, 3],
        yaw=pt[:, 4],
        elevator_state=np.array(states),
    )


__all__ = [
    'GroundTruth',
    'elevator_states',
    'load_ground_truth',
    'write_ground_truth',
    'write_nav2_map',
]
