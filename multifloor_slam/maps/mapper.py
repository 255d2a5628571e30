"""Per-floor map layers joined by elevator links, built from one robot's 2D SLAM output.

The :class:`BuildingMapper` is the one API the ``floor_map_manager`` node and the offline pipeline
both call. It takes primitives (stamps in float seconds, numpy arrays) in time order:

* ``add_pose`` - the SLAM pose (SLAM ``map`` frame), kept a while for interpolation;
* ``add_scan`` - integrated into the current floor's layer at the interpolated pose;
* ``set_floor`` / ``set_riding`` / ``set_elevator_state`` / ``add_altitude`` - the floor
  estimator's and elevator detector's outputs.

It only orchestrates; each concern has its own module beside it in ``maps/``: the poses
(``pose_buffer``), scans waiting for a pose (``scan_queue``), elevator episodes (``episodes``: a
ride starts with ``riding``, the state ``inside`` or a floor change and ends when none holds and
the robot drove off; no scan is integrated meanwhile), revisit registration (``revisit``),
elevator links (``links``), floor elevations (``elevations``) and the SLAM's own grid
(``slam_grid``); what it keeps per floor, and how that follows a floor renumbering, in
``mapper_state``. The result is a :class:`~multifloor_slam.maps.building.Building`
(``mapper.building``), which :mod:`multifloor_slam.io.building_files` saves and loads.

**Re-anchoring** is done here: elevator shafts are vertical, so the robot's pose in the car on
the departure floor gives the car's x, y on the arrival floor; mapping the SLAM pose there after
the ride removes whatever jump the SLAM made (heading: ``anchor_yaw``). Revisits are aligned to
the floor's layer before they are merged. Bad input is counted in :attr:`BuildingMapper.stats`
(``maps/stats.py``), never raised, and no layer grows past ``max_layer_size_m``. The whole story,
parameter by parameter: ``docs/maps.md``.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from multifloor_slam.maps.building import Building, ElevatorLink, FloorLayer, floor_label
from multifloor_slam.maps.episodes import Arrival
from multifloor_slam.maps.links import arrival_car_xy, link_for
from multifloor_slam.maps.mapper_state import MapperState
from multifloor_slam.maps.occupancy_layer import OccupancyLayer
from multifloor_slam.maps.params import MapperParams
from multifloor_slam.maps.revisit import Revisit
from multifloor_slam.maps.scan_geometry import (
    LaserScan,
    Pose,
    SlamScan,
    scan_in_frame,
    scan_problem,
    se2_compose,
    transform_points,
)
from multifloor_slam.maps.slam_grid import paste_slam_grid
from multifloor_slam.maps.stats import MAP_PLACEMENT, SCAN_PLACEMENT


class BuildingMapper(MapperState):
    """Build one occupancy layer per floor, re-anchored at every elevator ride."""

    # ---- inputs -------------------------------------------------------------------------------
    def add_pose(self, t: float, x: float, y: float, yaw: float) -> None:
        """A SLAM pose (SLAM map frame); refused (counted) if not finite or beyond the extent."""
        if not all(math.isfinite(v) for v in (t, x, y, yaw)):
            self._stats['poses_bad'] += 1
            return
        extent = self.params.max_extent_m
        if abs(x) > extent or abs(y) > extent:
            self._stats['poses_out_of_extent'] += 1
            return
        self._poses.add(float(t), (float(x), float(y), float(yaw)))
        self._update_episode(t)
        newest = self._poses.newest
        if self._waiting and newest is not None:
            self._release_waiting(newest)

    def add_odom(self, t: float, x: float, y: float, yaw: float) -> None:
        """An odometry pose: continuous through rides, unlike the SLAM pose (see ``OdomYaw``)."""
        self._stats['odom_in' if self._odom.add(t, x, y, yaw) else 'odom_bad'] += 1

    def add_altitude(self, t: float, altitude_m: float) -> None:
        """Relative altitude (``floor/altitude``): averaged into the current floor's elevation."""
        self._update_episode(t)
        if self.in_elevator or not math.isfinite(altitude_m):
            return
        self._elevations.add(self._floor, float(altitude_m))
        if self._floor in self._floors:
            self._elevations.apply(self._floors[self._floor])

    def set_floor(self, t: float, floor: int) -> None:
        """``floor/current``; elevations come from ``add_altitude`` alone, as live."""
        floor = int(floor)
        if floor == self._floor:
            self._update_episode(t)
            return
        if not self._started:
            self._floor = floor  # nothing mapped yet: just start on that floor
            return
        self._start_episode(t)
        self._floor = floor
        self._episodes.floor_changed(t)
        self._update_episode(t)

    def set_riding(self, t: float, riding: bool) -> None:
        """The floor estimator's ride flag (``floor/riding``)."""
        if self._episodes.set_riding(t, bool(riding)):
            self._start_episode(t, from_ride=True)
        self._update_episode(t)

    def set_elevator_state(self, t: float, state: str, confidence: float = 1.0) -> None:
        """The elevator detector's state; ``inside`` stops mapping like a ride does."""
        del confidence  # the detector already smooths its state; kept for the API
        if self._episodes.set_inside(t, str(state).strip().lower() == 'inside'):
            self._start_episode(t)
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

        A scan newer than the newest pose waits (up to ``scan_wait_s``) for the pose after it
        and counts as accepted (True) here. A malformed scan is counted, never raised on;
        ``range_max`` = inf or NaN means no upper limit (see ``max_free_range_m``).
        """
        self._stats['scans_in'] += 1
        if self.params.map_source != 'scan':
            self._stats['scans_skipped_map_source'] += 1
            return False
        problem = scan_problem(t, int(np.size(ranges)), angle_min, angle_increment, range_max)
        if problem is not None:
            self._stats[problem] += 1
            return False
        scan = LaserScan(ranges, angle_min, angle_increment, range_min, range_max)
        wait = self.params.scan_wait_s
        if self._waiting:
            self._release_waiting(t - wait)
        newest = self._poses.newest
        newest = math.inf if newest is None else newest
        if wait > 0 and newest < t < newest + wait and not self._waiting.full:
            self._waiting.push(t, scan)
            return True
        return self._process_scan(t, scan)

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
        if self.params.map_source != 'slam_map' or self.in_elevator:
            return False
        grid = np.asarray(grid)
        finite = all(math.isfinite(v) for v in (resolution, *origin_xy_yaw))
        if grid.ndim != 2 or grid.size == 0 or not (finite and resolution > 0):
            self._stats['slam_maps_bad'] += 1
            return False
        if not self._started:
            self._begin()
        if self._transform is None or self._skip_visit:
            if self._revisit is None:
                return False
            self._finish_revisit(use_icp=False)
            if self._transform is None:
                return False
        layer = self._floor_layer(self._floor).layer
        pose = se2_compose(self._transform, tuple(map(float, origin_xy_yaw)))  # type: ignore[arg-type]
        placed = paste_slam_grid(
            layer, grid, resolution, pose, self._layer_params, self.params.max_extent_m
        )
        if placed != 'ok':
            self._stats[MAP_PLACEMENT[placed]] += 1
            if placed.startswith('refused'):
                return False
        self._stats['slam_maps_used'] += 1
        return True

    def flush(self) -> None:
        """Process every waiting scan and decide a pending revisit now (end of input)."""
        self._release_waiting(math.inf)
        if self._revisit is not None:
            self._finish_revisit()

    # ---- scans --------------------------------------------------------------------------------
    def _release_waiting(self, until: float) -> None:
        """Process waiting scans stamped at or before ``until`` (in stamp order)."""
        for t, scan in self._waiting.pop_until(until):
            self._process_scan(t, scan)

    def _process_scan(self, t: float, scan: LaserScan) -> bool:
        self._update_episode(t)
        p = self.params
        if self._episodes.blocked:
            self._stats['scans_skipped_elevator'] += 1
            return False
        pose = self._poses.at(t)
        if pose is None:
            self._stats['scans_skipped_no_pose'] += 1
            return False
        if not self._started:
            self._begin()
        if self._car_xy is not None:
            if math.hypot(pose[0] - self._car_xy[0], pose[1] - self._car_xy[1]) < p.car_exit_m:
                self._stats['scans_skipped_elevator'] += 1
                return False
            self._car_xy = None  # out of the car
        if self._skip_visit or (self._transform is None and self._revisit is None):
            # (a rejected revisit, or no anchor for this floor: nothing safe to merge)
            self._stats['scans_skipped_visit'] += 1
            return False
        if not self._travel.passes(pose):
            self._stats['scans_skipped_still'] += 1
            return False
        laser = se2_compose(pose, (p.laser_x, p.laser_y, p.laser_yaw))
        held = scan_in_frame(
            scan,
            laser,
            p.max_free_range_m or None,
            self._max_beam_m,
            p.max_hit_range_m or math.inf,
            p.no_return_free == 'bounded',
        )
        if self._revisit is not None:
            rv = self._revisit
            rv.hold(held)
            final = len(rv.scans) >= p.revisit_max_pending_scans
            if not p.revisit_global:
                if len(rv.scans) >= p.icp_scans:
                    self._finish_revisit()
            elif final or rv.due(p.icp_scans, p.revisit_min_travel_m):
                self._try_revisit(final=final)
            return True
        if self._fragment is not None:
            self._stats['scans_into_fragments'] += 1
            return self._integrate(held, self._fragment)
        return self._integrate(held)

    def _integrate(self, scan: SlamScan, into: OccupancyLayer | None = None) -> bool:
        """Into the current floor's layer (or ``into``); False when it refused it (counted)."""
        assert self._transform is not None
        o = transform_points(np.asarray([scan.origin]), self._transform)[0]
        pts = transform_points(scan.free_xy, self._transform)
        layer = into if into is not None else self._floor_layer(self._floor).layer
        placed = layer.integrate((o[0], o[1]), pts, scan.hit, scan.full_circle)
        if placed != 'ok':
            self._stats[SCAN_PLACEMENT[placed]] += 1
            if placed.startswith('refused'):
                return False
        self._stats['scans_integrated'] += 1
        return True

    # ---- elevator episodes --------------------------------------------------------------------
    def _start_episode(self, t: float, from_ride: bool = False) -> None:
        if not self._started:
            return
        if self._episodes.episode is None and self._revisit is not None:
            self._finish_revisit()  # the visit ends before the ride: decide it now
        self._episodes.start(t, self._floor, self._transform, from_ride)

    def _update_episode(self, t: float) -> None:
        arrival = self._episodes.update(t, self._floor)
        if arrival is not None:
            self._arrive(arrival)

    def _arrive(self, arrival: Arrival) -> None:
        """Re-anchor on the arrival floor at the car's position, and record the link."""
        p = self.params
        if p.anchor_yaw == 'odom':
            arrival = self._carried(arrival)
        ep, arr_slam = arrival.episode, arrival.slam_pose
        self._stats['rides'] += 1
        self._car_xy = (arr_slam[0], arr_slam[1])
        self._fragment = None
        if ep.dep_floor_pose is None or ep.dep_slam_pose is None:
            # No departure pose: nothing to anchor to. A new floor starts in the SLAM frame.
            self._transform = (0.0, 0.0, 0.0) if self._floor not in self._floors else None
            self._skip_visit = self._transform is None
            return
        dx, dy, _ = ep.dep_floor_pose
        link = link_for(self._links, ep.from_floor, (dx, dy), p.link_cluster_m)
        car = arrival_car_xy(link, ep.from_floor, (dx, dy), self._floor)
        link.observe(ep.from_floor, (dx, dy))
        link.rides += 1
        turn = self._odom.turn(arrival.dep_t, arrival.t) if p.anchor_yaw == 'odom' else None
        if turn is not None:
            self._stats['anchors_odom_yaw'] += 1
        anchor = arrival.anchor(car, p.anchor_yaw, turn)
        self._stats['reanchors'] += 1
        self._skip_visit = False
        existing = self._floors.get(self._floor)
        revisit = existing is not None and not existing.layer.empty
        if revisit and p.icp_enabled and p.map_source == 'scan':
            self._transform = None
            self._revisit = Revisit(self._floor, anchor, arr_slam, link)
        else:
            self._transform = anchor
            link.observe(self._floor, car)

    def _carried(self, arrival: Arrival) -> Arrival:
        """Both stands' poses carried by odometry to the ends nearest the ride (when covered).

        The departure pose at the stand's last stamp, the arrival pose at its first: where
        the robot stood when the car left and arrived, even when it still crept in a stand.
        """
        ep = arrival.episode
        if not (ep.dep_stand and arrival.stand) or ep.dep_transform is None:
            return arrival
        t_dep, t_arr = ep.dep_stand[-1][0], arrival.stand[0][0]
        dep = self._odom.carry(ep.dep_stand, t_dep)
        arr = self._odom.carry(arrival.stand, t_arr)
        if dep is None or arr is None:
            return arrival
        ep.dep_slam_pose, ep.dep_stand_t = dep, t_dep
        ep.dep_floor_pose = se2_compose(ep.dep_transform, dep)
        return replace(arrival, slam_pose=arr, t=t_arr)

    def _try_revisit(self, final: bool) -> None:
        """Register the pending revisit globally; merge it when verified (give up if ``final``)."""
        rv = self._revisit
        assert rv is not None
        self._stats['revisit_attempts'] += 1
        result = rv.register(self._floor_layer(rv.floor).layer, self._icp, self._reg)
        self.last_alignment = result
        if result is not None and result.accepted:
            self._revisit = None
            self._stats['icp_accepted'] += 1
            self._merge_revisit(rv, se2_compose(result.correction, rv.anchor))
        elif final:
            self._revisit = None
            self._give_up(rv)

    def _merge_revisit(self, rv: Revisit, transform: Pose) -> None:
        self._transform = transform
        rv.observe_link(transform)
        for scan in rv.scans:
            self._integrate(scan)

    def _give_up(self, rv: Revisit) -> None:
        """A revisit that never verified: a fragment of its own, or ``icp_reject``'s rule."""
        self._stats['icp_rejected'] += 1
        self._transform = rv.anchor  # tracked (for the next ride), never trusted for the floor
        reject = self.params.icp_reject
        if reject == 'skip':
            self._skip_visit = True
            self._stats['scans_skipped_visit'] += len(rv.scans)
            return
        into = None  # 'anchor': into the floor
        if reject == 'fragment':
            into = self._fragment = OccupancyLayer(self._layer_params)
            self.fragments.append((rv.floor, into))
            self._stats['revisit_fragments'] += 1
            self._stats['scans_into_fragments'] += len(rv.scans)
        for scan in rv.scans:
            self._integrate(scan, into)

    def _finish_revisit(self, use_icp: bool = True) -> None:
        """Decide the pending revisit's transform (ICP unless ``use_icp`` is False), merge it."""
        rv = self._revisit
        assert rv is not None
        if self.params.revisit_global and use_icp and rv.scans:
            if len(rv.scans) > rv.tried_at:
                self._try_revisit(final=True)
            if self._revisit is not None:
                self._revisit = None
                self._give_up(rv)
            return
        self._revisit = None
        result = None
        if use_icp and rv.scans:
            result = rv.align(self._floor_layer(rv.floor).layer, self._icp)
            self.last_alignment = result
        if result is not None:
            self._stats['icp_accepted' if result.accepted else 'icp_rejected'] += 1
        self._transform, merge = rv.resolve(result, self.params.icp_reject)
        if not merge:
            # Keep tracking with the anchor (for the next ride) but merge nothing.
            self._skip_visit = True
            self._stats['scans_skipped_visit'] += len(rv.scans)
            return
        self._merge_revisit(rv, self._transform)


__all__ = ['Building', 'BuildingMapper', 'ElevatorLink', 'FloorLayer', 'MapperParams']
__all__ += ['floor_label']
