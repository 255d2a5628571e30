"""Short stops: a door step inside a stop window too short for its median to outvote it.

A car that stops for less than ``short_stop_s`` leaves only that stop's window to measure its
arrival level, and the next ride's start level comes from the same window. A door step that
opens or closes in it leaves two levels there, and the window alone cannot tell which one is
the floor's (on the development seeds a door step opened in as many short stops as one
closed). The floor table can: the ride that arrived from a long window lands on a known floor
with one of them. That level then measures both the arrival and the next ride's start.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from multifloor_slam.floors.floor_table import FloorTable
from multifloor_slam.floors.outputs import Decision
from multifloor_slam.floors.params import FloorEstimatorParams
from multifloor_slam.floors.ride_detector import Step

#: Snap of a step from a fixed origin: (kind, floor, confidence, dz).
Classify = Callable[[Step], tuple[str, int, float, float]]


def shifted(step: Step, shift_m: float, height_m: float) -> Step:
    """``step`` with its start level moved so that its height grows by ``shift_m``."""
    return replace(step, p_before=step.p_before * math.exp(shift_m / height_m))


class ShortStops:
    """Chooses a short stop's arrival level by the floor table; carries it to the next ride."""

    def __init__(self, params: FloorEstimatorParams) -> None:
        self._p = params
        self._shifts: dict[float, float] = {}  # rides after such a stop: height added (m)

    def start(self, last: Decision | None, step: Step, cur: int, height_m: float) -> Step:
        """``step`` measured from the level its short stop's arrival was decided on."""
        if last is None or step.continued or step.gap_s > 0.0 or last.to_floor != cur:
            return step
        if (
            not last.next_shift_m
            or not 0.0 < step.t_start - last.step.t_stop <= self._p.short_stop_s
        ):
            return step
        self._shifts[step.t_decided] = last.next_shift_m
        while len(self._shifts) > 8:
            del self._shifts[next(iter(self._shifts))]
        return shifted(step, last.next_shift_m, height_m)

    def recheck(self, refined: Step, height_m: float) -> Step:
        """A re-check of such a ride, measured from the same level as its decision."""
        shift = self._shifts.get(refined.t_decided, 0.0)
        if refined.final:
            self._shifts.pop(refined.t_decided, None)
        return shifted(refined, shift, height_m) if shift else refined

    def arrival(
        self,
        table: FloorTable,
        origin: int,
        refined: Step,
        snap: tuple[str, int, float],
        classify: Classify,
    ) -> tuple[Step, float, tuple[str, int, float, float]] | None:
        """The short stop's other level, the height it adds to the next ride and its snap.

        ``snap`` is (kind, floor, dz) of the final re-check; ``classify`` snaps from
        ``origin``. The other level is taken only when that re-check missed its known floor
        by ``short_stop_miss_m`` or more and the other lands on a known floor closer by half
        that, or when it found no known floor and the other lands within
        ``short_stop_miss_m`` of one.
        """
        p = self._p
        miss = _miss(table, origin, *snap)
        if not refined.p_alts or snap[0] == 'small' or miss < p.short_stop_miss_m:
            return None
        miss = min(miss, 1.5 * p.short_stop_miss_m)
        best = None
        for level in refined.p_alts:
            alt = replace(refined, p_after=level, p_alts=())
            alt_snap = classify(alt)
            kind, to, _, dz = alt_snap
            miss_alt = _miss(table, origin, kind, to, dz)
            if miss_alt <= miss - 0.5 * p.short_stop_miss_m:
                # The next ride grows as this one shrinks.
                best, miss = (alt, snap[2] - dz, alt_snap), miss_alt
        return best


def _miss(table: FloorTable, origin: int, kind: str, to: int, dz: float) -> float:
    """How far (m) a ride from ``origin`` landed from its known floor (inf: none)."""
    if kind != 'snap':
        return math.inf
    return abs(table.elevation(origin) + dz - table.elevation(to))


__all__ = ['Classify', 'ShortStops', 'shifted']
