"""A hand-made building for the route tests: corridor floors, elevator cars north of them.

Every floor is the same 24 m x 8 m grid at 10 cm: a corridor (x 0.5..23.5, y 0.5..4.5) walled
in, and north of its wall an elevator car per shaft (1.6 m square, open to the corridor through a
1 m door), the rest unknown, except a closed room (x 10..14, y 6..7.5: free, walled, no door).
Each link stores its staging pose (x of the car, y 3.3, facing the car), so the route tests do
not depend on the staging detector; the CLI tests save the building and let it find them.
"""

from __future__ import annotations

import math

import numpy as np

from multifloor_slam.maps.building import Building, ElevatorLink, FloorLayer
from multifloor_slam.maps.occupancy_layer import LayerParams, OccupancyLayer

RES = 0.1
SHAPE = (80, 240)  # rows (y), cols (x)
FREE, OCC, UNKNOWN = -2.0, 3.5, 0.0
CAR_Y = 5.4
STAGING_Y = 3.3


def _box(grid: np.ndarray, x0: float, y0: float, x1: float, y1: float, value: float) -> None:
    grid[round(y0 / RES) : round(y1 / RES), round(x0 / RES) : round(x1 / RES)] = value


def floor_grid(cars: list[float], split_at: float | None = None) -> np.ndarray:
    """Log-odds of one floor with cars at x positions ``cars`` (and a wall across at split_at)."""
    g = np.full(SHAPE, UNKNOWN, np.float32)
    _box(g, 0.4, 0.4, 23.6, 4.6, OCC)
    _box(g, 0.5, 0.5, 23.5, 4.5, FREE)
    for cx in cars:
        _box(g, cx - 0.9, 4.5, cx + 0.9, 6.3, OCC)
        _box(g, cx - 0.8, 4.6, cx + 0.8, 6.2, FREE)
        _box(g, cx - 0.5, 4.5, cx + 0.5, 4.6, FREE)  # the open door
    _box(g, 9.9, 5.9, 14.1, 7.6, OCC)
    _box(g, 10.0, 6.0, 14.0, 7.5, FREE)  # a closed room: free, but no way in
    if split_at is not None:
        _box(g, split_at - 0.1, 0.4, split_at + 0.1, 4.6, OCC)
    return g


def make_building(
    shafts: dict[int, tuple[float, tuple[int, ...]]],
    floors: int = 2,
    split: dict[int, float] | None = None,
    blocks: dict[int, list[tuple[float, float, float, float]]] | None = None,
    staging: bool = True,
) -> Building:
    """Floors 0..floors-1; ``shafts`` maps link id to (car x, floors served).

    ``split`` puts a wall across a floor at an x; ``blocks`` adds occupied boxes to a floor;
    ``staging`` stores each stop's staging pose with the link (else the planner finds it).
    """
    params = LayerParams(resolution=RES)
    layers = {}
    for f in range(floors):
        cars = [x for x, served in shafts.values() if f in served]
        g = floor_grid(cars, (split or {}).get(f))
        for box in (blocks or {}).get(f, []):
            _box(g, *box, OCC)
        layer = OccupancyLayer(params)
        layer.load_grid(g, (0, 0))
        layers[f] = FloorLayer(f, layer, 4.0 * f, True)
    links = []
    for lid, (x, served) in sorted(shafts.items()):
        link = ElevatorLink(lid)
        for f in served:
            link.observe(f, (x, CAR_Y))
            if staging:
                link.staging[f] = (x, STAGING_Y, math.pi / 2)
                link.staging_method[f] = 'manual'
        links.append(link)
    return Building(layers, links, name='corridors', layer_params=params)
