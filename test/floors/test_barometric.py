"""Hypsometric conversions and the running temperature the estimator uses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from multifloor_slam.floors.barometric import (
    TemperatureMean,
    altitude_to_pressure,
    pascal_per_metre,
    pressure_to_altitude,
    scale_height_m,
)
from multifloor_slam.floors.estimator import FloorEstimator


def test_altitude_round_trip_and_gradient() -> None:
    z = np.array([-10.0, 0.0, 3.5, 71.0])
    p = altitude_to_pressure(z, 101325.0, 15.0)
    assert np.allclose(pressure_to_altitude(p, 101325.0, 15.0), z, atol=1e-9)
    assert 11.5 < pascal_per_metre() < 12.5  # about 12 Pa per metre near sea level


def test_temperature_mean_refuses_impossible_readings() -> None:
    mean = TemperatureMean(20.0)
    for bad in (math.nan, math.inf, -80.0, 120.0):
        assert not mean.update(bad)
    assert mean.value_c == 20.0
    assert mean.update(30.0)
    assert mean.value_c == 30.0  # the first reading weighs fully
    for _ in range(1000):
        mean.update(10.0)
    assert mean.value_c == pytest.approx(10.0, abs=1e-3)
    assert mean.scale_height_m == pytest.approx(scale_height_m(mean.value_c))


def test_estimator_counts_bad_temperature_and_keeps_going() -> None:
    est = FloorEstimator()
    for i in range(20):
        est.update(float(i), 101325.0, math.nan if i % 2 else 25.0)
    assert est.stats['bad_temperature'] == 10
    assert est.floor == 0
