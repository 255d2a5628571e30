"""The building simulator's entry point: ``simulate(SimConfig(...), out_dir) -> SimResult``.

It builds the building, plans the tour, samples every sensor and writes ``out_dir/bag`` (a
rosbag2, MCAP by default) and ``out_dir/ground_truth``. The same config gives the same bag.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from multifloor_slam.errors import ConfigError
from multifloor_slam.io.bag_writer import STORAGES, BagWriter
from multifloor_slam.sim import recorder as rec
from multifloor_slam.sim.building import Building, BuildingConfig, make_building
from multifloor_slam.sim.camera import CameraModel
from multifloor_slam.sim.ground_truth import write_ground_truth
from multifloor_slam.sim.pressure import BarometerNoise
from multifloor_slam.sim.sensors import (
    LaserModel,
    OdomModel,
    Scene,
    SlamModel,
    barometer,
    camera_scenes,
    laser_scans,
    odometry,
    slam_poses,
)
from multifloor_slam.sim.tour import TourConfig, Trajectory, plan_tour

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimConfig:
    """Everything the simulator needs (defaults: the demo building).

    Attributes:
        floors: floors in all, basement included (1-12).
        seed: random seed (building, tour and sensor noise).
        basement: the lowest floor is a basement B1.
        elevators: elevator shafts (1 or 2).
        visits: floor visits (None: floors + 2; revisits follow the first visits).
        rooms_per_visit: rooms explored on a first visit.
        rooms_per_revisit: rooms explored on a revisit.
        max_duration_s: cut the tour after this many seconds (None: the whole tour).
        speed: robot driving speed (m/s).
        plan_size: floor plan size (x, y) in metres.
        scan_rate_hz: laser scans per second.
        scan_beams: beams per scan.
        range_max: laser maximum range (m).
        odom_rate_hz: odometry rate.
        pose_rate_hz: SLAM pose rate.
        baro_rate_hz: barometer rate.
        baro_white_pa: barometer white noise (Pa RMS).
        baro_drift_pa_per_h: weather drift during the recording.
        baro_door_steps_per_h: door/HVAC pressure steps per hour.
        camera: record the camera at all.
        camera_rate_hz: camera frame rate.
        camera_size: image (width, height).
        compressed: CompressedImage jpeg on ``camera/image_raw/compressed`` instead of Image.
        storage: 'mcap' or 'sqlite3'.
        clock_rate_hz: /clock messages per second in the bag (0: none).
        tf: write /tf (odom -> base_link, map -> odom) and /tf_static (sensor mounts).
        start_time_s: absolute time of the first message (s since the epoch).
    """

    floors: int = 3
    seed: int = 0
    basement: bool = False
    elevators: int = 2
    visits: int | None = None
    max_duration_s: float | None = None
    rooms_per_visit: int = 2
    rooms_per_revisit: int = 1
    speed: float = 0.7
    plan_size: tuple[float, float] = (30.0, 20.0)
    scan_rate_hz: float = 10.0
    scan_beams: int = 360
    range_max: float = 12.0
    odom_rate_hz: float = 20.0
    pose_rate_hz: float = 10.0
    baro_rate_hz: float = 20.0
    baro_white_pa: float = 0.5
    baro_drift_pa_per_h: float = 20.0
    baro_door_steps_per_h: float = 6.0
    camera: bool = True
    camera_rate_hz: float = 5.0
    camera_size: tuple[int, int] = (320, 240)
    compressed: bool = False
    storage: str = 'mcap'
    clock_rate_hz: float = 10.0
    tf: bool = True
    start_time_s: float = 1_700_000_000.0
    building: BuildingConfig = field(init=False, repr=False)
    tour: TourConfig = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.storage not in STORAGES:
            raise ConfigError(f'storage must be one of {sorted(STORAGES)}, got {self.storage!r}')
        rates = {
            'scan_rate_hz': self.scan_rate_hz,
            'odom_rate_hz': self.odom_rate_hz,
            'pose_rate_hz': self.pose_rate_hz,
            'baro_rate_hz': self.baro_rate_hz,
            'camera_rate_hz': self.camera_rate_hz,
        }
        for name, v in rates.items():
            if not 0.1 <= v <= 200.0:
                raise ConfigError(f'{name} must be 0.1-200 Hz, got {v}')
        if not 0.0 <= self.clock_rate_hz <= 1000.0:
            raise ConfigError(f'clock_rate_hz must be 0-1000, got {self.clock_rate_hz}')
        if not 8 <= self.scan_beams <= 4096:
            raise ConfigError(f'scan_beams must be 8-4096, got {self.scan_beams}')
        if not 1.0 <= self.range_max <= 100.0:
            raise ConfigError(f'range_max must be 1-100 m, got {self.range_max}')
        w, h = self.camera_size
        if not (16 <= w <= 1920 and 16 <= h <= 1080):
            raise ConfigError(f'camera_size must be within 16x16..1920x1080, got {w}x{h}')
        object.__setattr__(
            self,
            'building',
            BuildingConfig(
                floors=self.floors,
                seed=self.seed,
                basement=self.basement,
                elevators=self.elevators,
                size=self.plan_size,
            ),
        )
        object.__setattr__(
            self,
            'tour',
            TourConfig(
                visits=self.visits,
                rooms_per_visit=self.rooms_per_visit,
                rooms_per_revisit=self.rooms_per_revisit,
                speed=self.speed,
                max_duration=self.max_duration_s,
            ),
        )


@dataclass
class SimResult:
    """What :func:`simulate` wrote.

    Attributes:
        bag_path: the rosbag2 directory.
        ground_truth_dir: the ground-truth folder.
        ground_truth_yaml: its ``ground_truth.yaml``.
        duration_s: simulated seconds.
        wall_s: wall-clock seconds it took.
        message_counts: messages per topic (relative names; ``/clock`` absolute).
        bag_bytes: size of the bag on disk.
        floors: floor labels, lowest first.
        rides: number of elevator rides.
        building: the simulated building.
        trajectory: the true trajectory.
    """

    bag_path: Path
    ground_truth_dir: Path
    ground_truth_yaml: Path
    duration_s: float
    wall_s: float
    message_counts: dict[str, int]
    bag_bytes: int
    floors: list[str]
    rides: int
    building: Building = field(repr=False)
    trajectory: Trajectory = field(repr=False)


def simulate(cfg: SimConfig, out_dir: Path | str, *, overwrite: bool = False) -> SimResult:
    """Simulate the tour of ``cfg`` and write ``out_dir/bag`` and ``out_dir/ground_truth``.

    Raises:
        ConfigError: ``out_dir/bag`` exists and ``overwrite`` is false.
    """
    t_wall = time.perf_counter()
    out = Path(out_dir)
    bag_path = out / 'bag'
    gt_dir = out / 'ground_truth'
    if bag_path.exists():
        if not overwrite:
            raise ConfigError(f'{bag_path} exists; remove it or pass overwrite (--force)')
        shutil.rmtree(bag_path)
    out.mkdir(parents=True, exist_ok=True)
    seeds = np.random.SeedSequence(cfg.seed).spawn(6)
    rngs = [np.random.default_rng(s) for s in seeds]
    building = make_building(cfg.building)
    traj = plan_tour(building, cfg.tour, rngs[0])
    log.info('tour: %.0f s, visits %s, %d rides', traj.duration, traj.visits, len(traj.rides))
    scene = Scene(building)
    laser = LaserModel(rate_hz=cfg.scan_rate_hz, beams=cfg.scan_beams, range_max=cfg.range_max)
    odo = odometry(traj, OdomModel(rate_hz=cfg.odom_rate_hz), rngs[1])
    slam_model = SlamModel(rate_hz=cfg.pose_rate_hz)
    slam = slam_poses(traj, slam_model, rngs[2])
    noise = BarometerNoise(
        rate_hz=cfg.baro_rate_hz,
        white_pa=cfg.baro_white_pa,
        drift_pa_per_h=cfg.baro_drift_pa_per_h,
        door_steps_per_h=cfg.baro_door_steps_per_h,
    )
    t_p, p = barometer(traj, noise, rngs[3])
    try:
        with BagWriter(bag_path, storage=cfg.storage) as writer:
            f = rec.MessageFactory(writer, cfg.start_time_s)
            writer.add_topic(rec.TOPIC_SCAN, 'sensor_msgs/msg/LaserScan')
            writer.add_topic(rec.TOPIC_ODOM, 'nav_msgs/msg/Odometry')
            writer.add_topic(
                rec.TOPIC_POSE, 'geometry_msgs/msg/PoseWithCovarianceStamped', 'reliable'
            )
            writer.add_topic(rec.TOPIC_PRESSURE, 'sensor_msgs/msg/FluidPressure')
            streams = [
                rec.scan_stream(f, laser_scans(scene, traj, laser, rngs[4]), laser),
                rec.odom_stream(f, odo),
                rec.pose_stream(f, slam, slam_model.sigma_xy, slam_model.sigma_yaw),
                rec.pressure_stream(f, t_p, p, noise.white_pa**2),
            ]
            if cfg.camera:
                model = CameraModel(width=cfg.camera_size[0], height=cfg.camera_size[1])
                image_topic = rec.TOPIC_IMAGE_COMPRESSED if cfg.compressed else rec.TOPIC_IMAGE
                image_type = 'CompressedImage' if cfg.compressed else 'Image'
                writer.add_topic(image_topic, f'sensor_msgs/msg/{image_type}')
                writer.add_topic(rec.TOPIC_CAMERA_INFO, 'sensor_msgs/msg/CameraInfo')
                scenes = camera_scenes(scene, traj, model, cfg.camera_rate_hz)
                streams.append(rec.camera_stream(f, scenes, model, rngs[5], cfg.compressed))
            if cfg.clock_rate_hz > 0:
                writer.add_topic(rec.TOPIC_CLOCK, 'rosgraph_msgs/msg/Clock', 'reliable')
                streams.append(rec.clock_stream(f, traj.duration, cfg.clock_rate_hz))
            if cfg.tf:
                writer.add_topic(rec.TOPIC_TF, 'tf2_msgs/msg/TFMessage', 'reliable')
                writer.add_topic(rec.TOPIC_TF_STATIC, 'tf2_msgs/msg/TFMessage', 'latched')
                streams.append(rec.tf_stream(f, odo, slam))
                streams.append(rec.tf_static_stream(f))
            rec.write_streams(writer, streams)
            counts = dict(writer.counts)
    except BaseException:
        shutil.rmtree(bag_path, ignore_errors=True)
        raise
    gt_yaml = write_ground_truth(gt_dir, building, traj, slam.offsets, cfg.start_time_s)
    size = sum(p.stat().st_size for p in bag_path.rglob('*') if p.is_file())
    return SimResult(
        bag_path=bag_path,
        ground_truth_dir=gt_dir,
        ground_truth_yaml=gt_yaml,
        duration_s=traj.duration,
        wall_s=time.perf_counter() - t_wall,
        message_counts=counts,
        bag_bytes=size,
        floors=[fl.label for fl in building.floors],
        rides=len(traj.rides),
        building=building,
        trajectory=traj,
    )


__all__ = ['SimConfig', 'SimResult', 'simulate']
