"""Which scans add a view: a robot standing still maps one scan, not the same one N times."""

from __future__ import annotations

import math

from multifloor_slam.maps.scan_geometry import Pose, wrap_angle


class TravelGate:
    """Passes a pose once the robot moved or turned enough since the last pose it passed.

    Thresholds ``min_travel_m`` and ``min_turn_deg`` (0 and 0: every pose). Waiting at an
    elevator, a laser repeats one view for tens of seconds; integrating every repeat votes its
    clutter, passers-by and noise into walls that a moving robot's map would never hold (on
    real logs: 5 % of a floor's walls).
    """

    def __init__(self, min_travel_m: float, min_turn_deg: float) -> None:
        self.min_travel_m = min_travel_m
        self.min_turn = math.radians(min_turn_deg)
        self._last: Pose | None = None

    def passes(self, pose: Pose) -> bool:
        """True when ``pose`` (SLAM frame) is a new view; it then becomes the reference."""
        last = self._last
        if (
            last is not None
            and math.hypot(pose[0] - last[0], pose[1] - last[1]) < self.min_travel_m
            and abs(wrap_angle(pose[2] - last[2])) < self.min_turn
        ):
            return False
        self._last = pose
        return True


__all__ = ['TravelGate']
