"""Barometer units: drivers publish Pa (as FluidPressure says), hPa or kPa.

The unit is decided once per stream, from the first plausible sample, never per sample: a
single absurd sample must not be rescaled into a plausible one.
"""

from __future__ import annotations

import math

from multifloor_slam.errors import ConfigError

#: Factor to Pa per unit name.
PRESSURE_UNITS: dict[str, float] = {'Pa': 1.0, 'hPa': 100.0, 'kPa': 1000.0}
#: Plausible air pressure at any building on Earth, in Pa (Dead Sea to 5 km up, with margin).
PLAUSIBLE_PA = (30_000.0, 115_000.0)


def unit_factor(unit: str) -> float | None:
    """Factor to Pa for ``unit``; None for 'auto' (decide from the data).

    Raises:
        ConfigError: an unknown unit name.
    """
    if unit == 'auto':
        return None
    try:
        return PRESSURE_UNITS[unit]
    except KeyError:
        raise ConfigError(
            f"pressure unit {unit!r}: use 'auto' or one of {', '.join(PRESSURE_UNITS)}"
        ) from None


def guess_unit_factor(value: float) -> float | None:
    """The factor that makes ``value`` a plausible pressure in Pa, or None if none does."""
    if not math.isfinite(value) or value <= 0.0:
        return None
    for factor in PRESSURE_UNITS.values():
        if PLAUSIBLE_PA[0] <= value * factor <= PLAUSIBLE_PA[1]:
            return factor
    return None


__all__ = ['PLAUSIBLE_PA', 'PRESSURE_UNITS', 'guess_unit_factor', 'unit_factor']
