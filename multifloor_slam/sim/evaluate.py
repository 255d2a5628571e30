"""Score the floor estimate of a processed bag against the simulator's ground truth.

Map layers are scored by :func:`multifloor_slam.sim.map_score.score_building`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from multifloor_slam.sim.ground_truth import GroundTruth

_KERNEL = np.ones((3, 3), np.uint8)


@dataclass(frozen=True)
class FloorAccuracy:
    """How well the floor estimate followed the truth."""

    parked_time_correct: float
    rides_true: int
    rides_found: int
    rides_correct: int
    false_rides: int

    @property
    def ride_accuracy(self) -> float:
        """Correct rides (right from/to floor) over true rides."""
        return self.rides_correct / self.rides_true if self.rides_true else 1.0


def floor_accuracy(
    trace: Sequence[tuple[float, int, bool]],
    rides: Sequence[dict[str, Any]],
    truth: GroundTruth,
    match_window_s: float = 20.0,
) -> FloorAccuracy:
    """Compare the published floor (``trace``: t, floor, riding) and ride events with the truth."""
    t_est = np.array([s[0] for s in trace])
    f_est = np.array([s[1] for s in trace])
    parked = ~(truth.riding | truth.inside_car)
    k = np.clip(np.searchsorted(t_est, truth.t, side='right') - 1, 0, len(t_est) - 1)
    correct = f_est[k][parked] == truth.floor[parked]
    true_rides = truth.rides
    used: set[int] = set()
    n_correct = 0
    for r in true_rides:
        for j, e in enumerate(rides):
            if j in used or abs(e['t_end'] - r['t_end']) > match_window_s:
                continue
            used.add(j)
            n_correct += int(e['from_floor'] == r['from'] and e['to_floor'] == r['to'])
            break
    return FloorAccuracy(
        parked_time_correct=float(correct.mean()) if correct.size else 0.0,
        rides_true=len(true_rides),
        rides_found=len(used),
        rides_correct=n_correct,
        false_rides=len(rides) - len(used),
    )
