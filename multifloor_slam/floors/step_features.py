"""Shape features of a pressure step, from the levels of one ride candidate.

Each feature is measured on the path as a fraction of the step (0 at the level before, 1 at
the level after), so it does not depend on the step's size. Door and HVAC steps are abrupt
jumps with flat stretches between; a car accelerates, cruises and brakes smoothly.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def transition_s(ts: NDArray[np.float64], frac: NDArray[np.float64]) -> float:
    """10 %-90 % rise time (s): a door step takes ~one sample, a car needs seconds."""
    above10, above90 = frac >= 0.1, frac >= 0.9
    if not above10.any() or not above90.any():
        return float('inf')
    return float(ts[int(np.argmax(above90))] - ts[int(np.argmax(above10))])


def plateau_s(ts: NDArray[np.float64], frac: NDArray[np.float64], sigma_frac: float) -> float:
    """Longest time (s) the level stood still half-way (10 %-90 %) through the step.

    A car never stops mid-ride; two door steps in a row leave a flat stretch between them,
    which gives them away even at 1 Hz where their jumps cannot be timed.
    """
    inside = np.nonzero((frac >= 0.1) & (frac <= 0.9))[0]
    if inside.size < 2:
        return 0.0
    seg = slice(int(inside[0]), int(inside[-1]) + 1)
    t, y = ts[seg], frac[seg]
    band = 0.05 + sigma_frac
    far = np.abs(y[None, :] - y[:, None]) > band
    far &= ~np.tri(y.size, dtype=bool)  # only look forward (j > i)
    far[:, -1] = True
    first_far = np.argmax(far, axis=1)
    ends = np.where(first_far == y.size - 1, y.size - 1, first_far - 1)
    ends = np.maximum(ends, np.arange(y.size))
    return float(np.max(t[ends] - t))


def path_deviation(ts: NDArray[np.float64], frac: NDArray[np.float64]) -> float:
    """Mean distance (share of the step) of the 10 %-90 % path from a straight ramp.

    A car cruises through the middle of its move at a steady rate, so its path between 10 %
    and 90 % stays close to a straight line even when jerk-limited; door and HVAC steps that
    overlap are jumps with flat stretches between (0.1-0.3 off the line).
    """
    above10, above90 = frac >= 0.1, frac >= 0.9
    if not above90.any():
        return 0.0
    i10, i90 = int(np.argmax(above10)), int(np.argmax(above90))
    if i90 - i10 < 2:
        return 0.0
    t, y = ts[i10 : i90 + 1], frac[i10 : i90 + 1]
    ramp = 0.1 + 0.8 * (t - t[0]) / max(float(t[-1] - t[0]), 1e-9)
    return float(np.mean(np.abs(y - ramp)))


def jump_fraction(ts: NDArray[np.float64], frac: NDArray[np.float64], dt: float) -> float:
    """Share of the level change made in its two largest short (0.4 s) stretches.

    Door and HVAC steps, even two in a row, are jumps between flat stretches (close to 1); a
    car moves through many intermediate levels (well below 1 at 2 Hz and more).
    """
    if ts.size < 2:
        return 0.0
    lag = max(0.4, dt)
    j = np.searchsorted(ts, ts + lag - 0.5 * dt)
    ok = j < ts.size
    if not ok.any():
        return 0.0
    i = np.nonzero(ok)[0]
    rise = frac[j[ok]] - frac[i]
    k1 = int(np.argmax(rise))
    first = max(0.0, float(rise[k1]))
    apart = np.abs(ts[i] - ts[i[k1]]) >= lag
    second = max(0.0, float(rise[apart].max())) if apart.any() else 0.0
    return first + second


def shape_features(
    ts: NDArray[np.float64], frac: NDArray[np.float64], sigma_frac: float, dt: float
) -> tuple[float, float, float, float]:
    """(transition_s, jump_fraction, plateau_s, path_deviation) of a level path ``frac``."""
    return (
        transition_s(ts, frac),
        jump_fraction(ts, frac, dt),
        plateau_s(ts, frac, sigma_frac),
        path_deviation(ts, frac),
    )


__all__ = ['jump_fraction', 'path_deviation', 'plateau_s', 'shape_features', 'transition_s']
