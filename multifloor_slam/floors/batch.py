"""The floor estimator over a whole log at once: arrays in, per-sample arrays and rides out.

For the ``floors`` command's tests, the benchmark and notebooks; live and ``process`` feed the
estimator one record at a time through :class:`~multifloor_slam.pipeline.floor_stage.FloorStage`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

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

    When a floor found later renumbers the table, the floors and rides before it are reported
    in the final numbering (each index always names one floor).

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
    renumbered: list[tuple[int, int, dict[int, int]]] = []  # (samples, events, mapping)
    for i, (ti, pi) in enumerate(zip(ts.tolist(), ps.tolist(), strict=True)):
        while k < len(elev) and elev[k][0] <= ti:
            est.set_elevator_state(*elev[k])
            k += 1
        s = est.update(ti, pi, None if temps is None else temps[i])
        floor[i], alt[i], riding[i], conf[i] = s.floor, s.altitude_m, s.riding, s.confidence
        while len(renumbered) < len(est.renumberings):  # this sample's event is renumbered
            renumbered.append((i, len(events), est.renumberings[len(renumbered)]))
        if s.event is not None:
            events.append(s.event)
    for i, k, mapping in renumbered:
        # Offline the whole log is known: earlier floors are reported in the final numbering.
        before = floor[:i].copy()
        for old, new in mapping.items():
            floor[:i][before == old] = new
        events[:k] = [_renumbered_event(e, mapping, est.table) for e in events[:k]]
    return FloorTrace(ts, floor, alt, riding, conf, est.stats), events, est.table


def _renumbered_event(event: RideEvent, mapping: dict[int, int], table: FloorTable) -> RideEvent:
    fr, to = (
        mapping.get(event.from_floor, event.from_floor),
        mapping.get(event.to_floor, event.to_floor),
    )
    if (fr, to) == (event.from_floor, event.to_floor):
        return event
    return replace(
        event, from_floor=fr, to_floor=to, from_label=table.label(fr), to_label=table.label(to)
    )


__all__ = ['FloorTrace', 'estimate_floors']
