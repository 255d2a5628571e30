"""After a sensor gap: which known floors the level after it can be, within the drift bound."""

from __future__ import annotations

import math
from collections.abc import Callable

from multifloor_slam.floors.floor_table import FloorTable
from multifloor_slam.floors.params import FloorEstimatorParams
from multifloor_slam.floors.ride_detector import Step


def gap_candidates(
    table: FloorTable, p: FloorEstimatorParams, height: float, cur: int, step: Step
) -> tuple[list[int], bool]:
    """Known floors that fit the level after a gap, and whether an unseen one could.

    A floor fits when its elevation is within the drift the gap allows (plus the snap
    tolerance); an unseen floor could when that window holds room away from every known
    floor. ``height`` is the scale height (m) at the current air temperature.
    """
    z = table.elevation(cur) + height * math.log(step.p_before / step.p_after)
    bound_pa = p.max_drift_pa_per_h * step.gap_s / 3600.0 + 4.0 * step.sigma_pa
    half = height * bound_pa / step.p_after + p.snap_tolerance_min_m
    near = [f.index for f in table if abs(f.elevation_m - z) <= half]
    z_cur = table.elevation(cur)
    for k in range(int(2 * half / 0.25) + 1):
        zz = z - half + 0.25 * k
        if abs(zz - z_cur) < p.min_step_m:
            continue
        if all(abs(f.elevation_m - zz) >= p.new_floor_min_separation_m for f in table):
            return near, True
    return near, False


def resolve_unknown(
    unknown: list[int], table: FloorTable, classify: Callable[[int], tuple[str, int, float, float]]
) -> int | None:
    """Start floor of a ride made while the floor is unknown (None: the step is no ride).

    Each candidate start floor is tried (``classify(start)`` gives the estimator's decision
    ``(kind, floor, confidence, dz)``); the one whose landing fits the table best is taken,
    the first candidate when none lands on a known floor.
    """
    best: tuple[float, int] | None = None
    for c in unknown:
        kind, to, _conf, dz = classify(c)
        if kind == 'small':
            return None
        if kind == 'snap':
            r = abs(table.elevation(c) + dz - table.elevation(to))
            if best is None or r < best[0]:
                best = (r, c)
    return best[1] if best is not None else unknown[0]


__all__ = ['gap_candidates', 'resolve_unknown']
