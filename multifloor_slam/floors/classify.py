"""Snapping a pressure step to the floor table: no change, a known floor, a new floor, or unsure.

The decision of one step from one start floor, free of the estimator's state, so the quick
decision, the re-checks and the early look at a slow sensor's stop all judge alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from multifloor_slam.floors.barometric import scale_height_m
from multifloor_slam.floors.floor_table import FloorTable
from multifloor_slam.floors.params import FloorEstimatorParams
from multifloor_slam.floors.ride_detector import Step
from multifloor_slam.floors.step_shape import door_like


def classify_step(
    table: FloorTable,
    p: FloorEstimatorParams,
    temperature_c: float,
    cur: int,
    step: Step,
    saw_car: float,
    no_elev: float,
    reverts: Callable[[float], bool] | None = None,
) -> tuple[str, int, float, float]:
    """Snap ``step`` from floor ``cur``: (kind, floor, confidence, dz).

    ``reverts`` (None: no shape test) tells whether a door-like step of that height leads
    straight back to where the last ride started (then it is not refused for its shape).
    kind is 'small' (not a floor change), 'snap' (a known floor), 'new' (a floor not in the
    table; the index is free but the floor is not added here) or 'ambiguous' (between a
    known floor's tolerance and the distance a real new floor would have: the nearest
    floor, with low confidence and no table learning).
    """
    height = scale_height_m(temperature_c)
    dz = height * math.log(step.p_before / step.p_after)
    factor = 1.0
    if saw_car > 0.0:
        factor = p.elevator_step_factor
    elif no_elev >= 0.5:
        factor = p.no_elevator_step_factor
    if step.gap_s > 0.0:
        drift_bound = p.max_drift_pa_per_h * step.gap_s / 3600.0 + 4.0 * step.sigma_pa
        if abs(step.p_before - step.p_after) <= drift_bound:
            return 'small', cur, 0.0, dz
    if abs(dz) < p.min_step_m * factor:
        return 'small', cur, 0.0, dz
    if reverts is not None and door_like(step, dz, p) and not reverts(dz):
        return 'small', cur, 0.0, dz
    z = table.elevation(cur) + dz
    nearest = table.nearest(z, exclude=cur)
    sigma_dz = height * step.sigma_pa / step.p_after
    if nearest is not None:
        spacing = table.spacing(nearest.index, p.nominal_storey_m)
        tol = min(
            max(p.snap_tolerance_frac * spacing, p.snap_tolerance_min_m),
            p.snap_tolerance_max_m,
        )
        if (
            len(nearest.observations) < 2
            and not nearest.seeded
            and nearest.index != table.reference_index
        ):
            # A floor seen once is only as good as that one ride: be more lenient.
            tol = min(1.5 * tol, 0.45 * spacing)
        if no_elev >= 0.5:
            tol *= 0.8
        r = abs(z - nearest.elevation_m)
    else:
        spacing, tol, r = p.nominal_storey_m, p.snap_tolerance_min_m, math.inf
    q_noise = min(1.0, max(0.0, 1.0 - sigma_dz / (0.25 * spacing)))
    if nearest is not None and r <= tol:
        kind, to = 'snap', nearest.index
        conf = (1.0 - 0.5 * (r / tol) ** 2) * (0.6 + 0.4 * q_noise)
    elif r >= p.new_floor_min_separation_m:
        index = table.index_for_new_floor(z, p.nominal_storey_m, p.max_storey_m, p.min_step_m)
        if index is not None:
            kind, to = 'new', index
            sep = p.new_floor_min_separation_m
            extra = 1.0 if math.isinf(r) else min(1.0, (r - sep) / sep)
            conf = (0.5 + 0.3 * extra) * (0.6 + 0.4 * q_noise)
        else:
            # Numbering fixed by seeded floors left no index there: the nearest, unsure.
            assert nearest is not None
            kind, to, conf = 'ambiguous', nearest.index, 0.1
    else:
        assert nearest is not None
        kind, to = 'ambiguous', nearest.index
        span = max(p.new_floor_min_separation_m - tol, 1e-6)
        conf = max(0.05, 0.35 * (1.0 - (r - tol) / span))
    if step.gap_s > 0.0:
        conf *= 0.7
    if saw_car > 0.0:
        conf = min(1.0, conf + p.elevator_confidence_boost * saw_car)
    elif no_elev > 0.0:
        conf *= 1.0 - (1.0 - p.no_elevator_confidence_factor) * no_elev
    return kind, to, min(1.0, max(0.0, conf)), dz


__all__ = ['classify_step']
