"""Floor elevations: the mean measured altitude per floor, else a default storey height.

The floor estimator's altitude is noisy per sample but unbiased while the robot drives on a
floor, so every sample outside an elevator is averaged; a floor never measured gets
``index * default_height_m`` (so the floors still stack in RViz and in the Open-RMF export).
"""

from __future__ import annotations

from collections.abc import Mapping

from multifloor_slam.maps.building import FloorLayer
from multifloor_slam.maps.renumber import renumber_keys


class FloorElevations:
    """Running mean of the altitudes measured on each floor."""

    def __init__(self, default_height_m: float = 3.0) -> None:
        self.default_height_m = default_height_m
        self._sum: dict[int, tuple[float, int]] = {}

    def add(self, floor: int, altitude_m: float) -> None:
        """One altitude sample taken on ``floor``."""
        s, n = self._sum.get(floor, (0.0, 0))
        self._sum[floor] = (s + altitude_m, n + 1)

    def set(self, floor: int, elevation_m: float) -> None:
        """A known elevation (estimator, loaded building); later samples average with it."""
        self._sum[floor] = (elevation_m, 1)

    def renumber(self, mapping: Mapping[int, int]) -> None:
        """Follow a floor renumbering ``{old: new}`` (``maps/renumber.py``)."""
        self._sum = renumber_keys(self._sum, mapping)[0]

    def apply(self, fl: FloorLayer) -> None:
        """Write the floor's elevation into ``fl``: measured, kept as loaded, or the default."""
        s, n = self._sum.get(fl.index, (0.0, 0))
        if n:
            fl.elevation_m, fl.elevation_measured = s / n, True
        elif not fl.elevation_measured:
            fl.elevation_m = fl.index * self.default_height_m


__all__ = ['FloorElevations']
