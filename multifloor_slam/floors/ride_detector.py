"""Elevator-ride detection with hysteresis on a filtered pressure level.

While parked, a slow tracker follows the pressure (weather drift, HVAC), which re-anchors the
reference continuously. A ride candidate opens when the level leaves that anchor by more than
the start threshold (noise-scaled), and becomes a ride (``riding``) beyond the confirm
threshold. It closes when a trailing window is flat: its regression slope is below
``stop_rate_pa_s``, and the window is long enough for the slope noise to be well below that
(a noisy 1 Hz phone waits longer than a 25 Hz MEMS board). The step is the median level of
the stationary window before the motion minus the median after it; a refined value follows
after ``post_window_s``. Using levels rather than rates makes a 0.3 m/s car and a 6 m/s car
look alike: both leave the anchor and come to rest.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from multifloor_slam.floors.params import FloorEstimatorParams
from multifloor_slam.floors.pressure_filter import Level
from multifloor_slam.floors.step_features import shape_features

#: Longest time (s) searched back from the detection for the start of the motion.
_MAX_BACKTRACK_S = 60.0
#: Smallest abrupt jump (Pa) inside a short stop window taken for a door step.
_JUMP_MIN_PA = 5.0
#: Largest share of a step made in its two largest sample jumps for it to be a car's ramp.
_RAMP_MAX_JUMP_FRACTION = 0.5


@dataclass(frozen=True)
class Step:
    """A pressure step between two stationary windows (a ride, a door step, or a gap)."""

    t_start: float  # motion start (or the last sample before a gap)
    t_stop: float  # start of the stationary window after the motion
    t_decided: float  # stamp of the sample that closed the step
    p_before: float
    p_after: float
    sigma_pa: float  # noise RMS of p_before - p_after
    confirmed: bool  # the level left the anchor by more than the confirm threshold
    gap_s: float  # > 0 when the step spans a silent sensor
    refined: bool = False  # p_after is the median over a longer post-stop window
    final: bool = True  # the last refinement of this step (interim re-checks come earlier)
    continued: bool = False  # continues the previous step (the car had not really stopped)
    transition_s: float = math.inf  # 10 %-90 % time of the level change (a door step: ~0)
    jump_fraction: float = 0.0  # share of the change made in the two largest sample steps
    plateau_s: float = 0.0  # longest flat stretch inside the 10 %-90 % transition
    path_deviation: float = 0.0  # mean distance of the 10 %-90 % path from a straight ramp
    sample_interval_s: float = 0.0
    provisional: bool = False  # an early look at a slow sensor's stop; the ride is still open
    p_recent: float = math.nan  # re-checks: the level over the window's last hold_recent_s
    t_resume: float = math.nan  # continued after a real stop: where the car moved on again
    p_alts: tuple[float, ...] = ()  # short stop: the levels before and after a jump inside it


def _median(values: list[float]) -> float:
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


class RideDetector:
    """Hysteresis state machine: parked -> candidate -> riding -> parked."""

    def __init__(self, params: FloorEstimatorParams) -> None:
        self._p = params
        self._anchor: float | None = None
        self._hist: deque[tuple[float, float]] = deque()
        self._episode = False
        self._confirmed = False
        self._gap_s = 0.0
        self._t_start = 0.0
        self._p_before = 0.0
        self._sigma_before = 0.0
        self._ep_t: deque[float] = deque()
        self._ep_p: deque[float] = deque()
        self._t_min_window = -math.inf
        self._t_open = -math.inf
        self._t_last_stop = -math.inf
        self._stop_span = params.stop_window_s
        self._pending: Step | None = None
        self._checkpoints: list[float] = []
        self._last_step: Step | None = None
        self._continued = False
        self._t_resume = math.nan
        self._post: list[tuple[float, float]] = []
        self.start_scale = 1.0
        self._noise = params.noise_init_pa

    @property
    def active(self) -> bool:
        """A ride candidate is open."""
        return self._episode

    @property
    def riding(self) -> bool:
        """The open candidate moved far enough to be a ride."""
        return self._episode and self._confirmed

    @property
    def anchor(self) -> float | None:
        """Parked reference level (Pa), or the level before the open ride."""
        return self._p_before if self._episode else self._anchor

    def ride_ended(self, t_stop: float) -> None:
        """The caller decided a floor change that ended at ``t_stop``.

        Only a real ride bounds the next start window: after a door step the window reaches
        back across it, so its median still sees the undisturbed level. A held step is
        published as the next ride begins, whose start level was then taken across it: that
        level is taken again from the held step's stop.
        """
        open_after = self._episode and not self._continued and self._t_start > t_stop
        if open_after and t_stop > self._t_last_stop and self._gap_s <= 0.0:
            self._t_last_stop = t_stop
            self._p_before = self._before_level(self._t_start)
        self._t_last_stop = max(self._t_last_stop, t_stop)

    def on_gap(self, t_last: float, gap_s: float) -> None:
        """The sensor was silent for ``gap_s``: windows reset, a parked robot may have moved.

        While parked the level before the gap becomes the start of a gap step; the caller
        checks whether the step is more than drift could explain. An open ride stays open.
        """
        self._t_min_window = t_last + gap_s
        if self._episode:
            self._gap_s += gap_s
            return
        if self._anchor is None:
            return
        self._open(t_last, self._before_level(t_last), confirmed=False)
        self._gap_s = gap_s

    def push(self, level: Level) -> tuple[Step | None, Step | None]:
        """Feed one filtered level; returns (step decided now, refined step of a past ride)."""
        t, y = level.t, level.pressure_pa
        self._noise = level.noise_pa
        refined = None
        hist = self._hist
        hist.append((t, y))
        horizon = t - self._p.pre_window_s - _MAX_BACKTRACK_S
        while hist and hist[0][0] < horizon:
            hist.popleft()
        if self._pending is not None:
            self._post.append((t, y))
            if t >= self._pending.t_decided + self._p.post_window_s:
                refined = self._refine(math.inf)
            elif self._checkpoints and t >= self._checkpoints[0]:
                del self._checkpoints[0]
                refined = self._refine(math.inf, final=False)
        if self._anchor is None:
            self._anchor = y
            return None, refined
        if not self._episode:
            threshold = max(
                self._p.start_threshold_pa, self._p.start_noise_sigmas * level.sigma_pa
            )
            if abs(y - self._anchor) > threshold * self.start_scale:
                t0 = self._backtrack(level.sigma_pa, threshold)
                last = self._last_step
                dt = self._dt_estimate()
                abrupt = self._p.min_transition_s if dt <= self._p.min_transition_s / 3 else dt
                if (
                    last is not None
                    and (last.t_stop == self._t_last_stop or self._unpublished_ramp(last))
                    and t0 - last.t_decided <= self._p.merge_window_s
                    and (y - self._anchor) * (last.p_after - last.p_before) > 0.0
                    and t - t0 >= abrupt
                ):
                    # Moving on in the same direction right after a stop: a slow car on a
                    # noisy sensor looked flat for a moment. Keep the original start.
                    self._pending = None
                    self._open(last.t_start, last.p_before, confirmed=True)
                    self._continued = True
                    if t0 - last.t_stop >= self._p.stop_report_min_s:
                        self._t_resume = t0  # the car stood long enough for its doors
                else:
                    self._open(t0, self._before_level(t0), confirmed=False)
                    # Shape tests look back to where the level last sat at p_before, so a
                    # staircase of door steps is judged as a whole.
                    near = max(2.0 * level.sigma_pa, 0.3 * threshold)
                    lo = max(t0 - self._p.pre_window_s, self._t_last_stop)
                    for tt, yy in reversed(hist):
                        if tt < lo or abs(yy - self._p_before) <= near:
                            t0 = min(t0, max(tt, lo))
                            break
                self._stop_span = self._stop_span_for(level.noise_pa)
                self._ep_t.extend(tt for tt, _ in hist if tt >= t0)
                self._ep_p.extend(yy for tt, yy in hist if tt >= t0)
            else:
                alpha = min(1.0, self._p_dt(t) / self._p.anchor_tau_s)
                self._anchor += alpha * (y - self._anchor)
                return None, refined
        else:
            self._ep_t.append(t)
            self._ep_p.append(y)
        if not self._confirmed:
            confirm = max(self._p.ride_confirm_pa, self._p.start_threshold_pa)
            self._confirmed = abs(y - self._p_before) > confirm * self.start_scale
            if self._confirmed and self._pending is not None:
                # A new ride: the last one's post window ends where this motion began.
                refined = self._refine(self._t_start)
        return self._check_stop(t, level), refined

    # ---------------------------------------------------------------- internals
    def _unpublished_ramp(self, last: Step) -> bool:
        """Was ``last``, not taken for a ride, still a car's steady motion (not a door step)?

        A door step against a slow car's motion can hold the level flat long enough to end
        the episode half-way; the first half, under a storey, is refused or held back. When
        the car moves on the same way, it is one ride: continued, not a second one.
        """
        slow = max(self._p.min_transition_s, 2.0 * last.sample_interval_s)
        return (
            last.t_stop > self._t_last_stop
            and last.confirmed
            and last.gap_s <= 0.0
            and last.transition_s >= slow
            and last.jump_fraction <= _RAMP_MAX_JUMP_FRACTION
        )

    def _p_dt(self, t: float) -> float:
        if len(self._hist) < 2:
            return 0.0
        return max(0.0, t - self._hist[-2][0])

    def _open(self, t0: float, p_before: float, confirmed: bool) -> None:
        self._episode = True
        self._t_open = self._hist[-1][0] if self._hist else t0
        self._confirmed = confirmed
        self._gap_s = 0.0
        self._continued = False
        self._t_resume = math.nan
        self._t_start = t0
        self._p_before = p_before
        self._ep_t.clear()
        self._ep_p.clear()

    def _backtrack(self, sigma: float, threshold: float) -> float:
        """Stamp where the level last sat at the anchor before the detection."""
        near = max(2.0 * sigma, 0.3 * threshold)
        anchor = self._anchor if self._anchor is not None else 0.0
        for tt, yy in reversed(self._hist):
            if abs(yy - anchor) <= near:
                return tt
        return self._hist[0][0]

    def _before_level(self, t0: float) -> float:
        """Level at ``t0`` from the stationary window before it (the anchor if it is empty)."""
        lo = max(t0 - self._p.pre_window_s, self._t_last_stop)
        window = [(tt, yy) for tt, yy in self._hist if lo <= tt <= t0]
        self._sigma_before = 1.0
        if not window:
            return self._anchor if self._anchor is not None else 0.0
        self._sigma_before = 1.2533 / math.sqrt(len(window))
        return self._level_at(window, t0)

    def _level_at(
        self, window: list[tuple[float, float]], t_ref: float, recent_s: float = math.inf
    ) -> float:
        """Median of a stationary window, drift-corrected to the stamp ``t_ref``.

        A long window resists door and HVAC steps, but its plain median would lag a storm's
        drift by half its length (up to 2 Pa). The drift is the slope between the medians of
        the two halves, bounded by ``max_drift_pa_per_h`` so a door step cannot fake one.
        With ``recent_s`` the median is over the window's last ``recent_s`` seconds only
        (the drift still from the whole window): where the level stands now.
        """
        slope = 0.0
        if len(window) >= 6 and window[-1][0] - window[0][0] >= 10.0:
            half = len(window) // 2
            first, second = window[:half], window[half:]
            dt = _median([t for t, _ in second]) - _median([t for t, _ in first])
            if dt > 0.0:
                slope = (_median([y for _, y in second]) - _median([y for _, y in first])) / dt
                bound = self._p.max_drift_pa_per_h / 3600.0
                slope = min(max(slope, -bound), bound)
        t_from = window[-1][0] - recent_s
        return _median([y + slope * (t_ref - t) for t, y in window if t >= t_from])

    def _split_levels(self, window: list[tuple[float, float]], t_ref: float) -> tuple[float, ...]:
        """Levels before and after the largest abrupt jump in a short stop window, if any.

        A door step that opens or closes during a short stop leaves two levels, and the window
        alone cannot tell which is the floor's; the caller asks the floor table.
        """
        n = len(window)
        dt = (window[-1][0] - window[0][0]) / max(n - 1, 1)
        m = max(2, round(1.0 / max(dt, 1e-3)))
        if n < 2 * m:
            return ()
        ys = [y for _, y in window]
        noise = self._noise
        bound = max(_JUMP_MIN_PA, 5.0 * noise / math.sqrt(m))
        best, cut = bound, 0
        for i in range(m, n - m + 1):
            d = abs(_median(ys[i : i + m]) - _median(ys[i - m : i]))
            if d > best:
                best, cut = d, i
        if not cut:
            return ()
        return self._level_at(window[:cut], t_ref), self._level_at(window[cut:], t_ref)

    def _stop_rate(self, t: float, y: float) -> float:
        """Rate (Pa/s) below which the car counts as stopped, scaled by how fast it moved.

        A car never creeps mid-ride: it moves at full speed until it brakes. The episode's mean
        rate so far (a lower bound of its cruise rate) therefore sets how slow "stopped" must
        be; a slow car keeps the strict ``stop_rate_pa_s``, a fast one is judged sooner.
        """
        p = self._p
        mean_rate = abs(y - self._p_before) / max(t - self._t_start, 1e-3)
        cap = max(p.stop_rate_max_pa_s, p.stop_rate_pa_s)
        return min(max(p.stop_rate_pa_s, p.stop_rate_fraction * mean_rate), cap)

    def _stop_span_for(self, noise: float, rate: float | None = None) -> float:
        """Shortest stop window whose slope noise is stop_noise_sigmas below the stop rate.

        The running-median outputs are correlated, so the slope noise is that of a regression
        on the raw samples (``noise`` is the raw RMS), a little worse for the median.
        """
        rate = self._p.stop_rate_pa_s if rate is None else rate
        target = rate / self._p.stop_noise_sigmas
        dt = max(1e-3, self._dt_estimate())
        span = self._p.stop_window_s
        while span < self._p.stop_window_max_s:
            n = span / dt + 1.0
            if 1.2533 * noise / math.sqrt(max(n * span * span / 12.0, 1e-9)) <= target:
                break
            span += 0.25
        return min(span, self._p.stop_window_max_s)

    def _dt_estimate(self) -> float:
        h = self._hist
        if len(h) < 2:
            return 0.1
        return (h[-1][0] - h[0][0]) / (len(h) - 1)

    def _check_stop(self, t: float, level: Level) -> Step | None:
        # Time in motion, not counting a sensor gap (a long gap is judged as a gap step).
        if t - max(self._t_start, self._t_min_window) > self._p.max_ride_s:
            self._close(t)
            self._anchor = level.pressure_pa
            return None
        stop_rate = self._stop_rate(t, level.pressure_pa)
        if stop_rate > self._p.stop_rate_pa_s:
            self._stop_span = self._stop_span_for(level.noise_pa, stop_rate)
        else:
            self._stop_span = self._stop_span_for(level.noise_pa)
        lo = t - self._stop_span
        ts, ps = self._ep_t, self._ep_p
        n = 0
        floor_t = max(self._t_min_window, self._t_open)
        for tt in reversed(ts):
            if tt < floor_t or (tt < lo and n >= self._p.stop_min_samples):
                break
            n += 1
        if n < self._p.stop_min_samples or ts[-n] > lo + 0.4 * self._stop_span:
            return self._early(t, level, stop_rate)
        wt = list(ts)[-n:]
        wp = list(ps)[-n:]
        mt = sum(wt) / n
        mp = sum(wp) / n
        sxx = sum((a - mt) ** 2 for a in wt)
        if sxx <= 0.0:
            return None
        slope = sum((a - mt) * (b - mp) for a, b in zip(wt, wp, strict=True)) / sxx
        if abs(slope) > stop_rate:
            return self._early(t, level, stop_rate)
        # A step inside the window (a door or HVAC step during a slow ride) can cancel the
        # slope; a flat window also has residuals at the noise level.
        ss = sum((b - mp - slope * (a - mt)) ** 2 for a, b in zip(wt, wp, strict=True))
        rms = math.sqrt(ss / max(n - 2, 1))
        bound = max(2.5 * level.sigma_pa, 0.25 * self._p.start_threshold_pa)
        if rms > bound:
            return None
        # A door step arriving on the last sample cancels a slow ride's slope while its one
        # residual keeps the rms low: the newest level must sit on the fitted line too.
        if abs(wp[-1] - mp - slope * (wt[-1] - mt)) > 1.5 * bound:
            return None
        p_after = sorted(wp)[n // 2]
        sigma_after = level.sigma_pa * 1.2533 / math.sqrt(n)
        sigma_before = level.sigma_pa * self._sigma_before
        shape = self._shape(p_after, level.sigma_pa)
        step = Step(
            t_start=self._t_start,
            t_stop=wt[0],
            t_decided=t,
            p_before=self._p_before,
            p_after=p_after,
            sigma_pa=math.hypot(sigma_after, sigma_before),
            confirmed=self._confirmed,
            gap_s=self._gap_s,
            continued=self._continued,
            t_resume=self._t_resume,
            transition_s=shape[0],
            jump_fraction=shape[1],
            plateau_s=shape[2],
            path_deviation=shape[3],
            sample_interval_s=self._dt_estimate(),
        )
        confirmed = self._confirmed
        self._close(wt[0])
        self._anchor = p_after
        self._last_step = step
        if self._pending is None or confirmed:
            self._pending = step
            self._post = list(zip(wt, wp, strict=True))
            window = self._p.post_window_s
            self._checkpoints = [t + window / 6.0, t + window / 2.0]
        # else: a door step after a ride; the ride's post window goes on across it.
        return step

    def _early(self, t: float, level: Level, stop_rate: float) -> Step | None:
        """A provisional stop from the last ``early_stop_samples`` levels of a slow sensor.

        A 1 Hz sensor needs several flat samples before the slope is known well enough to end
        the ride. The last few levels already say where the car is; the estimator publishes
        them only when they land close to a known floor, and the full stop test decides.
        """
        k = self._p.early_stop_samples
        ts, ps = self._ep_t, self._ep_p
        if k < 2 or not self._confirmed or self._continued or self._gap_s > 0.0 or len(ts) < k:
            return None
        t0 = ts[-k]
        span = ts[-1] - t0
        if t0 < max(self._t_min_window, self._t_open) or span < 0.9 * self._p.stop_window_s:
            return None
        wp = [ps[-i] for i in range(k, 0, -1)]
        if abs(wp[-1] - wp[0]) > max(stop_rate * span, 3.0 * level.sigma_pa):
            return None
        p_after = _median(wp)
        shape = self._shape(p_after, level.sigma_pa)
        return Step(
            t_start=self._t_start,
            t_stop=t0,
            t_decided=t,
            p_before=self._p_before,
            p_after=p_after,
            sigma_pa=math.hypot(level.sigma_pa, level.sigma_pa * self._sigma_before),
            confirmed=True,
            gap_s=0.0,
            transition_s=shape[0],
            jump_fraction=shape[1],
            plateau_s=shape[2],
            path_deviation=shape[3],
            sample_interval_s=self._dt_estimate(),
            provisional=True,
        )

    def _shape(self, p_after: float, sigma: float) -> tuple[float, float, float, float]:
        """Shape features of this episode's level change (none across a gap or a merge)."""
        if p_after == self._p_before or self._gap_s > 0.0 or self._continued:
            return math.inf, 0.0, 0.0, 0.0
        ts = np.fromiter(self._ep_t, float)
        frac = (np.fromiter(self._ep_p, float) - self._p_before) / (p_after - self._p_before)
        return shape_features(ts, frac, sigma / abs(p_after - self._p_before), self._dt_estimate())

    def _close(self, t: float) -> None:
        self._episode = False
        self._confirmed = False
        self._ep_t.clear()
        self._ep_p.clear()

    def _refine(self, t_end: float, final: bool = True) -> Step | None:
        """The pending step with p_after from all post-stop samples before ``t_end``."""
        step = self._pending
        window = [(tt, yy) for tt, yy in self._post if tt < t_end]
        if final:
            self._pending, self._post, self._checkpoints = None, [], []
        if step is None or not window:
            return None
        p_after = self._level_at(window, step.t_stop)
        alts: tuple[float, ...] = ()
        if final and t_end < math.inf and window[-1][0] - step.t_stop <= self._p.short_stop_s:
            alts = self._split_levels(window, step.t_stop)
        return Step(
            p_alts=alts,
            p_recent=self._level_at(window, step.t_stop, self._p.hold_recent_s),
            t_start=step.t_start,
            t_stop=step.t_stop,
            t_decided=step.t_decided,
            p_before=step.p_before,
            p_after=p_after,
            sigma_pa=step.sigma_pa,
            confirmed=step.confirmed,
            gap_s=step.gap_s,
            refined=True,
            final=final,
            continued=step.continued,
            t_resume=step.t_resume,
            transition_s=step.transition_s,
            jump_fraction=step.jump_fraction,
            plateau_s=step.plateau_s,
            path_deviation=step.path_deviation,
            sample_interval_s=step.sample_interval_s,
        )


__all__ = ['RideDetector', 'Step']
