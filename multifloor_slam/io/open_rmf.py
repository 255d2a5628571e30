"""The Open-RMF / traffic-editor export of a building (``<name>.building.yaml``)."""

from __future__ import annotations

import math
from typing import Any

from multifloor_slam.io.building_render import Canvas
from multifloor_slam.maps.building import Building


def open_rmf_building(
    building: Building, canvas: Canvas, drawings: dict[int, str] | None = None
) -> dict[str, Any]:
    """An Open-RMF ``*.building.yaml`` (traffic-editor format, ``reference_image`` coordinates).

    Every level's drawing is the floor map on the common canvas, so all levels share pixel
    coordinates; identical fiducials on every level and a measurement per level give RMF the
    alignment and the metres-per-pixel scale. Lifts sit at the mean car position of each link.
    ``drawings`` names each floor's drawing file (default ``<name>_<label>.png``).
    """
    name = building.name
    h, w = canvas.shape
    levels: dict[str, Any] = {}
    for index, fl in sorted(building.floors.items()):
        drawing = (drawings or {}).get(index, f'{name}_{fl.label}.png')
        levels[fl.label] = {
            'elevation': round(float(fl.elevation_m), 4),
            'drawing': {'filename': drawing},
            'fiducials': [[0.0, 0.0, 'f0'], [float(w), 0.0, 'f1'], [0.0, float(h), 'f2']],
            'vertices': [[0.0, float(h), 0.0, ''], [float(w), float(h), 0.0, '']],
            'measurements': [[0, 1, {'distance': [3, round(w * canvas.res, 6)]}]],
            'lanes': [],
            'walls': [],
            'doors': [],
            'floors': [],
            'models': [],
            'layers': {},
        }
    lifts: dict[str, Any] = {}
    labels = {i: fl.label for i, fl in building.floors.items()}
    for link in building.links:
        served = [labels[f] for f in link.floors if f in labels]
        if len(served) < 2:
            continue
        u, v = canvas.pixel(link.x, link.y)
        lifts[f'lift_{link.id}'] = {
            'x': round(u, 3),
            'y': round(v, 3),
            'yaw': 0.0,
            'width': float(building.car_width_m),
            'depth': float(building.car_depth_m),
            'reference_floor_name': served[0],
            'initial_floor_name': served[0],
            'lowest_floor': served[0],
            'highest_floor': served[-1],
            'level_doors': {label: ['door1'] for label in served},
            'doors': {
                'door1': {
                    'door_type': 2,
                    'x': round(building.car_depth_m / 2.0, 3),
                    'y': 0.0,
                    'motion_axis_orientation': round(math.pi / 2.0, 6),
                    'width': round(min(building.car_width_m, 1.0), 3),
                }
            },
        }
    first = min(building.floors) if building.floors else 0
    return {
        'name': name,
        'coordinate_system': 'reference_image',
        'reference_level_name': labels.get(first, 'L0'),
        'levels': levels,
        'lifts': lifts,
    }


__all__ = ['open_rmf_building']
