"""Sample validation, spike rejection and noise estimation for a barometer stream.

Bad samples never reach the ride detector: they are counted in :attr:`PressureFilter.stats`
(non-finite or absurd pressure, duplicated or backwards stamps, bursts, spikes) and dropped. A
stamp gap longer than ``gap_reset_s`` resets the windows and is reported to the caller, which
decides what the silence may have hidden.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from multifloor_slam.floors.params import FloorEstimatorParams

#: The counters that are rejected samples (or sample problems), as logged and reported.
REJECTION_KEYS = (
    'not_finite',
    'out_of_range',
    'bad_stamp',
    'duplicate_stamp',
    'backwards_stamp',
    'burst',
    'spikes',
    'gaps',
    'bad_temperature',
)

#: Counters in :attr:`PressureFilter.stats`, all present from the start.
STAT_KEYS = ('accepted', *REJECTION_KEYS)

#: sqrt(pi / 2): the standard error of a median of n normal samples is this * sigma / sqrt(n).
_MEDIAN_EFFICIENCY = math.sqrt(math.pi / 2.0)
#: E|x1 - x2| = this * sigma for two independent normal samples.
_MEAN_ABS_DIFF = 2.0 / math.sqrt(math.pi)


@dataclass(frozen=True)
class Level:
    """One filtered output: the running median at the stamp of the window's middle sample."""

    t: float
    pressure_pa: float
    sigma_pa: float  # noise RMS of ``pressure_pa`` (the median of the window)
    noise_pa: float  # noise RMS of one raw sample


class PressureFilter:
    """Validate raw samples, reject spikes with a centred running median, learn the noise.

    The running median covers ``spike_window_s`` (odd, 3 to ``spike_max_samples`` samples),
    so its output lags the input by half the window (0.25 s at the default, one sample at
    1 Hz). A monotone ride ramp passes through a median unchanged; an isolated outlier does
    not. The sensor noise is learned from successive differences while the caller says the
    robot is parked (``learn_noise``), because a ride would inflate it.
    """

    def __init__(self, params: FloorEstimatorParams) -> None:
        self._p = params
        self.stats: dict[str, int] = dict.fromkeys(STAT_KEYS, 0)
        self.learn_noise = True
        self._last_t: float | None = None
        self._dt = 0.1
        self._n_dt = 0
        self._mad = params.noise_init_pa * _MEAN_ABS_DIFF
        self._n_noise = 0
        self._prev_p: float | None = None
        self._last_mid_t = -math.inf
        self._n: int | None = None
        self._win_t: deque[float] = deque(maxlen=max(3, int(params.spike_max_samples) | 1))
        self._win_p: deque[float] = deque(maxlen=max(3, int(params.spike_max_samples) | 1))

    @property
    def sigma_pa(self) -> float:
        """Learned white-noise RMS of the raw samples (Pa)."""
        return self._mad / _MEAN_ABS_DIFF

    @property
    def sample_interval_s(self) -> float:
        """Typical interval between samples (s), learned online."""
        return self._dt

    @property
    def last_t(self) -> float | None:
        """Stamp of the last accepted sample."""
        return self._last_t

    def window_samples(self) -> int:
        """Running-median length in samples for the current sample rate (odd, >= 3).

        It changes only when the rate has clearly changed, so the output stamps never step
        back and no sample is judged twice.
        """
        top = max(3, int(self._p.spike_max_samples) | 1)
        ideal = self._p.spike_window_s / max(self._dt, 1e-3)
        if self._n is None or abs(ideal - self._n) > 1.5:
            n = min(max(round(ideal), 3), top)
            self._n = n if n % 2 else n - 1
        return self._n

    def reset(self) -> None:
        """Forget the windows (after a gap); the learned noise and rate stay."""
        self._win_t.clear()
        self._win_p.clear()
        self._prev_p = None

    def push(self, t: float, p: float) -> tuple[Level | None, float]:
        """Feed one raw sample; returns (filtered level or None, gap in s before it or 0)."""
        stats = self.stats
        if not math.isfinite(t):
            stats['bad_stamp'] += 1
            return None, 0.0
        if not math.isfinite(p):
            stats['not_finite'] += 1
            return None, 0.0
        if not self._p.min_pressure_pa <= p <= self._p.max_pressure_pa:
            stats['out_of_range'] += 1
            return None, 0.0
        gap = 0.0
        last = self._last_t
        if last is not None:
            dt = t - last
            if dt == 0.0:
                stats['duplicate_stamp'] += 1
                return None, 0.0
            if dt < 0.0:
                stats['backwards_stamp'] += 1
                return None, 0.0
            if dt < self._p.min_sample_interval_s:
                stats['burst'] += 1
                return None, 0.0
            if dt > self._p.gap_reset_s:
                stats['gaps'] += 1
                gap = dt
                self.reset()
            else:
                self._n_dt += 1
                alpha = max(0.02, 1.0 / self._n_dt)
                self._dt += alpha * (dt - self._dt)
        self._last_t = t
        stats['accepted'] += 1
        if self.learn_noise and self._prev_p is not None:
            self._learn_noise(abs(p - self._prev_p))
        self._prev_p = p
        self._win_t.append(t)
        self._win_p.append(p)
        n = self.window_samples()
        if len(self._win_p) < n:
            return None, gap
        window = list(self._win_p)[-n:]
        mid = len(self._win_p) - 1 - n // 2
        median = sorted(window)[n // 2]
        gate = max(self._p.spike_gate_pa, 8.0 * self.sigma_pa)
        t_mid = self._win_t[mid]
        if t_mid <= self._last_mid_t:
            return None, gap  # the window just grew (rate estimate settling): no going back
        self._last_mid_t = t_mid
        if abs(self._win_p[mid] - median) > gate:
            stats['spikes'] += 1
        sigma = _MEDIAN_EFFICIENCY * self.sigma_pa / math.sqrt(n)
        return Level(t_mid, median, sigma, self.sigma_pa), gap

    def _learn_noise(self, diff: float) -> None:
        # Clip large differences (spikes, door steps) so they cannot inflate the estimate.
        clip = 4.0 * self._mad + 0.5
        self._n_noise += 1
        alpha = max(0.005, 1.0 / (self._n_noise + 1))
        self._mad += alpha * (min(diff, clip) - self._mad)


__all__ = ['REJECTION_KEYS', 'STAT_KEYS', 'Level', 'PressureFilter']
