"""Shape tests of a pressure step: a door or HVAC step, or a car moving between floors.

Doors and HVAC change the pressure within a sample, or in a few jumps with flat stretches
between; a car needs seconds and moves smoothly. Only steps small enough for doors to fake
are judged by their shape; a larger one is a ride whatever it looks like.
"""

from __future__ import annotations

from multifloor_slam.floors.params import FloorEstimatorParams
from multifloor_slam.floors.ride_detector import Step


def door_like(step: Step, dz: float, p: FloorEstimatorParams) -> bool:
    """Is ``step`` (height ``dz`` m) shaped like a door/HVAC step rather than a car?"""
    if step.sample_interval_s <= p.min_transition_s / 3.0:
        abrupt = p.min_transition_s
    else:
        # Too few samples to time a ride: only a jump with no sample on the way counts.
        abrupt = 0.5 * step.sample_interval_s
    slow_rate = step.sample_interval_s > p.min_transition_s / 3.0
    quick = slow_rate and step.transition_s <= 1.5 * step.sample_interval_s
    # At low rates a fast car and two door steps in a row look alike: ask for more height
    # than they can fake.
    jumpy = step.jump_fraction > p.max_jump_fraction
    return (
        abs(dz) < p.abrupt_max_step_m
        and (step.transition_s < abrupt or (step.sample_interval_s <= 0.6 and jumpy))
    ) or ((quick or jumpy) and abs(dz) < p.jumpy_min_step_m)


def stepwise(step: Step, dz: float, p: FloorEstimatorParams) -> bool:
    """A smaller step made of jumps with a flat stretch half-way (door steps or ride+door)."""
    return (
        abs(dz) < p.abrupt_max_step_m
        and step.plateau_s >= p.max_plateau_s
        and step.jump_fraction >= p.plateau_min_jump_fraction
    )


def unsteady_new(step: Step, dz: float, p: FloorEstimatorParams) -> bool:
    """A small step to a new floor whose path is not a car's steady ramp (doors overlapping).

    Two door steps overlapping make a 2-2.5 m "new floor" that returns when the first door
    closes; a car ride of that size moves at a steady rate through its middle. Only a fast
    sensor samples the path densely enough to tell (below ~8 Hz real rides look as bumpy). A
    sensor as slow as a phone's (``slow_sensor_interval_s``) sees both as two or three jumps,
    so every such new floor from it waits: door steps return, a floor stays.
    """
    if abs(dz) >= p.unsteady_max_step_m:
        return False
    if step.sample_interval_s >= p.slow_sensor_interval_s:
        return True
    return (
        step.sample_interval_s <= p.path_max_interval_s
        and step.path_deviation >= p.max_path_deviation
    )


__all__ = ['door_like', 'stepwise', 'unsteady_new']
