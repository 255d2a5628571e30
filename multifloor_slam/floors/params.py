"""Parameters of the barometric floor estimator (one frozen dataclass, every threshold)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from multifloor_slam.errors import ConfigError

#: ROS parameter descriptions, one per field of :class:`FloorEstimatorParams`.
PARAM_DESCRIPTIONS: dict[str, str] = {
    'min_pressure_pa': 'samples below this pressure (Pa) are rejected as absurd',
    'max_pressure_pa': 'samples above this pressure (Pa) are rejected as absurd',
    'min_sample_interval_s': 'a sample this close (s) to the previous one is a burst: dropped',
    'gap_reset_s': 'a stamp gap longer than this (s) resets the filter windows',
    'spike_window_s': 'running-median window (s, at least 3 samples) against spikes',
    'spike_max_samples': 'upper bound of the running-median window in samples',
    'spike_gate_pa': 'a sample this far (Pa) from the running median is counted as a spike',
    'noise_init_pa': 'initial sensor noise RMS guess (Pa); learned online while parked',
    'start_threshold_pa': 'deviation (Pa) from the parked level that opens a ride candidate',
    'start_noise_sigmas': 'the start threshold is at least this many level-noise sigmas',
    'ride_confirm_pa': 'deviation (Pa) from the parked level that sets riding=true',
    'anchor_tau_s': 'time constant (s) of the parked-level tracker (drift re-anchoring)',
    'stop_window_s': 'shortest flat window (s) that ends a ride',
    'stop_window_max_s': 'longest window (s) the stop test may grow to on noisy sensors',
    'stop_min_samples': 'fewest samples in the stop window (1 Hz phones: 3 samples = 2 s)',
    'stop_rate_pa_s': 'a ride ends when the pressure rate stays below this (Pa/s)',
    'stop_rate_fraction': 'a fast car is stopped below this fraction of its mean ride rate',
    'stop_rate_max_pa_s': 'upper bound (Pa/s) of that ride-scaled stop rate',
    'stop_noise_sigmas': 'the stop window grows until the rate noise is this many times smaller',
    'early_stop_samples': 'a slow sensor shows a known floor after this many flat levels (0: off)',
    'early_snap_m': 'that early floor must lie this close (m) to a known floor',
    'early_max_speed_mps': 'an early floor reached faster than this (m/s) is not shown (spikes)',
    'pre_window_s': 'stationary window (s) before a ride whose median is the start level',
    'post_window_s': 'window (s) after a ride that re-checks the floor and refines the table',
    'merge_window_s': 'moving on the same way this soon (s) after a stop continues the ride',
    'stop_report_min_s': 'a continued ride whose pause stood this long (s) still reports the stop',
    'max_ride_s': 'a ride candidate longer than this (s) is abandoned (no floor change)',
    'min_transition_s': 'a smaller step faster than this (10-90 %, s) is a door/HVAC step',
    'max_jump_fraction': 'a smaller step made this much by two sample jumps (>= 2 Hz) is doors',
    'max_plateau_s': 'a smaller step that stood still this long (s) half-way may be door steps',
    'jumpy_min_step_m': 'smallest step (m) accepted when its shape is jumpy (low sample rates)',
    'plateau_min_jump_fraction': 'the plateau test needs at least this much of the step in jumps',
    'max_path_deviation': 'a new floor from a step this far off a ramp (10-90 %) is held',
    'unsteady_max_step_m': 'that hold is only for new floors from steps under this height (m)',
    'path_max_interval_s': 'and only for sensors sampling at least this often (s between samples)',
    'slow_sensor_interval_s': 'this far between samples (s) every such new floor is held',
    'hold_recent_s': 'a held step is given up when the level of the last this many s is back',
    'short_stop_s': 'a stop this short (s) is measured on both levels of a door step in it',
    'short_stop_miss_m': 'the other level is taken when the ride missed its floor by this (m)',
    'stepwise_hold_s': 'such a stepwise step is published only if it still stands this long (s)',
    'abrupt_max_step_m': 'steps up to this height (m) may be rejected as abrupt door/HVAC steps',
    'min_step_m': 'smallest height change (m) accepted as a floor change',
    'snap_tolerance_frac': 'snap tolerance as a fraction of the local floor spacing',
    'snap_tolerance_min_m': 'smallest snap tolerance (m)',
    'snap_tolerance_max_m': 'largest snap tolerance (m)',
    'new_floor_min_separation_m': 'a new floor must be at least this far (m) from known floors',
    'nominal_storey_m': 'storey height (m) used only to number floors skipped by a ride',
    'max_storey_m': 'a ride up to this height (m) to a new top or bottom floor is one storey',
    'default_temperature_c': 'air temperature (C) when the sensor gives none',
    'table_max_observations': 'elevation observations kept per floor (running median)',
    'table_update_min_confidence': 'rides at least this confident refine the floor table',
    'max_drift_pa_per_h': 'largest weather drift (Pa/h); bounds what a sensor gap may explain',
    'unknown_gap_s': 'after a sensor gap this long (s) the floor is unknown unless one floor fits',
    'elevator_state_timeout_s': 'an elevator state older than this (s) is ignored',
    'elevator_step_factor': 'min step and start threshold factor when the camera saw the car',
    'no_elevator_step_factor': 'min step factor when the camera says there is no elevator',
    'elevator_confidence_boost': 'confidence added when the camera saw the car',
    'no_elevator_confidence_factor': 'confidence factor when the camera says no elevator',
}


@dataclass(frozen=True)
class FloorEstimatorParams:
    """Every threshold of the floor estimator, with defaults for real buildings and sensors.

    Defaults come from the physics (about 12 Pa per metre, storeys 2.8-7 m), elevator comfort
    limits and the noise of MEMS barometers and phones; see docs/floor_estimation.md.
    """

    # sample validation
    min_pressure_pa: float = 30000.0
    max_pressure_pa: float = 115000.0
    min_sample_interval_s: float = 0.001
    gap_reset_s: float = 3.0
    # filtering
    spike_window_s: float = 0.5
    spike_max_samples: int = 15
    spike_gate_pa: float = 20.0
    noise_init_pa: float = 1.0
    # ride detection
    start_threshold_pa: float = 10.0
    start_noise_sigmas: float = 5.0
    ride_confirm_pa: float = 20.0
    anchor_tau_s: float = 20.0
    stop_window_s: float = 1.0
    stop_window_max_s: float = 6.0
    stop_min_samples: int = 3
    stop_rate_pa_s: float = 1.5
    stop_rate_fraction: float = 0.2
    stop_rate_max_pa_s: float = 4.0
    stop_noise_sigmas: float = 3.0
    early_stop_samples: int = 2
    early_snap_m: float = 0.5
    early_max_speed_mps: float = 10.0
    pre_window_s: float = 60.0
    post_window_s: float = 60.0
    merge_window_s: float = 5.0
    stop_report_min_s: float = 4.5
    max_ride_s: float = 300.0
    # floor decision and table
    min_transition_s: float = 1.0
    max_jump_fraction: float = 0.85
    max_plateau_s: float = 3.0
    plateau_min_jump_fraction: float = 0.6
    stepwise_hold_s: float = 25.0
    max_path_deviation: float = 0.1
    unsteady_max_step_m: float = 2.6
    path_max_interval_s: float = 0.12
    slow_sensor_interval_s: float = 0.9
    hold_recent_s: float = 5.0
    short_stop_s: float = 20.0
    short_stop_miss_m: float = 0.3
    abrupt_max_step_m: float = 3.2
    jumpy_min_step_m: float = 2.6
    min_step_m: float = 2.0
    snap_tolerance_frac: float = 0.35
    snap_tolerance_min_m: float = 0.7
    snap_tolerance_max_m: float = 1.5
    new_floor_min_separation_m: float = 1.6
    nominal_storey_m: float = 3.5
    max_storey_m: float = 7.5
    default_temperature_c: float = 20.0
    table_max_observations: int = 20
    table_update_min_confidence: float = 0.6
    max_drift_pa_per_h: float = 250.0
    unknown_gap_s: float = 10.0
    # elevator state from the camera
    elevator_state_timeout_s: float = 30.0
    elevator_step_factor: float = 0.8
    no_elevator_step_factor: float = 1.3
    elevator_confidence_boost: float = 0.2
    no_elevator_confidence_factor: float = 0.7

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f'floor estimator: {f.name} must be a number, got {value!r}')
            if not math.isfinite(value):
                raise ConfigError(f'floor estimator: {f.name} must be finite')
            if f.name != 'default_temperature_c' and value < 0:
                raise ConfigError(f'floor estimator: {f.name} must be >= 0, got {value}')
        positive = (
            'gap_reset_s',
            'spike_window_s',
            'anchor_tau_s',
            'stop_window_s',
            'stop_rate_pa_s',
            'stop_noise_sigmas',
            'pre_window_s',
            'max_ride_s',
            'early_max_speed_mps',
            'min_step_m',
            'nominal_storey_m',
            'max_pressure_pa',
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f'floor estimator: {name} must be > 0')
        if self.min_pressure_pa >= self.max_pressure_pa:
            raise ConfigError('floor estimator: min_pressure_pa must be < max_pressure_pa')
        if self.stop_window_max_s < self.stop_window_s:
            raise ConfigError('floor estimator: stop_window_max_s must be >= stop_window_s')
        if self.snap_tolerance_max_m < self.snap_tolerance_min_m:
            raise ConfigError('floor estimator: snap_tolerance_max_m must be >= the minimum')
        if self.early_stop_samples == 1:
            raise ConfigError('floor estimator: early_stop_samples must be 0 (off) or >= 2')
        if self.stop_min_samples < 2 or self.spike_max_samples < 1:
            raise ConfigError('floor estimator: stop_min_samples >= 2, spike_max_samples >= 1')
        if self.table_max_observations < 1:
            raise ConfigError('floor estimator: table_max_observations must be >= 1')
        if not 0.0 <= self.table_update_min_confidence <= 1.0:
            raise ConfigError('floor estimator: table_update_min_confidence must be in [0, 1]')
        if not -80.0 <= self.default_temperature_c <= 80.0:
            raise ConfigError('floor estimator: default_temperature_c must be in [-80, 80]')


__all__ = ['PARAM_DESCRIPTIONS', 'FloorEstimatorParams']
