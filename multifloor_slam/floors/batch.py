"""The floor estimator over a whole log at once: arrays in, per-sample arrays and rides out.

For the ``floors`` command's tests, the benchmark and notebooks; live and ``process`` feed the
estimator one record at a time through :class:`~multifloor_slam.pipeline.floor_stage.FloorStage`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from multifloor_slam.errors import ConfigError
from multifloor_slam.floors.estimator import FloorEstimator, RideEvent
from multifloor_slam.floors.floor_table import FloorTable
from multifloor_slam.floors.params import FloorEstimatorParams


@dataclass(frozen=True)
class FloorTrace:
    """Per-sample output of :func:`estimate_floors` as arrays (one entry per input sample)."""

    t: NDArray[np.float64]
    floor: NDArray[np.int64]
    altitude_m: NDArray[np.float64]
    riding: NDArray[np.bool_]
    confidence: NDArray[np.float64]
    stats: dict[str, int]  # the estimator's counters at the end of the log


def estimate_floors(
    t: ArrayLike,
    p: ArrayLike,
    temperature: ArrayLike | None = None,
    params: FloorEstimatorParams = FloorEstimatorParams(),  # noqa: B008 (frozen)
    table: FloorTable | None = None,
    initial_floor: int = 0,
    elevator: Iterable[tuple[float, str, float]] = (),
) -> tuple[FloorTrace, list[RideEvent], FloorTable]:
    """Run the estimator over a whole log (offline CLI, benchmark, tests).

    ``elevator`` is an optional time-sorted sequence of ``(t, state, confidence)`` camera states,
    applied as their stamps are reached.
    """
    ts = np.asarray(t, dtype=np.float64).ravel()
    ps = np.asarray(p, dtype=np.float64).ravel()
    if ts.shape != ps.shape:
        raise ConfigError(f'{ts.size} stamps but {ps.size} pressures')
    temps: Sequence[float] | None = None
    if temperature is not None:
        temps = np.asarray(temperature, dtype=np.float64).ravel().tolist()
        if len(temps) != ts.size:
            raise ConfigError(f'{ts.size} stamps but {len(temps)} temperatures')
    est = FloorEstimator(params, table, initial_floor)
    elev = sorted(elevator, key=lambda e: e[0])
    k = 0
    n = ts.size
    floor = np.empty(n, np.int64)
    alt = np.empty(n)
    riding = np.empty(n, bool)
    conf = np.empty(n)
    events: list[RideEvent] = []
    for i, (ti, pi) in enumerate(zip(ts.tolist(), ps.tolist(), strict=True)):
        while k < len(elev) and elev[k][0] <= ti:
            est.set_elevator_state(*elev[k])
            k += 1
        s = est.update(ti, pi, None if temps is None else temps[i])
        floor[i], alt[i], riding[i], conf[i] = s.floor, s.altitude_m, s.riding, s.confidence
        if s.event is not None:
            events.append(s.event)
    return FloorTrace(ts, floor, alt, riding, conf, est.stats), events, est.table


__all__ = ['FloorTrace', 'estimate_floors']
