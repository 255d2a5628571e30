"""A held (stepwise) floor change published as the next ride starts bounds that ride's start."""

from __future__ import annotations

import numpy as np

from multifloor_slam.floors.barometric import scale_height_m
from multifloor_slam.floors.batch import estimate_floors

P0 = 100000.0


def _pressure(z: np.ndarray) -> np.ndarray:
    return P0 * np.exp(-z / scale_height_m(20.0))


def test_a_ride_right_after_a_held_step_is_measured_from_that_step() -> None:
    # 10 Hz: parked at 0 m; a new floor 2.4 m up whose path is no steady ramp (two 1 s ramps
    # with 2 s flat between, as overlapping door steps: held); 16 s later a 3 m ride at 1 m/s.
    # Before, that ride's start window reached back across the held step: 5.1 m.
    t = np.arange(0.0, 260.0, 0.1)
    z = 1.2 * np.clip(t - 80.0, 0.0, 1.0) + 1.2 * np.clip(t - 83.0, 0.0, 1.0)
    z = z + np.clip(t - 100.0, 0.0, 3.0)
    p = _pressure(z) + np.random.default_rng(3).normal(0.0, 0.3, t.size)
    trace, events, table = estimate_floors(t, p)
    rides = [e for e in events if e.from_floor != e.to_floor]
    assert [e.to_floor for e in rides] == [1, 2], rides
    assert rides[0].source == 'refined'  # held, then published when the next ride began
    assert abs(rides[1].dz_m - 3.0) < 0.3, rides[1]
    assert abs(table.elevation(2) - 5.4) < 0.3, table.indices
    assert trace.floor[-1] == 2
