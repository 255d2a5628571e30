"""Following a floor-table renumbering: everything kept per floor index moves at once.

The floor estimator numbers floors by what it has seen (``docs/floor_estimation.md``, step 6):
a first ride of up to ``max_storey_m`` to a new top or bottom floor is one storey, so a floor
ridden past turns up later between two consecutive numbers, and then the floors beyond it (away
from the reference floor) move one number out; a re-check that retracts the new floor moves them
back. A map kept per floor index must follow, or two floors' maps end on one number.

Live, the map manager sees only ``floor/table`` (latched, depth 1: a table in between may be
missed), so the renumbering is read from the tables themselves: :func:`table_renumbering`
matches the floors of the previous and the new table by elevation (relative to the reference
floor, which is never renumbered) and gives ``{old index: new index}``. A missed table changes
nothing (a composition of renumberings matches the same way), and live and offline read the
same tables, so they follow identically.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeVar

from multifloor_slam.errors import InputDataError
from multifloor_slam.floors.floor_table import MAX_FLOOR_INDEX

#: Two tables' floors are one floor when each is the other's nearest by elevation, within this
#: (m). New floors are at least ``new_floor_min_separation_m`` (1.6 m) from known ones, and a
#: re-check moves a floor's elevation (a median of observations) by well under a metre.
MATCH_TOLERANCE_M = 1.0

V = TypeVar('V')


def check_renumbering(mapping: Mapping[Any, Any]) -> dict[int, int]:
    """``mapping`` as ``{old: new}`` ints without identity entries; InputDataError if unusable.

    Two floors may not take one number, and no number may pass +-``MAX_FLOOR_INDEX``.
    """
    try:
        out = {int(old): int(new) for old, new in mapping.items()}
    except (AttributeError, TypeError, ValueError) as err:
        raise InputDataError(f'floor renumbering {mapping!r}: not integer floors ({err})') from err
    out = {old: new for old, new in out.items() if old != new}
    if any(abs(i) > MAX_FLOOR_INDEX for i in (*out, *out.values())):
        raise InputDataError(f'floor renumbering {out}: an index beyond +-{MAX_FLOOR_INDEX}')
    if len(set(out.values())) != len(out):
        raise InputDataError(f'floor renumbering {out}: two floors would take one number')
    return out


def renumber_keys(
    items: Mapping[int, V], mapping: Mapping[int, int]
) -> tuple[dict[int, V], dict[int, V]]:
    """``items`` re-keyed by ``mapping`` (all moves at once), and the entries pushed out.

    An entry that stays where a moved one lands is pushed out (the moved one is the floor the
    table now has there; the one pushed out belonged to a floor the table retracted).
    """
    moved = {mapping.get(i, i): v for i, v in items.items() if i in mapping}
    kept = {i: v for i, v in items.items() if i not in mapping}
    out = {i: v for i, v in kept.items() if i not in moved}
    out.update(moved)
    return dict(sorted(out.items())), {i: v for i, v in kept.items() if i in moved}


def _table_floors(table: Any) -> tuple[int, dict[int, float]] | None:
    """(reference index, {index: elevation}) of a floor table dict; None when unreadable."""
    if not isinstance(table, Mapping) or not isinstance(table.get('floors'), list):
        return None
    try:
        floors = {int(f['index']): float(f['elevation_m']) for f in table['floors']}
        reference = int(table.get('reference_index', 0))
    except (KeyError, TypeError, ValueError):
        return None
    if not all(map(math.isfinite, floors.values())):
        return None
    return reference, floors


def table_renumbering(
    old: Any, new: Any, tolerance_m: float = MATCH_TOLERANCE_M
) -> dict[int, int]:
    """``{old index: new index}`` of the floors that two floor tables number differently.

    Floors are matched by elevation: mutual nearest, within ``tolerance_m``. Floors with no
    match (added or retracted) are not in it. Tables with different reference floors were
    learned apart (their elevations share no zero) and give ``{}``, as does a missing table.
    """
    a, b = _table_floors(old), _table_floors(new)
    if a is None or b is None or a[0] != b[0] or not a[1] or not b[1]:
        return {}
    za, zb = a[1], b[1]

    def nearest(z: float, floors: dict[int, float]) -> int:
        return min(floors, key=lambda i: (abs(floors[i] - z), i))

    mapping = {}
    for i, z in za.items():
        j = nearest(z, zb)
        if j != i and nearest(zb[j], za) == i and abs(zb[j] - z) <= tolerance_m:
            mapping[i] = j
    return check_renumbering(mapping)


def renumber_floor(floor: int, mapping: Mapping[int, int], table_floor: int | None) -> int:
    """Where the robot's floor goes: ``table_floor`` as is when it is already that.

    ``floor/current`` and ``floor/table`` are two topics: live, the new floor (in the new
    numbering, the table's ``current_floor``) may come before the table that renumbers. A floor
    that already is the table's current floor is taken as that, not moved again.
    """
    if table_floor is not None and floor == table_floor:
        return floor
    return mapping.get(floor, floor)


__all__ = [
    'MATCH_TOLERANCE_M',
    'check_renumbering',
    'renumber_floor',
    'renumber_keys',
    'table_renumbering',
]
