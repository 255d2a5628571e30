"""The leg after a reported stop inside a continued ride: told from the stop's floor."""

from __future__ import annotations

from dataclasses import replace

from multifloor_slam.floors.floor_table import FloorTable
from multifloor_slam.floors.outputs import Decision, RideEvent
from multifloor_slam.floors.ride_detector import Step


def resumed_event(
    table: FloorTable, decision: Decision | None, step: Step, stood: Decision, event: RideEvent
) -> RideEvent | None:
    """The event of the leg after a stop where the car stood ``stop_report_min_s`` or more.

    Its floor is decided from the ride's origin (both windows long and steady), but the car
    stopped there for its doors: the event starts where the car moved on, from the stop's
    floor, so it supersedes nothing and the stop stays reported. ``decision`` (the leg's own)
    is dated from that moment, so its re-checks supersede this event.
    """
    frm = stood.to_floor
    if frm not in table or frm == event.to_floor:
        return None
    if decision is not None:
        decision.t_event = step.t_resume
    return replace(
        event,
        t_start=step.t_resume,
        from_floor=frm,
        from_label=table.label(frm),
        dz_m=table.elevation(event.to_floor) - table.elevation(frm),
        dp_pa=stood.step.p_after - step.p_after,
    )


__all__ = ['resumed_event']
