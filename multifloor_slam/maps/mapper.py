"""Per-floor map layers joined by elevator links, built from one robot's 2D SLAM output.

The :class:`BuildingMapper` is the one API the ``floor_map_manager`` node and the offline pipeline
both call. It takes primitives (stamps in float seconds, numpy arrays) in time order:

* ``add_pose`` - the SLAM pose (SLAM ``map`` frame), kept a while for interpolation;
* ``add_scan`` - integrated into the current floor's layer at the interpolated pose;
* ``set_floor`` / ``set_riding`` / ``set_elevator_state`` / ``add_altitude`` - the floor
  estimator's and elevator detector's outputs.

**Elevator episodes.** A ride starts with ``riding=True``, the elevator state ``inside`` or a floor
change, whichever comes first, and ends when none holds any more and the floor has been steady for
``floor_settle_s``. During an episode no scan is integrated: the car's walls must not enter any
floor's map, and the SLAM pose is unreliable there.

**Re-anchoring.** Each floor layer has its own frame, and elevator shafts are vertical, so the
car's x, y is the same on every floor it serves. At the start of a ride the robot's pose in the
departure floor's frame is the car position. At the end, the SLAM pose of the robot (still in the
car) is mapped onto that car position on the arrival floor: this yields a new SLAM -> floor
transform and removes whatever jump the SLAM made during the ride. The heading comes from the
departure heading (``anchor_yaw='departure'``: the robot does not turn in the car) or from the
SLAM's own heading change during the ride (``'slam'``: for robots that turn round inside). On a
revisit of a floor that already has a map, the first ``icp_scans`` scans are held back and
aligned to the layer with Open3D ICP; a good fit refines the transform, a bad fit is rejected
(``icp_reject='anchor'`` keeps the anchor-only transform, ``'skip'`` drops the visit).

**Elevator links.** Every ride adds the car position on the departure and arrival floors to a
link; departures within ``link_cluster_m`` of a known link's position on that floor are the same
elevator, others make a new link.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from multifloor_slam.maps.alignment import AlignmentResult, IcpParams, align_points
from multifloor_slam.floors.floor_table import floor_label
from multifloor_slam.maps.occupancy_layer import LayerParams, OccupancyLayer
from multifloor_slam.maps.scan_geometry import (
    scan_points,
    se2_compose,
    se2_inverse,
    transform_points,
    wrap_angle,
)
from multifloor_slam.errors import ConfigError

Pose = tuple[float, float, float]
FloatArray = NDArray[np.float64]

ELEVATOR_STATES = ('none', 'approaching', 'doors_open', 'inside')


@dataclass(frozen=True)
class MapperParams:
    """Everything the building mapper can be tuned with (one ROS parameter per field).

    Attributes:
        resolution: cell size (m).
        l_hit: log-odds of a beam end.
        l_free: log-odds of a crossed cell.
        l_min: lower log-odds clamp.
        l_max: upper log-odds clamp.
        occupied_thresh: probability above which a cell is occupied (also in the Nav2 yaml).
        free_thresh: probability below which a cell is free (also in the Nav2 yaml).
        map_source: 'scan' integrates scans; 'slam_map' copies the SLAM's own grid into the
            current floor's layer (for SLAMs restarted on every floor).
        max_free_range_m: no-return beams clear space up to this range (0: the scan's range_max).
        laser_x: laser position on the robot (m, robot frame).
        laser_y: laser position on the robot (m, robot frame).
        laser_yaw: laser heading on the robot (rad).
        pose_max_gap_s: poses further apart than this are not interpolated between.
        pose_max_age_s: without a bracketing pair, the nearest pose is used if this close.
        scan_wait_s: a scan newer than the newest pose waits up to this long for the next pose,
            so it is interpolated, not extrapolated (SLAMs publish poses slower than scans).
        pose_buffer_s: how long poses are kept (must cover a ride's end).
        floor_settle_s: after a floor change, wait this long before mapping the new floor.
        arrival_motion_m: after a ride the robot stands in the car; the arrival anchor is its
            SLAM pose just before it first moves more than this (so a SLAM jump at any time
            while it stands there is removed).
        arrival_motion_deg: ... or turns more than this.
        arrival_timeout_s: anchor anyway when the robot has not moved this long after the ride.
        max_robot_speed_mps: a pose step faster than this (+0.15 m of noise) is a SLAM jump.
        max_robot_yaw_rate: a heading step faster than this (rad/s, +0.1 rad) is a SLAM jump.
        car_exit_m: after a ride, scans are mapped (and used for ICP) only once the robot is this
            far from where it stood in the car: scans from inside the car see its walls.
        initial_floor: floor index assumed until ``floor/current`` says otherwise.
        default_floor_height_m: elevation per floor index when no altitude was measured.
        anchor_yaw: 'departure' (the robot keeps its heading in the car) or 'slam' (trust the
            SLAM's heading change during the ride).
        link_cluster_m: departures closer than this to a link's car position use that link.
        icp_enabled: align floor revisits to the existing layer.
        icp_scans: scans held back and aligned at the start of a revisit.
        icp_reject: 'anchor' (merge with the anchor-only transform) or 'skip' (drop the visit).
        icp_coarse_corr_m: see :class:`IcpParams`.
        icp_fine_corr_m: see :class:`IcpParams`.
        icp_iterations: see :class:`IcpParams`.
        icp_min_fitness: see :class:`IcpParams`.
        icp_large_fitness: see :class:`IcpParams`.
        icp_max_rmse_m: see :class:`IcpParams`.
        icp_max_correction_m: see :class:`IcpParams`.
        icp_max_correction_deg: see :class:`IcpParams`.
        car_width_m: elevator car width for the Open-RMF export.
        car_depth_m: elevator car depth for the Open-RMF export.
        building_name: name of the building in the files.
    """

    resolution: float = LayerParams.resolution
    l_hit: float = LayerParams.l_hit
    l_free: float = LayerParams.l_free
    l_min: float = LayerParams.l_min
    l_max: float = LayerParams.l_max
    occupied_thresh: float = LayerParams.occupied_thresh
    free_thresh: float = LayerParams.free_thresh
    map_source: str = 'scan'
    max_free_range_m: float = 0.0
    laser_x: float = 0.0
    laser_y: float = 0.0
    laser_yaw: float = 0.0
    pose_max_gap_s: float = 1.0
    pose_max_age_s: float = 0.3
    scan_wait_s: float = 0.5
    pose_buffer_s: float = 120.0
    floor_settle_s: float = 1.0
    arrival_motion_m: float = 0.25
    arrival_motion_deg: float = 15.0
    arrival_timeout_s: float = 30.0
    max_robot_speed_mps: float = 2.5
    max_robot_yaw_rate: float = 2.0
    car_exit_m: float = 1.2
    initial_floor: int = 0
    default_floor_height_m: float = 3.0
    anchor_yaw: str = 'departure'
    link_cluster_m: float = 1.5
    icp_enabled: bool = True
    icp_scans: int = 10
    icp_reject: str = 'anchor'
    icp_coarse_corr_m: float = 0.6
    icp_fine_corr_m: float = 0.15
    icp_iterations: int = 40
    icp_min_fitness: float = 0.6
    icp_large_fitness: float = 0.9
    icp_max_rmse_m: float = 0.08
    icp_max_correction_m: float = 1.5
    icp_max_correction_deg: float = 20.0
    car_width_m: float = 1.6
    car_depth_m: float = 1.6
    building_name: str = 'building'

    def __post_init__(self) -> None:
        self.layer_params()  # validates the layer fields
        self.icp_params()
        if self.map_source not in ('scan', 'slam_map'):
            raise ConfigError(f"map_source must be 'scan' or 'slam_map', not {self.map_source!r}")
        if self.anchor_yaw not in ('departure', 'slam'):
            raise ConfigError(f"anchor_yaw must be 'departure' or 'slam', not {self.anchor_yaw!r}")
        if self.icp_reject not in ('anchor', 'skip'):
            raise ConfigError(f"icp_reject must be 'anchor' or 'skip', not {self.icp_reject!r}")
        if min(self.max_free_range_m, self.pose_max_age_s, self.scan_wait_s) < 0:
            raise ConfigError('max_free_range_m, pose_max_age_s and scan_wait_s must be >= 0')
        if self.pose_max_gap_s <= 0:
            raise ConfigError('pose_max_gap_s must be > 0')
        if self.pose_buffer_s < 5 or self.floor_settle_s < 0 or self.icp_scans < 1:
            raise ConfigError('pose_buffer_s >= 5, floor_settle_s >= 0, icp_scans >= 1 needed')
        if min(self.arrival_motion_m, self.arrival_motion_deg, self.arrival_timeout_s) <= 0:
            raise ConfigError(
                'arrival_motion_m, arrival_motion_deg, arrival_timeout_s must be > 0'
            )
        if self.car_exit_m < 0:
            raise ConfigError(f'car_exit_m must be >= 0, got {self.car_exit_m}')
        if self.max_robot_speed_mps <= 0 or self.max_robot_yaw_rate <= 0:
            raise ConfigError('max_robot_speed_mps and max_robot_yaw_rate must be > 0')
        if self.default_floor_height_m <= 0 or self.link_cluster_m <= 0:
            raise ConfigError('default_floor_height_m and link_cluster_m must be > 0')
        if self.car_width_m <= 0 or self.car_depth_m <= 0:
            raise ConfigError('car_width_m and car_depth_m must be > 0')
        if not self.building_name or any(c in self.building_name for c in '/\\'):
            raise ConfigError(
                f'building_name must be a plain file name, not {self.building_name!r}'
            )

    def layer_params(self) -> LayerParams:
        """The occupancy layer's share of the parameters."""
        return LayerParams(
            resolution=self.resolution,
            l_hit=self.l_hit,
            l_free=self.l_free,
            l_min=self.l_min,
            l_max=self.l_max,
            occupied_thresh=self.occupied_thresh,
            free_thresh=self.free_thresh,
        )

    def icp_params(self) -> IcpParams:
        """The ICP share of the parameters."""
        return IcpParams(
            coarse_corr_m=self.icp_coarse_corr_m,
            fine_corr_m=self.icp_fine_corr_m,
            iterations=self.icp_iterations,
            voxel_m=self.resolution,
            min_fitness=self.icp_min_fitness,
            large_fitness=self.icp_large_fitness,
            max_rmse_m=self.icp_max_rmse_m,
            max_correction_m=self.icp_max_correction_m,
            max_correction_deg=self.icp_max_correction_deg,
        )

    def replace(self, **changes: Any) -> MapperParams:
        """A copy with some fields changed (validated again)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return MapperParams(**values)


@dataclass
class FloorLayer:
    """One floor: its index, label, elevation and occupancy layer (in the floor's frame)."""

    index: int
    layer: OccupancyLayer
    elevation_m: float
    elevation_measured: bool = False

    @property
    def label(self) -> str:
        """``L<index>`` / ``B<n>``."""
        return floor_label(self.index)


@dataclass
class ElevatorLink:
    """One elevator: the car position on every floor it served (running means, floor frames)."""

    id: int
    positions: dict[int, tuple[float, float]] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)
    rides: int = 0

    @property
    def floors(self) -> list[int]:
        """Floor indices served (seen), ascending."""
        return sorted(self.positions)

    @property
    def x(self) -> float:
        """Mean car x over the floors served."""
        return float(np.mean([p[0] for p in self.positions.values()]))

    @property
    def y(self) -> float:
        """Mean car y over the floors served."""
        return float(np.mean([p[1] for p in self.positions.values()]))

    def observe(self, floor: int, xy: tuple[float, float]) -> None:
        """Add one car position seen on ``floor``."""
        n = self.counts.get(floor, 0)
        if n == 0:
            self.positions[floor] = (float(xy[0]), float(xy[1]))
        else:
            px, py = self.positions[floor]
            self.positions[floor] = (px + (xy[0] - px) / (n + 1), py + (xy[1] - py) / (n + 1))
        self.counts[floor] = n + 1


@dataclass
class _Episode:
    start_t: float
    from_floor: int
    dep_floor_pose: Pose | None  # robot pose in the departure floor's frame
    dep_slam_pose: Pose | None
    dep_t: float = 0.0  # when the departure pose was taken
    dep_transform: Pose | None = None  # SLAM -> departure floor at that time
    ride_seen: bool = False
    floor_change_t: float | None = None
    riding_end_t: float | None = None
    inside_end_t: float | None = None


@dataclass
class _Revisit:
    floor: int
    anchor: Pose  # SLAM -> floor transform from the elevator anchor alone
    arrival_slam: Pose | None
    link: ElevatorLink | None
    scans: list[tuple[tuple[float, float], FloatArray, NDArray[np.bool_], bool]]


class BuildingMapper:
    """Build one occupancy layer per floor, re-anchored at every elevator ride."""

    def __init__(self, params: MapperParams = MapperParams()) -> None:
        self.params = params
        self._layer_params = params.layer_params()
        self._icp = params.icp_params()
        self._floors: dict[int, FloorLayer] = {}
        self._links: list[ElevatorLink] = []
        self._pose_t: list[float] = []
        self._pose_v: list[Pose] = []
        self._floor = params.initial_floor
        self._floor_t = -math.inf
        self._riding = False
        self._inside = False
        self._episode: _Episode | None = None
        self._revisit: _Revisit | None = None
        self._transform: Pose | None = None  # SLAM -> current floor frame
        self._started = False
        self._skip_visit = False
        self._elev_sum: dict[int, tuple[float, int]] = {}
        self._waiting: list[tuple[float, tuple[Any, ...]]] = []  # scans waiting for a pose
        self._car_xy: tuple[float, float] | None = None  # SLAM x, y of the car after a ride
        self.last_alignment: AlignmentResult | None = None
        self.floor_table: dict[str, Any] | None = None  # saved with the building when set
        self._stats: dict[str, int] = dict.fromkeys(
            (
                'scans_in',
                'scans_integrated',
                'scans_skipped_elevator',
                'scans_skipped_no_pose',
                'scans_skipped_visit',
                'scans_skipped_map_source',
                'scans_bad',
                'rides',
                'reanchors',
                'icp_accepted',
                'icp_rejected',
                'slam_maps_in',
                'slam_maps_used',
            ),
            0,
        )

    # ---- read-only state ----------------------------------------------------------------------
    @property
    def floors(self) -> dict[int, FloorLayer]:
        """Floor layers by index."""
        return self._floors

    @property
    def links(self) -> list[ElevatorLink]:
        """Elevator links, by id."""
        return self._links

    @property
    def stats(self) -> dict[str, int]:
        """Counters (a copy)."""
        return dict(self._stats)

    @property
    def current_floor(self) -> int:
        """The floor index scans go to."""
        return self._floor

    @property
    def transform(self) -> Pose | None:
        """SLAM frame -> current floor frame (None while not anchored)."""
        return self._transform

    @property
    def in_elevator(self) -> bool:
        """True during an elevator episode (no mapping)."""
        return self._episode is not None

    # ---- inputs -------------------------------------------------------------------------------
    def add_pose(self, t: float, x: float, y: float, yaw: float) -> None:
        """A SLAM pose of the robot (SLAM map frame)."""
        if not all(math.isfinite(v) for v in (t, x, y, yaw)):
            return
        pose = (float(x), float(y), float(yaw))
        if self._pose_t and t < self._pose_t[-1]:
            i = bisect.bisect_right(self._pose_t, t)
            self._pose_t.insert(i, float(t))
            self._pose_v.insert(i, pose)
        else:
            self._pose_t.append(float(t))
            self._pose_v.append(pose)
        if len(self._pose_t) > 64 and self._pose_t[0] < t - self.params.pose_buffer_s:
            k = bisect.bisect_left(self._pose_t, t - self.params.pose_buffer_s)
            del self._pose_t[:k]
            del self._pose_v[:k]
        self._update_episode(t)
        if self._waiting:
            self._release_waiting(self._pose_t[-1])

    def add_altitude(self, t: float, altitude_m: float) -> None:
        """Relative altitude (``floor/altitude``): averaged into the current floor's elevation."""
        self._update_episode(t)
        if self._episode is not None or not math.isfinite(altitude_m):
            return
        s, n = self._elev_sum.get(self._floor, (0.0, 0))
        self._elev_sum[self._floor] = (s + float(altitude_m), n + 1)
        if self._floor in self._floors:
            self._apply_elevation(self._floors[self._floor])

    def set_floor(self, t: float, floor: int, elevation_m: float | None = None) -> None:
        """The floor estimator's current floor (``floor/current``)."""
        floor = int(floor)
        if elevation_m is not None and math.isfinite(elevation_m):
            self._elev_sum[floor] = (float(elevation_m), 1)
            if floor in self._floors:
                self._apply_elevation(self._floors[floor])
        if floor == self._floor:
            self._update_episode(t)
            return
        if not self._started:
            self._floor = floor  # nothing mapped yet: just start on that floor
            return
        self._start_episode(t)
        self._floor = floor
        self._floor_t = t
        assert self._episode is not None
        self._episode.floor_change_t = t
        self._update_episode(t)

    def set_riding(self, t: float, riding: bool) -> None:
        """The floor estimator's ride flag (``floor/riding``)."""
        riding = bool(riding)
        if riding and not self._riding:
            self._riding = True
            self._start_episode(t, from_ride=True)
        elif not riding and self._riding:
            self._riding = False
            if self._episode is not None:
                self._episode.riding_end_t = t
        self._update_episode(t)

    def set_elevator_state(self, t: float, state: str, confidence: float = 1.0) -> None:
        """The elevator detector's state; ``inside`` stops mapping like a ride does."""
        del confidence  # the detector already smooths its state; kept for the API
        inside = str(state).strip().lower() == 'inside'
        if inside and not self._inside:
            self._inside = True
            self._start_episode(t)
        elif not inside and self._inside:
            self._inside = False
            if self._episode is not None:
                self._episode.inside_end_t = t
        self._update_episode(t)

    def add_scan(
        self,
        t: float,
        ranges: NDArray[np.floating],
        angle_min: float,
        angle_increment: float,
        range_min: float,
        range_max: float,
    ) -> bool:
        """Integrate one LaserScan into the current floor; False when it was not integrated.

        A scan newer than the newest pose waits (up to ``scan_wait_s``) for the pose after it and
        is then processed; it counts as accepted (True) here.
        """
        self._stats['scans_in'] += 1
        if self.params.map_source != 'scan':
            self._stats['scans_skipped_map_source'] += 1
            return False
        args = (ranges, angle_min, angle_increment, range_min, range_max)
        wait = self.params.scan_wait_s
        if self._waiting:
            self._release_waiting(t - wait)
        newest = self._pose_t[-1] if self._pose_t else math.inf
        if wait > 0 and newest < t < newest + wait and len(self._waiting) < 1000:
            self._waiting.append((t, args))
            return True
        return self._process_scan(t, *args)

    def _release_waiting(self, until: float) -> None:
        """Process waiting scans stamped at or before ``until`` (in stamp order)."""
        ready = [w for w in self._waiting if w[0] <= until]
        if not ready:
            return
        self._waiting = [w for w in self._waiting if w[0] > until]
        for t, args in sorted(ready, key=lambda w: w[0]):
            self._process_scan(t, *args)

    def flush(self) -> None:
        """Process every waiting scan and decide a pending revisit now (end of input)."""
        self._release_waiting(math.inf)
        if self._revisit is not None:
            self._finish_revisit()

    def _process_scan(
        self,
        t: float,
        ranges: NDArray[np.floating],
        angle_min: float,
        angle_increment: float,
        range_min: float,
        range_max: float,
    ) -> bool:
        self._update_episode(t)
        p = self.params
        if self._episode is not None or self._riding or self._inside:
            self._stats['scans_skipped_elevator'] += 1
            return False
        if not (math.isfinite(angle_increment) and angle_increment != 0 and range_max > 0):
            self._stats['scans_bad'] += 1
            return False
        pose = self._pose_at(t)
        if pose is None:
            self._stats['scans_skipped_no_pose'] += 1
            return False
        if not self._started:
            self._begin(pose)
        if self._car_xy is not None:
            if math.hypot(pose[0] - self._car_xy[0], pose[1] - self._car_xy[1]) < p.car_exit_m:
                self._stats['scans_skipped_elevator'] += 1
                return False
            self._car_xy = None  # out of the car
        if self._skip_visit or (self._transform is None and self._revisit is None):
            # (a rejected revisit, or no anchor for this floor: nothing safe to merge)
            self._stats['scans_skipped_visit'] += 1
            return False
        laser = se2_compose(pose, (p.laser_x, p.laser_y, p.laser_yaw))
        pts = scan_points(
            ranges, angle_min, angle_increment, range_min, range_max, p.max_free_range_m or None
        )
        if pts.free_xy.shape[0] < 2:
            self._stats['scans_bad'] += 1
            return False
        free_slam = transform_points(pts.free_xy, laser)
        if self._revisit is not None:
            self._revisit.scans.append(((laser[0], laser[1]), free_slam, pts.hit, pts.full_circle))
            if len(self._revisit.scans) >= p.icp_scans:
                self._finish_revisit()
            return True
        self._integrate((laser[0], laser[1]), free_slam, pts.hit, pts.full_circle)
        return True

    def add_slam_map(
        self,
        t: float,
        grid: NDArray[np.int8],
        resolution: float,
        origin_xy_yaw: tuple[float, float, float],
    ) -> bool:
        """Copy the SLAM's own map into the current floor's layer (``map_source='slam_map'``).

        ``grid`` is int8 -1..100 with rows = y up, as in an OccupancyGrid. Returns False when the
        map was not used (another map source, or an elevator episode).
        """
        self._stats['slam_maps_in'] += 1
        self._update_episode(t)
        if self.params.map_source != 'slam_map' or self._episode is not None:
            return False
        grid = np.asarray(grid)
        if grid.ndim != 2 or grid.size == 0 or not resolution > 0:
            return False
        if not self._started:
            pose = self._pose_at(t)
            self._begin(pose if pose is not None else (0.0, 0.0, 0.0))
        if self._transform is None or self._skip_visit:
            if self._revisit is None:
                return False
            self._finish_revisit(use_icp=False)
            if self._transform is None:
                return False
        lo = self._grid_logodds(grid)
        pose = se2_compose(self._transform, tuple(map(float, origin_xy_yaw)))  # type: ignore[arg-type]
        fl = self._floor_layer(self._floor)
        res = fl.layer.resolution
        h, w = grid.shape
        corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], np.float64) * resolution
        world = transform_points(corners, pose)
        c_lo = math.floor(world[:, 0].min() / res)
        r_lo = math.floor(world[:, 1].min() / res)
        c_hi = math.ceil(world[:, 0].max() / res)
        r_hi = math.ceil(world[:, 1].max() / res)
        # dst pixel (u, v) centre -> floor point -> SLAM-map pixel coordinates (centres at ints).
        inv = se2_inverse(pose)
        c, s = math.cos(inv[2]), math.sin(inv[2])
        k = res / resolution
        bx = (c_lo + 0.5) * res
        by = (r_lo + 0.5) * res
        m = np.array(
            [
                [c * k, -s * k, (c * bx - s * by + inv[0]) / resolution - 0.5],
                [s * k, c * k, (s * bx + c * by + inv[1]) / resolution - 0.5],
            ]
        )
        out = cv2.warpAffine(
            lo,
            m,
            (c_hi - c_lo, r_hi - r_lo),
            flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=float('nan'),
        )
        fl.layer.set_region((c_lo * res, r_lo * res), out)
        self._stats['slam_maps_used'] += 1
        return True

    # ---- files --------------------------------------------------------------------------------
    def save(self, out_dir: Path, floor_table: dict[str, Any] | None = None) -> Path:
        """Write the building files atomically; returns the path of ``building.yaml``."""
        self.flush()
        from multifloor_slam.io.building_files import save_building

        return save_building(self, Path(out_dir), floor_table=floor_table)

    @classmethod
    def load(cls, building_yaml: Path, params: MapperParams | None = None) -> BuildingMapper:
        """A mapper holding the layers and links of a saved building (ready to continue)."""
        from multifloor_slam.io.building_files import load_building

        return load_building(Path(building_yaml), params)

    def restore(self, floors: dict[int, FloorLayer], links: list[ElevatorLink]) -> None:
        """Install loaded floors and links (used by :func:`load_building`)."""
        self._floors = dict(floors)
        self._links = list(links)
        for fl in self._floors.values():
            if fl.elevation_measured:
                self._elev_sum[fl.index] = (fl.elevation_m, 1)

    # ---- internals ----------------------------------------------------------------------------
    def _floor_layer(self, floor: int) -> FloorLayer:
        fl = self._floors.get(floor)
        if fl is None:
            fl = FloorLayer(floor, OccupancyLayer(self._layer_params), 0.0)
            self._apply_elevation(fl)
            self._floors[floor] = fl
        return fl

    def _apply_elevation(self, fl: FloorLayer) -> None:
        s, n = self._elev_sum.get(fl.index, (0.0, 0))
        if n:
            fl.elevation_m, fl.elevation_measured = s / n, True
        elif not fl.elevation_measured:
            fl.elevation_m = fl.index * self.params.default_floor_height_m

    def _begin(self, pose: Pose) -> None:
        """First usable data: the SLAM frame becomes the start floor's frame.

        When the floor was loaded from a file and already has a map, ICP refines it.
        """
        self._started = True
        existing = self._floors.get(self._floor)
        if existing is not None and not existing.layer.empty and self.params.icp_enabled:
            self._revisit = _Revisit(self._floor, (0.0, 0.0, 0.0), None, None, [])
        else:
            self._transform = (0.0, 0.0, 0.0)

    def _integrate(
        self,
        origin: tuple[float, float],
        free_slam: FloatArray,
        hit: NDArray[np.bool_],
        full_circle: bool,
    ) -> None:
        assert self._transform is not None
        o = transform_points(np.asarray([origin]), self._transform)[0]
        pts = transform_points(free_slam, self._transform)
        self._floor_layer(self._floor).layer.integrate((o[0], o[1]), pts, hit, full_circle)
        self._stats['scans_integrated'] += 1

    def _pose_at(self, t: float) -> Pose | None:
        ts = self._pose_t
        if not ts:
            return None
        i = bisect.bisect_left(ts, t)
        if i < len(ts) and ts[i] == t:
            return self._pose_v[i]
        if 0 < i < len(ts) and ts[i] - ts[i - 1] <= self.params.pose_max_gap_s:
            a, b = self._pose_v[i - 1], self._pose_v[i]
            w = (t - ts[i - 1]) / (ts[i] - ts[i - 1])
            yaw = a[2] + w * wrap_angle(b[2] - a[2])
            return a[0] + w * (b[0] - a[0]), a[1] + w * (b[1] - a[1]), wrap_angle(yaw)
        best = min((j for j in (i - 1, i) if 0 <= j < len(ts)), key=lambda j: abs(ts[j] - t))
        return self._pose_v[best] if abs(ts[best] - t) <= self.params.pose_max_age_s else None

    def _pose_before(self, t: float) -> Pose | None:
        pose = self._pose_at(t)
        if pose is None and self._pose_t and self._pose_t[0] <= t:
            pose = self._pose_v[bisect.bisect_right(self._pose_t, t) - 1]
        return pose

    def _start_episode(self, t: float, from_ride: bool = False) -> None:
        if not self._started:
            return
        ep = self._episode
        if ep is None:
            if self._revisit is not None:
                self._finish_revisit()
            dep_slam = self._pose_before(t)
            dep_floor = None
            if dep_slam is not None and self._transform is not None:
                dep_floor = se2_compose(self._transform, dep_slam)
            self._episode = _Episode(
                t, self._floor, dep_floor, dep_slam, t, self._transform, ride_seen=from_ride
            )
        elif from_ride and not ep.ride_seen and ep.floor_change_t is None:
            # The car starts moving: the robot now stands still where the car is.
            ep.ride_seen = True
            dep_slam = self._pose_before(t)
            if dep_slam is not None and self._transform is not None:
                ep.dep_slam_pose = dep_slam
                ep.dep_floor_pose = se2_compose(self._transform, dep_slam)
                ep.dep_t, ep.dep_transform = t, self._transform

    def _update_episode(self, t: float) -> None:
        ep = self._episode
        if ep is None or self._riding or self._inside:
            return
        settle = self.params.floor_settle_s
        if ep.floor_change_t is not None and t < ep.floor_change_t + settle:
            return
        if (
            ep.floor_change_t is None
            and ep.riding_end_t is not None
            and t < ep.riding_end_t + settle
        ):
            return  # a ride ended without a floor change yet: the new floor may come late
        ends = [v for v in (ep.riding_end_t, ep.floor_change_t) if v is not None]
        t_arr = max(ends) if ends else (ep.inside_end_t if ep.inside_end_t is not None else t)
        if self._floor == ep.from_floor:
            # Same floor (a false alarm or an empty ride): the SLAM frame still holds.
            self._episode = None
            return
        arr_slam = self._rest_pose(t_arr, t)
        if arr_slam is None:
            return  # the robot still stands in the car (or no pose yet): keep waiting
        self._episode = None
        if ep.dep_transform is not None:
            # The car position: the mean pose while the robot stood still from the departure on.
            dep, _ = self._stationary(ep.dep_t, t_arr, after_jumps=False)
            if dep is not None:
                ep.dep_slam_pose = dep
                ep.dep_floor_pose = se2_compose(ep.dep_transform, dep)
        self._arrive(ep, arr_slam)

    def _rest_pose(self, t_from: float, t_now: float) -> Pose | None:
        """The SLAM pose of the robot standing in the car after the ride, once it moves off.

        None while the robot still stands there and ``arrival_timeout_s`` has not passed.
        """
        pose, moved = self._stationary(t_from, math.inf, after_jumps=True)
        if pose is None or not (moved or t_now - t_from > self.params.arrival_timeout_s):
            return None
        return pose

    def _stationary(
        self, t_from: float, t_to: float, after_jumps: bool
    ) -> tuple[Pose | None, bool]:
        """Median SLAM pose while the robot stands still from ``t_from`` on; True if it moved off.

        Poses are walked in order. A step faster than the robot can drive or turn is a SLAM
        jump: with ``after_jumps`` the stand restarts after it (the pose after the jump is what
        counts), otherwise the walk stops there. The first smooth departure from the standing
        pose (``arrival_motion_m`` / ``arrival_motion_deg``) or ``t_to`` ends the stand. The median
        over the stand removes the SLAM's per-pose noise from the anchor.
        """
        p = self.params
        i = bisect.bisect_left(self._pose_t, t_from)
        if i >= len(self._pose_t):
            return None, False
        prev_t = t_from
        prev = self._pose_at(t_from) or self._pose_v[i]
        stand = [prev]
        turn = math.radians(p.arrival_motion_deg)
        moved = False
        for tj, q in zip(self._pose_t[i:], self._pose_v[i:], strict=True):
            if tj > t_to:
                break
            dt = max(tj - prev_t, 0.0)
            step = math.hypot(q[0] - prev[0], q[1] - prev[1])
            dyaw = abs(wrap_angle(q[2] - prev[2]))
            rest = stand[0]
            if step > p.max_robot_speed_mps * dt + 0.15 or dyaw > p.max_robot_yaw_rate * dt + 0.1:
                if not after_jumps:
                    break
                stand = [q]  # a SLAM jump: the robot still stands, somewhere else in the map
            elif (
                math.hypot(q[0] - rest[0], q[1] - rest[1]) > p.arrival_motion_m
                or abs(wrap_angle(q[2] - rest[2])) > turn
            ):
                moved = True
                break
            else:
                stand.append(q)
            prev_t, prev = tj, q
        # The median: robust to the first centimetres of driving off at the end of the stand.
        arr = np.asarray(stand)
        yaw0 = arr[0, 2]
        dyaws = [wrap_angle(v - yaw0) for v in arr[:, 2]]
        mid = (
            float(np.median(arr[:, 0])),
            float(np.median(arr[:, 1])),
            wrap_angle(yaw0 + float(np.median(dyaws))),
        )
        return mid, moved

    def _arrive(self, ep: _Episode, arr_slam: Pose) -> None:
        p = self.params
        self._stats['rides'] += 1
        self._car_xy = (arr_slam[0], arr_slam[1])
        if ep.dep_floor_pose is None or ep.dep_slam_pose is None:
            # No departure pose: nothing to anchor to. A new floor starts in the SLAM frame.
            self._transform = (0.0, 0.0, 0.0) if self._floor not in self._floors else None
            self._skip_visit = self._transform is None
            return
        dx, dy, dyaw = ep.dep_floor_pose
        link = self._link_for(ep.from_floor, (dx, dy))
        if self._floor in link.positions:
            fx, fy = link.positions[ep.from_floor]
            ax, ay = link.positions[self._floor]
            car = (ax + dx - fx, ay + dy - fy)
        else:
            car = (dx, dy)
        link.observe(ep.from_floor, (dx, dy))
        link.rides += 1
        if p.anchor_yaw == 'departure':
            yaw = dyaw
        else:
            yaw = wrap_angle(dyaw + wrap_angle(arr_slam[2] - ep.dep_slam_pose[2]))
        anchor = se2_compose((car[0], car[1], yaw), se2_inverse(arr_slam))
        self._stats['reanchors'] += 1
        self._skip_visit = False
        existing = self._floors.get(self._floor)
        revisit = existing is not None and not existing.layer.empty
        if revisit and p.icp_enabled and p.map_source == 'scan':
            self._transform = None
            self._revisit = _Revisit(self._floor, anchor, arr_slam, link, [])
        else:
            self._transform = anchor
            link.observe(self._floor, car)

    def _finish_revisit(self, use_icp: bool = True) -> None:
        rv = self._revisit
        assert rv is not None
        self._revisit = None
        p = self.params
        result = None
        if use_icp and rv.scans:
            src = np.vstack([transform_points(f[h], rv.anchor) for _, f, h, _ in rv.scans])
            lo, hi = src.min(axis=0) - 2.0, src.max(axis=0) + 2.0
            layer = self._floor_layer(rv.floor).layer
            tgt = layer.occupied_points((lo[0], lo[1], hi[0], hi[1]))
            result = align_points(src, tgt, self._icp)
            self.last_alignment = result
        if result is not None and result.accepted:
            self._stats['icp_accepted'] += 1
            self._transform = se2_compose(result.correction, rv.anchor)
        else:
            if result is not None:
                self._stats['icp_rejected'] += 1
            if p.icp_reject == 'skip' and result is not None:
                # Keep tracking with the anchor (for the next ride) but merge nothing.
                self._transform = rv.anchor
                self._skip_visit = True
                self._stats['scans_skipped_visit'] += len(rv.scans)
                return
            self._transform = rv.anchor
        if rv.link is not None and rv.arrival_slam is not None:
            car = se2_compose(self._transform, rv.arrival_slam)
            rv.link.observe(rv.floor, (car[0], car[1]))
        for origin, free, hit, full in rv.scans:
            self._integrate(origin, free, hit, full)

    def _link_for(self, floor: int, xy: tuple[float, float]) -> ElevatorLink:
        best, best_d = None, self.params.link_cluster_m
        for link in self._links:
            pos = link.positions.get(floor)
            if pos is None:
                continue
            d = math.hypot(pos[0] - xy[0], pos[1] - xy[1])
            if d <= best_d:
                best, best_d = link, d
        if best is None:
            best = ElevatorLink(len(self._links))
            self._links.append(best)
        return best

    def _grid_logodds(self, grid: NDArray[np.int8]) -> NDArray[np.float32]:
        p = self._layer_params
        v = grid.astype(np.float32)
        prob = np.clip(v / 100.0, 0.01, 0.99)
        lo = np.log(prob / (1.0 - prob)).astype(np.float32)
        lo[v >= p.occupied_thresh * 100.0] = p.l_max
        lo[(v >= 0) & (v <= p.free_thresh * 100.0)] = p.l_min
        lo[v < 0] = np.nan
        return lo


__all__ = [
    'ELEVATOR_STATES',
    'BuildingMapper',
    'ElevatorLink',
    'FloorLayer',
    'MapperParams',
    'floor_label',
]
