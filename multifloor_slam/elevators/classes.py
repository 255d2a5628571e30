"""The detector's class names, shared by training, detection and the elevator state.

The panel is split by kind because the two mean opposite things to a robot: a hall call panel
(up/down buttons) hangs outside the car, a car operating panel (floor buttons) inside it.
``LEGACY_PANEL`` is the one panel class of older models; it is read as a hall call panel.
"""

from __future__ import annotations

CLASS_NAMES: tuple[str, ...] = (
    'elevator_door_closed',
    'elevator_door_open',
    'hall_call_panel',
    'car_operating_panel',
    'elevator_interior',
)
LEGACY_PANEL = 'elevator_panel'

__all__ = ['CLASS_NAMES', 'LEGACY_PANEL']
