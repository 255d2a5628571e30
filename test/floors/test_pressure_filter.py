from __future__ import annotations

import math

import numpy as np
import pytest

from multifloor_slam.errors import ConfigError
from multifloor_slam.floors.params import FloorEstimatorParams
from multifloor_slam.floors.pressure_filter import PressureFilter


def _feed(f: PressureFilter, samples: list[tuple[float, float]]) -> list:
    return [f.push(t, p) for t, p in samples]


def test_every_kind_of_bad_sample_is_counted_and_dropped() -> None:
    f = PressureFilter(FloorEstimatorParams())
    good = [(i * 0.1, 101325.0) for i in range(10)]
    _feed(f, good)
    bad = [
        (1.1, math.nan),
        (1.2, math.inf),
        (1.3, 0.0),
        (1.4, -5.0),
        (1.5, 20000.0),  # 20 kPa: not a place a robot goes
        (1.6, 2.0e5),
        (math.nan, 101325.0),
        (0.9, 101325.0),  # duplicate stamp of the last good sample
        (0.5, 101325.0),  # backwards
        (0.9000001, 101325.0),  # burst: closer than min_sample_interval_s
    ]
    outputs = _feed(f, bad)
    assert all(level is None and gap == 0.0 for level, gap in outputs)
    s = f.stats
    assert (s['not_finite'], s['out_of_range'], s['bad_stamp']) == (2, 4, 1)
    assert (s['duplicate_stamp'], s['backwards_stamp'], s['burst']) == (1, 1, 1)
    assert s['accepted'] == 10


def test_running_median_removes_spikes_and_counts_them() -> None:
    rng = np.random.default_rng(0)
    f = PressureFilter(FloorEstimatorParams())
    levels = []
    for i in range(500):
        p = 100000.0 + rng.normal(0, 0.5) + (300.0 if i % 50 == 25 and i > 50 else 0.0)
        level, _ = f.push(i * 0.04, p)
        if level is not None:
            levels.append(level.pressure_pa)
    assert f.stats['spikes'] == 9  # after a 2 s warm-up
    assert max(abs(np.array(levels) - 100000.0)) < 3.0
    assert f.sigma_pa == pytest.approx(0.5, rel=0.3)


def test_gap_is_reported_and_resets_the_window() -> None:
    f = PressureFilter(FloorEstimatorParams(gap_reset_s=3.0))
    _feed(f, [(i * 0.1, 101000.0) for i in range(20)])
    level, gap = f.push(10.0, 101000.0)
    assert gap == pytest.approx(8.1) and level is None  # window refills first
    assert f.stats['gaps'] == 1


def test_params_are_validated() -> None:
    with pytest.raises(ConfigError):
        FloorEstimatorParams(min_step_m=0.0)
    with pytest.raises(ConfigError):
        FloorEstimatorParams(min_pressure_pa=120000.0)
    with pytest.raises(ConfigError):
        FloorEstimatorParams(stop_window_max_s=0.5)
    with pytest.raises(ConfigError):
        FloorEstimatorParams(gap_reset_s=math.nan)
