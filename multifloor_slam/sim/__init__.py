"""Synthetic buildings and sensors for tests, benchmarks and the demo.

The public names load lazily, so ``multifloor_slam.sim.pressure`` stays a light import.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    'SimConfig': 'simulator',
    'SimResult': 'simulator',
    'simulate': 'simulator',
    'Building': 'building',
    'BuildingConfig': 'building',
    'make_building': 'building',
    'floor_label': 'building',
    'CameraScene': 'camera',
    'CameraModel': 'camera',
    'render_camera_view': 'camera',
    'elevator_boxes': 'camera',
    'GroundTruth': 'ground_truth',
    'load_ground_truth': 'ground_truth',
    'TourConfig': 'tour',
    'plan_tour': 'tour',
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f'{__name__}.{_EXPORTS[name]}'), name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
