"""Floor elevations re-estimated from every ride at once, not chained ride by ride.

A new floor's elevation is the start floor's elevation plus one measured step, so an error in
the start floor passes on to every floor found from it. Each confident ride is also a relative
measurement ``z[to] - z[from] = dz`` between two floors; together they form a small graph with
loops (the robot comes back to floors by other routes). A robust weighted least-squares fit of
all elevations to all rides, with the reference and seeded floors held fixed, spreads each
error over the loop that reveals it instead of passing it on. Huber weights keep one ride
measured a metre off (a door step inside a stop) from pulling the table.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from multifloor_slam.floors.floor_table import FloorTable

#: A floor with rides is held to its current elevation this weakly (it only fixes floors that
#: no ride connects to a fixed floor).
_PRIOR_WEIGHT = 1e-3
#: Residual (m) beyond which a ride's weight falls off (Huber).
_HUBER_M = 0.4
#: Rides kept (oldest dropped): a building is learned in far fewer.
_MAX_EDGES = 400
#: Error (m) of any ride beyond its noise (drift during the ride, door steps, the car levelling).
_MODEL_M = 0.15


@dataclass
class RideEdge:
    """One ride between two floors of the table: ``z[to] - z[frm] = dz_m`` (+- sigma_m)."""

    frm: int
    to: int
    dz_m: float
    sigma_m: float


class RideGraph:
    """Rides between floors, and the table elevations that fit them all best."""

    def __init__(self) -> None:
        self.edges: list[RideEdge] = []

    def add(self, frm: int, to: int, dz_m: float, sigma_m: float) -> None:
        """Remember a confident ride from floor ``frm`` to floor ``to`` (sigma: its noise, m)."""
        if frm != to:
            self.edges.append(RideEdge(frm, to, float(dz_m), math.hypot(_MODEL_M, sigma_m)))
            del self.edges[:-_MAX_EDGES]

    def renumber(self, mapping: dict[int, int]) -> None:
        """Follow a renumbering of the table ``{old: new}``."""
        for e in self.edges:
            e.frm, e.to = mapping.get(e.frm, e.frm), mapping.get(e.to, e.to)

    def drop(self, index: int) -> None:
        """Forget the rides of a floor removed from the table."""
        self.edges = [e for e in self.edges if index not in (e.frm, e.to)]

    def fit(self, table: FloorTable, min_storey_m: float) -> bool:
        """Set the free floors' elevations to the robust fit of all rides; True if changed.

        The reference floor and seeded floors stay. A fit that would change the order of the
        floors, or bring two closer than ``min_storey_m``, is not applied: the rides then
        disagree with the table's floors themselves, which is for the ride decisions to fix.
        """
        edges = [e for e in self.edges if e.frm in table and e.to in table]
        fixed = {f.index for f in table if f.seeded or f.index == table.reference_index}
        free = sorted({i for e in edges for i in (e.frm, e.to)} - fixed)
        if not free:
            return False
        col = {i: k for k, i in enumerate(free)}
        n_e, n_f = len(edges), len(free)
        a = np.zeros((n_e + n_f, n_f))
        b = np.zeros(n_e + n_f)
        w = np.ones(n_e + n_f)
        for r, e in enumerate(edges):
            b[r] = e.dz_m
            for idx, sign in ((e.to, 1.0), (e.frm, -1.0)):
                if idx in col:
                    a[r, col[idx]] = sign
                else:
                    b[r] -= sign * table.elevation(idx)
            w[r] = 1.0 / e.sigma_m
        for k, i in enumerate(free):
            a[n_e + k, k] = 1.0
            b[n_e + k] = table.elevation(i)
            w[n_e + k] = _PRIOR_WEIGHT
        huber = np.ones(n_e + n_f)
        z: np.ndarray = np.zeros(n_f)
        for _ in range(4):  # iteratively reweighted least squares (Huber)
            sw = w * np.sqrt(huber)
            z = np.linalg.lstsq(a * sw[:, None], b * sw, rcond=None)[0]
            res = np.abs(a[:n_e] @ z - b[:n_e])
            huber[:n_e] = np.minimum(1.0, _HUBER_M / np.maximum(res, 1e-9))
        new = {f.index: f.elevation_m for f in table}
        new.update({i: float(z[col[i]]) for i in free})
        order = sorted(new, key=lambda i: new[i])
        if order != sorted(new) or any(
            new[hi] - new[lo] < min_storey_m for lo, hi in itertools.pairwise(order)
        ):
            return False
        changed = False
        for i in free:
            floor = table[i]
            if abs(floor.elevation_m - new[i]) > 1e-6:
                floor.elevation_m = new[i]
                changed = True
        if changed:
            table.version += 1
        return changed


__all__ = ['RideEdge', 'RideGraph']
