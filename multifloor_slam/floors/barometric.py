"""Pressure <-> relative altitude (hypsometric equation)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Specific gas constant of dry air, J/(kg K).
R_DRY_AIR = 287.05
#: Standard gravity, m/s^2.
G0 = 9.80665
#: Temperature assumed when the sensor gives none, deg C.
DEFAULT_TEMPERATURE_C = 20.0
#: Standard sea-level pressure, Pa.
P_STANDARD = 101325.0


def _scale_height(temperature_c: ArrayLike) -> NDArray[np.float64]:
    return R_DRY_AIR * (np.asarray(temperature_c, dtype=np.float64) + 273.15) / G0


def pressure_to_altitude(
    pressure_pa: ArrayLike,
    reference_pa: ArrayLike,
    temperature_c: ArrayLike = DEFAULT_TEMPERATURE_C,
) -> NDArray[np.float64]:
    """Altitude (m) of ``pressure_pa`` above the level where the pressure is ``reference_pa``.

    A 1 K temperature error changes a height difference by only 0.34 %, so the default
    temperature is good enough for floor counting when the sensor reports none.
    """
    p = np.asarray(pressure_pa, dtype=np.float64)
    return _scale_height(temperature_c) * np.log(np.asarray(reference_pa, dtype=np.float64) / p)


def altitude_to_pressure(
    altitude_m: ArrayLike,
    reference_pa: ArrayLike = P_STANDARD,
    temperature_c: ArrayLike = DEFAULT_TEMPERATURE_C,
) -> NDArray[np.float64]:
    """Inverse of :func:`pressure_to_altitude`."""
    z = np.asarray(altitude_m, dtype=np.float64)
    return np.asarray(reference_pa, dtype=np.float64) * np.exp(-z / _scale_height(temperature_c))


def pascal_per_metre(
    pressure_pa: float = P_STANDARD, temperature_c: float = DEFAULT_TEMPERATURE_C
) -> float:
    """Local vertical pressure gradient (about 12 Pa/m near sea level)."""
    return float(pressure_pa / _scale_height(temperature_c))


def scale_height_m(temperature_c: float) -> float:
    """R T / g: metres per unit of ln(p1 / p2) (about 8.4 km at 20 C), for one sample."""
    return R_DRY_AIR * (temperature_c + 273.15) / G0


class TemperatureMean:
    """Running mean of the sensor's temperature (air in the shaft), for the scale height.

    Early samples weigh fully, later ones 1 % each, so a warm-up transient fades.
    """

    def __init__(self, default_c: float = DEFAULT_TEMPERATURE_C) -> None:
        self.value_c = float(default_c)
        self._n = 0

    def update(self, temperature_c: float) -> bool:
        """Take one reading; False (and unchanged) for a reading no sensor can give."""
        if not (math.isfinite(temperature_c) and -60.0 <= temperature_c <= 85.0):
            return False
        self._n += 1
        self.value_c += max(0.01, 1.0 / self._n) * (temperature_c - self.value_c)
        return True

    @property
    def scale_height_m(self) -> float:
        """Metres per unit of ln(p1 / p2) at the mean temperature."""
        return scale_height_m(self.value_c)
