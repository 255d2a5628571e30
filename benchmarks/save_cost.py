"""What a save costs on big floors, and what the staging / nav-graph cache saves.

    PYTHONPATH=. python benchmarks/save_cost.py [--width 150] [--depth 60] [--floors 2]
                                                [--saves 3] [--out /tmp/save_cost]

A synthetic office floor (``--width`` x ``--depth`` m at 5 cm: a corridor along the middle,
6 m rooms either side with 1 m doors, some furniture, three elevator cars north of the corridor
with their doors shut) is repeated ``--floors`` times. The table gives, per save, the wall time
of ``save_building`` and of its derived parts (staging poses, the Open-RMF export with the nav
graphs) measured separately:

1. the first save (nothing cached);
2. saves with nothing changed (what autosave does when a timer fires on an idle robot: the node
   skips those itself, but ``~/save_building`` and ``process`` do not);
3. saves after one floor changed (a few cells of one room: the live mapper's usual case), where
   only that floor's staging and graph are recomputed.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import numpy as np

from multifloor_slam.io.building_files import save_building
from multifloor_slam.io.building_render import Canvas
from multifloor_slam.io.open_rmf import open_rmf_building
from multifloor_slam.maps.building import Building, ElevatorLink, FloorLayer
from multifloor_slam.maps.occupancy_layer import LayerParams, OccupancyLayer
from multifloor_slam.navigation.derived_cache import DERIVED, DerivedCache
from multifloor_slam.navigation.staging import StagingParams, with_staging

RES = 0.05
FREE, OCC = -2.0, 3.5


def office(width: float, depth: float, cars: list[float], seed: int) -> np.ndarray:
    """Log-odds of one office floor (row 0 = y 0)."""
    rng = np.random.default_rng(seed)
    g = np.zeros((round(depth / RES), round(width / RES)), np.float32)

    def box(x0: float, y0: float, x1: float, y1: float, v: float) -> None:
        g[round(y0 / RES) : round(y1 / RES), round(x0 / RES) : round(x1 / RES)] = v

    mid = depth / 2.0
    box(0.5, 0.5, width - 0.5, depth - 0.5, OCC)
    box(0.6, 0.6, width - 0.6, depth - 0.6, FREE)
    box(0.5, mid - 2.1, width - 0.5, mid - 2.0, OCC)  # corridor walls
    box(0.5, mid + 2.0, width - 0.5, mid + 2.1, OCC)
    x = 0.6
    while x + 6.0 < width:
        for y0, y1, door_y in ((0.6, mid - 2.1, mid - 2.1), (mid + 2.1, depth - 0.6, mid + 2.0)):
            box(x + 6.0, y0, x + 6.1, y1, OCC)  # partition
            box(x + 2.5, door_y, x + 3.5, door_y + 0.1, FREE)  # door to the corridor
            for _ in range(3):  # furniture
                fx, fy = x + rng.uniform(0.8, 4.5), rng.uniform(y0 + 1.0, y1 - 2.0)
                box(fx, fy, fx + rng.uniform(0.4, 1.5), fy + rng.uniform(0.4, 1.0), OCC)
        x += 6.1
    for cx in cars:  # shafts north of the corridor, doors shut
        cy = mid + 3.3
        box(cx - 1.3, mid + 2.0, cx + 1.3, cy + 1.3, 0.0)  # the shaft: unknown
        box(cx - 1.0, cy - 1.0, cx + 1.0, cy + 1.0, OCC)
        box(cx - 0.9, cy - 0.9, cx + 0.9, cy + 0.9, FREE)
        box(cx - 1.3, mid + 2.0, cx + 1.3, mid + 2.1, OCC)
        box(cx - 0.6, mid + 2.0, cx + 0.6, cy - 1.0, FREE)  # the landing door gap
        box(cx - 0.6, cy - 1.0, cx + 0.6, cy - 0.9, OCC)  # the car door, shut
    return g


def big_building(width: float, depth: float, floors: int) -> Building:
    params = LayerParams(resolution=RES)
    cars = [width * 0.15, width * 0.5, width * 0.85]
    layers = {}
    for f in range(floors):
        layer = OccupancyLayer(params)
        layer.load_grid(office(width, depth, cars, seed=f), (0, 0))
        layers[f] = FloorLayer(f, layer, 4.0 * f, True)
    links = []
    for lid, cx in enumerate(cars):
        link = ElevatorLink(lid)
        for f in range(floors):
            link.observe(f, (cx, depth / 2.0 + 3.3))
        links.append(link)
    return Building(layers, links, name='office', layer_params=params)


def touch(building: Building, floor: int, k: int) -> None:
    """A small change on one floor (a chair moved), as the live mapper makes between saves."""
    layer = building.floors[floor].layer
    g = layer.logodds.copy()
    r, c = 40 + 3 * k, 40
    g[r : r + 4, c : c + 4] = OCC
    layer.load_grid(g, layer.cell_offset)


def derived_ms(building: Building, cache: DerivedCache | None) -> tuple[float, float]:
    """(staging, Open-RMF export with nav graphs) wall time in ms, with ``cache``."""
    t0 = time.perf_counter()
    masks: dict = {}
    view = Building(building.floors, with_staging(building, StagingParams(), masks, cache=cache))
    view.name, view.layer_params = building.name, building.layer_params
    t1 = time.perf_counter()
    open_rmf_building(view, Canvas(view), masks=masks, cache=cache)
    t2 = time.perf_counter()
    return (t1 - t0) * 1e3, (t2 - t1) * 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--width', type=float, default=150.0)
    parser.add_argument('--depth', type=float, default=60.0)
    parser.add_argument('--floors', type=int, default=2)
    parser.add_argument('--saves', type=int, default=3)
    parser.add_argument('--out', type=Path, default=Path('/tmp/save_cost'))
    args = parser.parse_args()
    building = big_building(args.width, args.depth, args.floors)
    shutil.rmtree(args.out, ignore_errors=True)
    cells = sum(fl.layer.logodds.size for fl in building.floors.values())
    print(
        f'{args.floors} floors of {args.width:g} m x {args.depth:g} m at {RES} m '
        f'({cells / 1e6:.1f} M cells), {len(building.links)} elevators'
    )
    print()
    print(
        '| save | save_building (s) | staging, no cache (ms) | staging, cached (ms) '
        '| RMF export, no cache (ms) | RMF export, cached (ms) |'
    )
    print('|---|---|---|---|---|---|')
    DERIVED.clear()
    private = DerivedCache()
    rows: list[tuple[str, int | None]] = [('first', None)]
    rows += [('nothing changed', None)] * args.saves
    rows += [('one floor changed', k) for k in range(args.saves)]
    for what, k in rows:
        if k is not None:
            touch(building, 0, k)
        s_plain, r_plain = derived_ms(building, None)
        s_cached, r_cached = derived_ms(building, private)
        t0 = time.perf_counter()
        save_building(building, args.out)
        t_save = time.perf_counter() - t0
        print(
            f'| {what} | {t_save:.2f} | {s_plain:.0f} | {s_cached:.0f} | {r_plain:.0f} '
            f'| {r_cached:.0f} |'
        )
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
