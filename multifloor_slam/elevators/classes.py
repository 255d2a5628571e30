"""The detector's class list, shared by training, detection and the elevator state machine.

Panels come in two kinds because they tell the robot different things: a hall call panel
(up/down) is outside the car at the landing doors, a car operating panel (floor buttons) is
inside the car. Class ids are the positions in :data:`CLASS_NAMES`.
"""

from __future__ import annotations

#: Class names of the detector, in class-id order.
CLASS_NAMES: tuple[str, ...] = (
    'elevator_door_closed',
    'elevator_door_open',
    'hall_call_panel',
    'car_operating_panel',
    'elevator_interior',
)
DOOR_CLOSED, DOOR_OPEN, HALL_PANEL, CAR_PANEL, INTERIOR = range(len(CLASS_NAMES))

#: The single panel class of the old 4-class model (door closed, door open, panel, interior).
LEGACY_PANEL = 'elevator_panel'
#: Class names of the old 4-class model, for reading its weights.
LEGACY_CLASS_NAMES: tuple[str, ...] = (
    'elevator_door_closed',
    'elevator_door_open',
    LEGACY_PANEL,
    'elevator_interior',
)

__all__ = [
    'CAR_PANEL',
    'CLASS_NAMES',
    'DOOR_CLOSED',
    'DOOR_OPEN',
    'HALL_PANEL',
    'INTERIOR',
    'LEGACY_CLASS_NAMES',
    'LEGACY_PANEL',
]
