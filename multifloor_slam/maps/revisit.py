"""A revisit of a mapped floor: its first scans held back, aligned to the layer, then merged.

The elevator anchor puts a revisit within decimetres of the existing map; merging at that
transform would blur every wall. So the first scans of the visit wait here, are aligned to the
floor's occupied cells with ICP (:func:`multifloor_slam.maps.alignment.align_points`), and the
fit decides the visit's transform: the refined one, the anchor alone, or none (skip the visit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from multifloor_slam.maps.alignment import AlignmentResult, IcpParams, align_points
from multifloor_slam.maps.building import ElevatorLink
from multifloor_slam.maps.occupancy_layer import OccupancyLayer
from multifloor_slam.maps.registration import RegistrationParams, register
from multifloor_slam.maps.scan_geometry import Pose, SlamScan, se2_compose, transform_points

#: Target cells are taken this far (m) around the held scans' bounding box.
TARGET_MARGIN_M = 2.0

FloatArray = NDArray[np.float64]


def _near_hits(scan: SlamScan, reach_m: float) -> FloatArray:
    """The scan's hits within ``reach_m`` of the laser: far hits add angle noise and cost."""
    hits = scan.free_xy[scan.hit]
    near = np.hypot(hits[:, 0] - scan.origin[0], hits[:, 1] - scan.origin[1]) <= reach_m
    return hits[near]


@dataclass
class Revisit:
    """A visit of a floor that already has a map, waiting for its first scans."""

    floor: int
    anchor: Pose  # SLAM -> floor transform from the elevator anchor alone
    arrival_slam: Pose | None  # SLAM pose of the robot in the car (for the link), if a ride
    link: ElevatorLink | None
    scans: list[SlamScan] = field(default_factory=list)
    tried_at: int = 0  # held scans at the last registration attempt
    travel_m: float = 0.0  # path length of the held scans' laser origins

    def hold(self, scan: SlamScan) -> None:
        """Keep one more scan of the visit (SLAM frame) until the visit is registered."""
        if self.scans:
            last = self.scans[-1].origin
            self.travel_m += math.hypot(scan.origin[0] - last[0], scan.origin[1] - last[1])
        self.scans.append(scan)

    def due(self, min_scans: int, min_travel_m: float) -> bool:
        """Time for a (new) registration attempt.

        Enough scans over enough path (a submap of a few views from one spot, the car's
        doorway, matches too many wrong poses), and twice as many as at the last attempt.
        """
        n = len(self.scans)
        return n >= max(min_scans, 2 * self.tried_at) and self.travel_m >= min_travel_m

    def observe_link(self, transform: Pose) -> None:
        """Record the car's position on this floor, now that the floor's frame is known."""
        if self.link is not None and self.arrival_slam is not None:
            car = se2_compose(transform, self.arrival_slam)
            self.link.observe(self.floor, (car[0], car[1]))

    def register(
        self, layer: OccupancyLayer, icp: IcpParams, reg: RegistrationParams
    ) -> AlignmentResult | None:
        """Global registration of the held scans' hits (placed by the anchor) onto ``layer``.

        See :func:`~multifloor_slam.maps.registration.register`; None when no scan is held.
        """
        if not self.scans:
            return None
        self.tried_at = len(self.scans)
        src = np.vstack([_near_hits(s, reg.match_range_m) for s in self.scans])
        src = transform_points(src, self.anchor)
        if self.arrival_slam is not None:
            car = se2_compose(self.anchor, self.arrival_slam)
            pivot = (car[0], car[1])
            # The car and its shaft are not the floor: a car seen from inside on the way out
            # and an empty shaft seen on the last visit differ, and match each other offset.
            src = src[np.hypot(src[:, 0] - car[0], src[:, 1] - car[1]) > reg.car_clear_m]
        else:
            origin = transform_points(np.asarray([self.scans[0].origin]), self.anchor)[0]
            pivot = (float(origin[0]), float(origin[1]))
        return register(src, pivot, layer, icp, reg)

    def align(self, layer: OccupancyLayer, icp: IcpParams) -> AlignmentResult | None:
        """ICP of the held scans' hits (placed by the anchor) onto ``layer``'s occupied cells.

        None when no scan is held.
        """
        if not self.scans:
            return None
        src = np.vstack([transform_points(s.free_xy[s.hit], self.anchor) for s in self.scans])
        lo, hi = src.min(axis=0) - TARGET_MARGIN_M, src.max(axis=0) + TARGET_MARGIN_M
        tgt = layer.occupied_points((lo[0], lo[1], hi[0], hi[1]))
        return align_points(src, tgt, icp)

    def resolve(self, result: AlignmentResult | None, reject: str) -> tuple[Pose, bool]:
        """The visit's SLAM -> floor transform, and whether its scans may be merged.

        An accepted fit refines the anchor. Without a fit (no scans, or ICP not run) the anchor
        is used. A rejected fit falls back on the anchor too, but with ``reject='skip'`` the
        visit is not merged (the anchor is still tracked for the next ride).
        """
        if result is not None and result.accepted:
            return se2_compose(result.correction, self.anchor), True
        return self.anchor, not (reject == 'skip' and result is not None)


__all__ = ['TARGET_MARGIN_M', 'Revisit']
