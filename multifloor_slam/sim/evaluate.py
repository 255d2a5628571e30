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
    """How well the floor estimate followed the truth.

    Floors are matched, not compared by number: each estimated floor stands for the true floor
    the robot was on most of the time it was published. After an express ride past a floor
    never visited (or onto a floor twice the usual height) the estimator cannot know how many
    storeys it passed, so its numbering may differ from the building's while still meaning one
    true floor per estimated floor. ``renumbered`` counts such floors; ``merged`` counts true
    floors that share an estimated floor (a real error).
    """

    parked_time_correct: float
    rides_true: int
    rides_found: int
    rides_correct: int
    false_rides: int
    renumbered: int
    merged: int
    mapping: dict[int, int]

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
    est, true = f_est[k][parked], truth.floor[parked]
    mapping = {}
    for f in np.unique(est):
        values, counts = np.unique(true[est == f], return_counts=True)
        mapping[int(f)] = int(values[np.argmax(counts)])
    mapped = np.array([mapping[int(f)] for f in est])
    correct = mapped == true
    true_rides = truth.rides
    used: set[int] = set()
    n_correct = 0
    for r in true_rides:
        for j, e in enumerate(rides):
            if j in used or abs(e['t_end'] - r['t_end']) > match_window_s:
                continue
            used.add(j)
            src, dst = mapping.get(e['from_floor']), mapping.get(e['to_floor'])
            n_correct += int(src == r['from'] and dst == r['to'])
            break
    return FloorAccuracy(
        parked_time_correct=float(correct.mean()) if correct.size else 0.0,
        rides_true=len(true_rides),
        rides_found=len(used),
        rides_correct=n_correct,
        false_rides=len(rides) - len(used),
        renumbered=sum(e != t for e, t in mapping.items()),
        merged=len(mapping) - len(set(mapping.values())),
        mapping=mapping,
    )
