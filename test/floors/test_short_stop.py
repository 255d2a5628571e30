"""A door step that closes during a short stop: the level after it is the floor's."""

from __future__ import annotations

import numpy as np

from multifloor_slam.floors.barometric import scale_height_m
from multifloor_slam.floors.batch import estimate_floors
from multifloor_slam.floors.floor_table import FloorTable

P0 = 100000.0


def _pressure(z: np.ndarray) -> np.ndarray:
    return P0 * np.exp(-z / scale_height_m(20.0))


def _run(door_pa: float) -> tuple[list[int], list[float]]:
    # 10 Hz, known floors 0 / 3.5 / 6.5 / 8.6 m. A 3.5 m ride to floor 1 at 1 m/s, a 10 s stop,
    # a 3.0 m ride on to floor 2. A door step opened during the first ride and closes 7 s
    # into the stop: most of the stop window sits door_pa off. Without the door step each
    # ride lands on its floor; with it the second was measured 1.1 m long (floor 3).
    t = np.arange(0.0, 200.0, 0.1)
    z = np.clip(t - 60.0, 0.0, 3.5) + np.clip(t - 73.5, 0.0, 3.0)
    door = door_pa * ((t >= 62.0) & (t < 70.5))
    p = _pressure(z) + door + np.random.default_rng(5).normal(0.0, 0.3, t.size)
    table = FloorTable.from_seed('0:0,1:3.5,2:6.5,3:8.6')
    _trace, events, _table = estimate_floors(t, p, table=table)
    rides = [e for e in events if e.from_floor != e.to_floor]
    final = {}
    for e in rides:  # the last decision per ride (re-checks supersede)
        final[e.t_start] = e
    return [e.to_floor for e in final.values()], [e.dz_m for e in final.values()]


def test_the_level_after_a_door_step_closing_in_a_short_stop_is_used() -> None:
    floors, dz = _run(14.0)
    assert floors == [1, 2], (floors, dz)  # before: [1, 3], the second ride 4.1 m
    assert abs(dz[-1] - 3.0) < 0.3, dz


def test_without_a_door_step_nothing_changes() -> None:
    floors, dz = _run(0.0)
    assert floors == [1, 2], (floors, dz)
