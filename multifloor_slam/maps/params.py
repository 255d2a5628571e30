"""The building mapper's parameters, one dataclass field per ROS parameter.

Kept apart from the mapper so that the file format (``io/building_files``), the ROS node and the
docs can read the parameters, their defaults and their descriptions (the ``Attributes:`` section,
read by :func:`multifloor_slam.params.field_descriptions`) without importing the algorithm.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from multifloor_slam.errors import ConfigError
from multifloor_slam.maps.alignment import IcpParams
from multifloor_slam.maps.occupancy_layer import LayerParams
from multifloor_slam.maps.pose_buffer import StandLimits
from multifloor_slam.maps.registration import RegistrationParams


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
        max_free_range_m: no-return beams (range above range_max, or inf) clear free space up
            to this range (m) at most (see ``no_return_free``), never beyond the scan's
            range_max (like slam_toolbox's max_laser_range); 0: up to range_max, and with
            range_max = inf or NaN (pointcloud_to_laserscan's default) they then clear nothing.
            Returns below range_max are hits up to ``max_hit_range_m``.
        no_return_free: how far a no-return beam clears: 'bounded' (default) up to the
            shorter of the returns next to it in the scan (capped by ``max_free_range_m``), so
            a fan through glass, a door or a long hall stops where its walls were seen; 'cap'
            up to ``max_free_range_m`` (slam_toolbox's behaviour). On real logs 'cap' painted
            20 m fans of free space no reference map has (revisited floor: free IoU 0.60,
            bounded 0.84) and erased thin walls under them. A scan with no return at all
            clears nothing when bounded.
        max_hit_range_m: a return farther than this (m) is no wall (single hits 50-80 m away on
            real logs were 2 points of a floor's contamination), like slam_toolbox's
            max_laser_range, but it clears its beam up to this range. 0: no limit.
        max_extent_m: the building lies within this distance (m) of the floor frame's origin
            along x and y: SLAM poses beyond it are refused (counted in poses_out_of_extent), a
            scan taken from beyond it is refused and beams are cut at it (memory stays bounded
            whatever the SLAM publishes). Raise it for a SLAM whose map frame is far from the
            building (UTM coordinates).
        max_layer_size_m: a floor layer never grows wider or taller than this (m, rounded down
            to 64-cell chunks; 300 m: at most 142 MB at 5 cm cells): beams beyond it are cut,
            scans taken from beyond it are refused (counted).
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
        min_travel_m: a scan is mapped only when the robot moved at least this far (m) ...
        min_turn_deg: ... or turned at least this much (deg) since the last scan mapped: a robot
            standing still (waiting at an elevator) maps one view, not the same view 80 times
            (each repeat would vote its clutter, people and noise into walls). 0 and 0: every
            scan.
        initial_floor: floor index assumed until ``floor/current`` says otherwise.
        default_floor_height_m: elevation per floor index when no altitude was measured.
        anchor_yaw: heading on arrival after a ride: 'odom' (the departure heading plus the
            robot's own turn between its stands before and after the ride, from odometry,
            which is continuous through the ride while the SLAM pose jumps; 'departure' where
            no odometry covers both stands), 'departure' (the robot keeps its heading in the
            car) or 'slam' (trust the SLAM's heading change during the ride).
        link_cluster_m: departures closer than this to a link's car position use that link.
        icp_enabled: align floor revisits to the existing layer.
        icp_scans: scans held back and aligned at the start of a revisit.
        icp_reject: what becomes of a revisit that never verifies: 'fragment' (its scans form a
            separate fragment layer, ``mapper.fragments``, never merged into the floor),
            'anchor' (merge with the anchor-only transform) or 'skip' (drop the visit).
        revisit_global: register revisits globally (heading search, correlative matching, ICP,
            verification; the revisit waits in a pending sub-map until verified, retried each
            time its held scans double); false: ICP from the anchor once, after icp_scans.
        revisit_min_travel_m: a revisit is first registered once its held scans span this path
            (m) as well as ``icp_scans`` scans: a few views from the car's doorway match wrong
            poses too well.
        revisit_search_radius_m: translations searched about the anchor (m).
        revisit_max_free_conflict: a registration is refused when more than this share (0..1)
            of the revisit's hits lands on cells the floor saw free, away from its walls.
        revisit_max_pending_scans: a revisit not verified after this many scans is given up
            (``icp_reject``).
        icp_coarse_corr_m: ICP correspondence distance of the first, coarse stage (m): how far
            the elevator anchor may be off for the revisit to still be pulled in.
        icp_fine_corr_m: ICP correspondence distance of the fine stage (m); points of the revisit
            within it of a mapped wall count as matched in the fitness.
        icp_iterations: ICP iterations per stage.
        icp_min_fitness: reject the fit when a smaller share of the revisit's points than this
            (0..1) lies within ``icp_fine_corr_m`` of the existing map.
        icp_large_fitness: a correction larger than ``icp_fine_corr_m`` needs at least this
            fitness (0..1): a big move onto a partly mapped floor is more often a slide along a
            corridor than a fix.
        icp_max_rmse_m: reject the fit when the matched points' RMS distance exceeds this (m).
        icp_max_correction_m: reject a correction that moves the anchor further than this (m):
            the fit then locked onto the wrong wall.
        icp_max_correction_deg: reject a correction that turns the anchor more than this (deg).
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
    max_free_range_m: float = 20.0
    no_return_free: str = 'bounded'
    max_hit_range_m: float = 30.0
    max_extent_m: float = LayerParams.extent_m
    max_layer_size_m: float = LayerParams.max_size_m
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
    min_travel_m: float = 0.05
    min_turn_deg: float = 2.0
    initial_floor: int = 0
    default_floor_height_m: float = 3.0
    anchor_yaw: str = 'odom'
    link_cluster_m: float = 1.5
    icp_enabled: bool = True
    icp_scans: int = 10
    icp_reject: str = 'anchor'
    revisit_global: bool = True
    revisit_min_travel_m: float = 3.0
    revisit_search_radius_m: float = 3.0
    revisit_max_free_conflict: float = 0.05
    revisit_max_pending_scans: int = 160
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
        if not 0 < self.max_extent_m <= 1e9:
            raise ConfigError(f'max_extent_m must be in (0, 1e9] m, got {self.max_extent_m}')
        res_ok = 0.005 <= self.resolution <= 1.0  # (else the layer's check names it)
        if res_ok and not self.max_layer_size_m >= 64 * self.resolution:
            raise ConfigError(
                f'max_layer_size_m must be >= 64 cells ({64 * self.resolution:g} m), '
                f'got {self.max_layer_size_m}'
            )
        self.layer_params()  # validates the layer fields
        self.icp_params()
        if self.map_source not in ('scan', 'slam_map'):
            raise ConfigError(f"map_source must be 'scan' or 'slam_map', not {self.map_source!r}")
        if self.no_return_free not in ('bounded', 'cap'):
            raise ConfigError(
                f"no_return_free must be 'bounded' or 'cap', not {self.no_return_free!r}"
            )
        if self.anchor_yaw not in ('odom', 'departure', 'slam'):
            raise ConfigError(
                f"anchor_yaw must be 'odom', 'departure' or 'slam', not {self.anchor_yaw!r}"
            )
        if self.icp_reject not in ('fragment', 'anchor', 'skip'):
            raise ConfigError(
                f"icp_reject must be 'fragment', 'anchor' or 'skip', not {self.icp_reject!r}"
            )
        if not self.revisit_search_radius_m > 0 or not 0 <= self.revisit_max_free_conflict <= 1:
            raise ConfigError(
                'revisit_search_radius_m must be > 0 and revisit_max_free_conflict in [0, 1]'
            )
        if not self.revisit_min_travel_m >= 0:
            raise ConfigError('revisit_min_travel_m must be >= 0')
        if self.revisit_max_pending_scans < self.icp_scans:
            raise ConfigError('revisit_max_pending_scans must be >= icp_scans')
        if not self.max_hit_range_m >= 0:
            raise ConfigError(f'max_hit_range_m must be >= 0, got {self.max_hit_range_m}')
        if not self.max_free_range_m >= 0:
            raise ConfigError(f'max_free_range_m must be >= 0, got {self.max_free_range_m}')
        if min(self.pose_max_age_s, self.scan_wait_s) < 0:
            raise ConfigError('pose_max_age_s and scan_wait_s must be >= 0')
        if self.pose_max_gap_s <= 0:
            raise ConfigError('pose_max_gap_s must be > 0')
        if self.pose_buffer_s < 5 or self.floor_settle_s < 0 or self.icp_scans < 1:
            raise ConfigError('pose_buffer_s >= 5, floor_settle_s >= 0, icp_scans >= 1 needed')
        if min(self.arrival_motion_m, self.arrival_motion_deg, self.arrival_timeout_s) <= 0:
            raise ConfigError(
                'arrival_motion_m, arrival_motion_deg, arrival_timeout_s must be > 0'
            )
        if self.min_travel_m < 0 or self.min_turn_deg < 0:
            raise ConfigError('min_travel_m and min_turn_deg must be >= 0')
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
            max_size_m=self.max_layer_size_m,
            extent_m=self.max_extent_m,
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

    def registration_params(self) -> RegistrationParams:
        """The global registration share of the parameters."""
        return RegistrationParams(
            search_radius_m=self.revisit_search_radius_m,
            max_free_conflict=self.revisit_max_free_conflict,
        )

    def stand_limits(self) -> StandLimits:
        """What tells standing in the car, driving off and a SLAM jump apart."""
        return StandLimits(
            motion_m=self.arrival_motion_m,
            motion_deg=self.arrival_motion_deg,
            max_speed_mps=self.max_robot_speed_mps,
            max_yaw_rate=self.max_robot_yaw_rate,
        )

    def for_building(self, resolution: float | None, name: str | None) -> MapperParams:
        """These parameters for continuing a saved building of ``resolution`` named ``name``.

        The building's resolution wins (its layers keep theirs); its name is taken unless these
        parameters name the building themselves.
        """
        changes: dict[str, Any] = {}
        if resolution is not None and resolution != self.resolution:
            changes['resolution'] = resolution
        if name and self.building_name == MapperParams.building_name:
            changes['building_name'] = name
        return self.replace(**changes) if changes else self

    def replace(self, **changes: Any) -> MapperParams:
        """A copy with some fields changed (validated again)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return MapperParams(**values)


__all__ = ['MapperParams']
