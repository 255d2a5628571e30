"""Barometric floor estimation: which floor the robot is on, from a pressure stream.

Pipeline per sample: :class:`PressureFilter` (validation, running median against spikes,
noise estimate) -> :class:`RideDetector` (parked/candidate/riding hysteresis, stationary
windows before and after) -> the floor decision here: the pressure step becomes a height step
with the hypsometric equation, is added to the current floor's table elevation and snapped to
the :class:`FloorTable`, which learns new floors and refines known ones from every confident
ride. Absolute pressure is never used across rides, so weather drift and sensor offsets do not
turn into floor errors.
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import partial

from multifloor_slam.errors import ConfigError
from multifloor_slam.floors.barometric import TemperatureMean, scale_height_m
from multifloor_slam.floors.camera import ELEVATOR_STATES, ElevatorEvidence
from multifloor_slam.floors.classify import classify_step
from multifloor_slam.floors.floor_table import FloorTable, compose_renumberings
from multifloor_slam.floors.gaps import gap_candidates, resolve_unknown
from multifloor_slam.floors.outputs import Decision, FloorState, RideEvent
from multifloor_slam.floors.params import PARAM_DESCRIPTIONS, FloorEstimatorParams
from multifloor_slam.floors.pressure_filter import PressureFilter
from multifloor_slam.floors.resumed import resumed_event
from multifloor_slam.floors.ride_detector import RideDetector, Step
from multifloor_slam.floors.ride_graph import RideGraph
from multifloor_slam.floors.short_stop import ShortStops
from multifloor_slam.floors.step_shape import stepwise, unsteady_new

_COUNTED = ['rides', 'new_floors', 'small_steps', 'ambiguous_steps', 'gap_rides']
_COUNTED += ['corrections', 'bad_elevator_state', 'unknown_floor', 'renumbered']


class FloorEstimator:
    """Online floor estimator (pure Python; the node and the offline tools both use it)."""

    def __init__(
        self,
        params: FloorEstimatorParams = FloorEstimatorParams(),  # noqa: B008 (frozen)
        table: FloorTable | None = None,
        initial_floor: int = 0,
    ) -> None:
        self._p = params
        if table is None:
            table = FloorTable(
                reference_index=initial_floor, max_observations=params.table_max_observations
            )
        if len(table) == 0:
            table.reference_index = int(initial_floor)
            table.add(int(initial_floor), 0.0)
        if initial_floor not in table:
            raise ConfigError(
                f'initial floor {initial_floor} is not in the floor table {table.indices}'
            )
        table.max_observations = params.table_max_observations
        table.current_floor = int(initial_floor)
        self._table = table
        self._floor = int(initial_floor)
        self._confidence = 1.0
        self._filter = PressureFilter(params)
        self._detector = RideDetector(params)
        self._temperature = TemperatureMean(params.default_temperature_c)
        self._level: float | None = None
        self._t = -math.inf
        self._decisions: dict[float, Decision] = {}
        self._last_decision: Decision | None = None
        self._camera = ElevatorEvidence(params.elevator_state_timeout_s)
        #: Floors the robot may be on after a long sensor gap (empty: the floor is known).
        self._unknown: list[int] = []
        self._graph = RideGraph()  # confident rides: the table is re-fitted to all of them
        self._short = ShortStops(params)
        self._t_unknown = -math.inf
        #: An early floor shown before the stop test ended the ride: (t_start, origin, shown,
        #: shown is a new floor).
        self._early: tuple[float, int, int, bool] | None = None  # ..., shown is new
        self.unknown_s = 0.0
        self._counts: dict[str, int] = dict.fromkeys(_COUNTED, 0)
        #: Every renumbering of the table, oldest first: ``{old index: new index}``.
        self.renumberings: list[dict[int, int]] = []

    # ---------------------------------------------------------------- public API
    @property
    def table(self) -> FloorTable:
        """The floor table (learned online; save it to continue after a restart)."""
        return self._table

    @property
    def stats(self) -> dict[str, int]:
        """Counters: rejected samples (by reason), gaps, spikes, rides, unused steps."""
        return {**self._filter.stats, **self._counts}

    @property
    def floor(self) -> int:
        """Current floor index."""
        return self._floor

    @property
    def unknown(self) -> bool:
        """The floor is unknown (a long sensor gap may have hidden a ride)."""
        return bool(self._unknown)

    @property
    def noise_pa(self) -> float:
        """Learned sensor noise RMS (Pa)."""
        return self._filter.sigma_pa

    def set_elevator_state(self, t: float, state: str, confidence: float) -> None:
        """Camera's elevator state: the car seen -> easier, no elevator -> more sceptical."""
        if not self._camera.set(t, state, confidence):
            self._counts['bad_elevator_state'] += 1

    def update(
        self, t: float, pressure_pa: float, temperature_c: float | None = None
    ) -> FloorState:
        """Feed one sample (stamp in s, pressure in Pa, optional temperature in C)."""
        if temperature_c is not None and not self._temperature.update(temperature_c):
            self._filter.stats['bad_temperature'] += 1
        self._t = t
        level, gap = self._filter.push(t, pressure_pa)
        if gap > 0.0:
            self._detector.on_gap(t - gap, gap)
        if level is None:
            return self._state(t, None)
        det = self._detector
        det.start_scale = self._p.elevator_step_factor if self._camera.in_car(t) else 1.0
        step, refined = det.push(level)
        self._filter.learn_noise = not det.active
        self._level = level.pressure_pa
        event = self._refine(refined) if refined is not None else None
        if step is not None:
            event = self._decide(step) or event
        return self._state(t, event)

    # ---------------------------------------------------------------- internals
    def _state(self, t: float, event: RideEvent | None) -> FloorState:
        floor = self._floor
        if self._early is not None and self._early[1] in self._table:
            floor = self._early[1]  # the altitude stays relative to where the ride started
        z = self._table.elevation(floor)
        anchor = self._detector.anchor
        if self._level is not None and anchor is not None:
            z += self._temperature.scale_height_m * math.log(anchor / self._level)
        unknown = bool(self._unknown)
        if unknown and t > self._t_unknown:
            self.unknown_s += t - self._t_unknown
            self._t_unknown = t
        return FloorState(
            t=float(t),
            floor=self._floor,
            label=self._table.label(self._floor),
            altitude_m=z,
            riding=self._detector.riding or unknown,
            confidence=0.0 if unknown else self._confidence,
            event=event,
            unknown=unknown,
        )

    def _classify(
        self, cur: int, step: Step, saw_car: float, no_elev: float, check_shape: bool = True
    ) -> tuple[str, int, float, float]:
        """Snap ``step`` from floor ``cur``: (kind, floor, confidence, dz); see classify_step."""
        reverts = (lambda dz: self._reverts_last_ride(cur, dz, step)) if check_shape else None
        return classify_step(
            self._table, self._p, self._temperature.value_c, cur, step, saw_car, no_elev, reverts
        )

    def _reverts_last_ride(self, cur: int, dz: float, step: Step) -> bool:
        """Does ``step`` lead straight back to where the last ride started, soon after it?

        Then the last "ride" was door steps after all, or the robot rode back: either way the
        earlier floor is right, so the door-step shape tests must not keep the robot away.
        """
        last = self._last_decision
        if last is None or last.to_floor != cur or last.from_floor not in self._table:
            return False
        if step.t_start - last.step.t_stop > self._p.post_window_s:
            return False
        z = self._table.elevation(cur) + dz
        back = self._table.elevation(last.from_floor)
        return abs(z - back) <= self._p.snap_tolerance_min_m

    def _apply(
        self, step: Step, cur: int, kind: str, to: int, conf: float, dz: float, source: str
    ) -> RideEvent | None:
        table = self._table
        if kind == 'new':
            z = table.elevation(cur) + dz
            cur = self._renumber(table.add_new_floor(to, z), cur)
            self._counts['new_floors'] += 1
        elif kind == 'ambiguous':
            self._counts['ambiguous_steps'] += 1
        self._remember(Decision(step, cur, to, conf, kind == 'new', kind == 'snap'))
        previous = self._floor
        self._floor = to
        self._confidence = conf
        table.current_floor = to
        self._detector.ride_ended(step.t_stop)
        if to == previous:
            return None
        return self._event(step, previous, to, dz, conf, kind == 'new', source)

    def _event(
        self, step: Step, frm: int, to: int, dz: float, conf: float, new: bool, source: str
    ) -> RideEvent:
        """The event of ``step`` from ``frm`` to ``to`` (labels as the table has them now)."""
        dp = 0.0 if source == 'refined' else step.p_before - step.p_after
        label = self._table.label
        return RideEvent(
            step.t_start, step.t_stop, frm, to, label(frm), label(to), dz, dp, conf, new, source
        )

    def _renumber(self, mapping: dict[int, int], floor: int = 0, d: Decision | None = None) -> int:
        """Move every index held with the table's renumbering; returns ``floor`` renumbered."""
        if not mapping:
            return floor
        held = [*self._decisions.values(), self._last_decision, d]
        for x in {id(x): x for x in held if x is not None}.values():
            x.from_floor = mapping.get(x.from_floor, x.from_floor)
            x.to_floor = mapping.get(x.to_floor, x.to_floor)
        self._floor = mapping.get(self._floor, self._floor)
        self._unknown = [mapping.get(i, i) for i in self._unknown]
        self._graph.renumber(mapping)
        self.renumberings.append(mapping)
        self._counts['renumbered'] += 1
        return mapping.get(floor, floor)

    def _remember(self, decision: Decision) -> None:
        self._decisions[decision.step.t_decided] = decision
        while len(self._decisions) > 8:
            del self._decisions[next(iter(self._decisions))]
        if decision.to_floor != decision.from_floor:
            self._last_decision = decision

    def _decide(self, step: Step) -> RideEvent | None:
        if step.provisional:
            return self._show_early(step)
        early, self._early = self._early, None
        if early is None or early[0] != step.t_start or early[1] not in self._table:
            return self._decide_step(step)
        # The early floor was shown: decide from the origin, tell only what differs from it.
        shown = early[2]
        z_shown, label_shown = self._table.elevation(shown), self._table.label(shown)
        if early[3]:  # a new top or bottom floor: the full decision finds it again
            self._table.remove(shown)
            self._counts['new_floors'] -= 1
        self._floor = self._table.current_floor = early[1]
        event = self._decide_step(step)
        if self._floor == shown and shown in self._table:
            return None
        if event is not None:
            return event  # from the origin, with the ride's start: it supersedes the early one
        # Taken back (a new floor may be gone from the table): back to where the robot is.
        dz = self._table.elevation(self._floor) - z_shown
        back = self._event(step, shown, self._floor, dz, self._confidence, False, 'refined')
        return replace(back, from_label=label_shown)

    def _show_early(self, step: Step) -> RideEvent | None:
        """Show a slow sensor's floor before the stop test ends the ride, when it is clear.

        Only a known floor at least ``jumpy_min_step_m`` away that the early level lands close
        to, or a new top or bottom floor too far for doors to fake, is shown, and only when
        the path so far is no staircase; anything else waits for the full stop test.
        """
        if self._early is not None or self._unknown:
            return None
        cur = self._floor
        saw_car, no_elev = self._camera.around(step)
        kind, to, conf, dz = self._classify(cur, step, saw_car, no_elev)
        table = self._table
        z = table.elevation(cur) + dz
        if stepwise(step, dz, self._p):
            return None
        fastest = self._p.early_max_speed_mps * (step.transition_s + step.sample_interval_s)
        if 0.8 * abs(dz) > fastest:
            return None  # faster than any car: spikes
        if kind == 'new':
            # Only a step larger than doors can fake, beyond the top or bottom floor (no
            # renumbering to undo when the full decision replaces it).
            outside = to > max(table.indices) or to < min(table.indices)
            if abs(dz) < self._p.abrupt_max_step_m or not outside:
                return None
            table.add_new_floor(to, z)
            self._counts['new_floors'] += 1
        elif kind != 'snap' or to == cur or abs(z - table.elevation(to)) > self._p.early_snap_m:
            return None
        elif abs(dz) < self._p.jumpy_min_step_m:
            return None  # door steps in a row can fake that much at a low rate
        self._early = (step.t_start, cur, to, kind == 'new')
        self._floor = table.current_floor = to
        self._confidence = conf
        return self._event(step, cur, to, dz, conf, kind == 'new', 'ride')

    def _decide_step(self, step: Step) -> RideEvent | None:
        saw_car, no_elev = self._camera.around(step)
        cur = self._floor
        last = self._last_decision
        stood = None  # the stop before this leg, when the car stood there for its doors
        if (
            step.continued
            and last is not None
            and last.step.t_start == step.t_start
            and last.from_floor in self._table
        ):
            # The previous "stop" was a pause in the same ride: decide from its origin.
            if math.isfinite(step.t_resume):
                stood = last  # the car stood there for its doors: a floor, even a new one
            elif last.new_floor and last.to_floor in self._table:
                self._graph.drop(last.to_floor)
                self._renumber(self._table.remove(last.to_floor))
                self._counts['new_floors'] -= 1
            cur = last.from_floor
            self._counts['rides'] -= stood is None  # a stop reported stays a ride of its own
            self._floor = cur
        if self._unknown and step.gap_s <= 0.0:
            resolved = self._resolve_unknown(step, saw_car, no_elev)
            if resolved is None:
                return None
            cur = self._floor = resolved
        elif step.gap_s >= self._p.unknown_gap_s:
            candidates, unseen = gap_candidates(
                self._table, self._p, self._temperature.scale_height_m, cur, step
            )
            if len(candidates) + unseen > 1:
                # A ride may hide in the drift the gap allows: unknown until the next ride
                # (or a re-identification) says which floor; nothing is mapped meanwhile.
                self._unknown = candidates or [cur]
                self._t_unknown = self._t
                self._counts['unknown_floor'] += 1
                self._detector.ride_ended(step.t_stop)
                return None
            self._unknown = []
            if candidates and candidates[0] != cur:
                return self._gap_ride(step, cur, candidates[0])
        step = self._short.start(self._last_decision, step, cur, self._temperature.scale_height_m)
        kind, to, conf, dz = self._classify(cur, step, saw_car, no_elev)
        if kind == 'small':
            self._counts['small_steps'] += 1
            # Re-checked on the long window too: a door step right at the ride's end can
            # hide part of a real floor change.
            self._remember(Decision(step, cur, cur, self._confidence, False, False))
            return None
        if (
            to != cur
            and (
                stepwise(step, dz, self._p) or (kind == 'new' and unsteady_new(step, dz, self._p))
            )
            and not self._reverts_last_ride(cur, dz, step)
        ):
            # Two door steps in a row, or a short ride next to one door step: both stand still
            # half-way. Door steps return within seconds, a floor stays: publish only if the
            # re-check after stepwise_hold_s still sees the floor change.
            self._remember(Decision(step, cur, cur, self._confidence, False, False, True))
            return None
        self._counts['rides'] += 1
        if step.gap_s > 0.0:
            self._counts['gap_rides'] += 1
        event = self._apply(step, cur, kind, to, conf, dz, 'gap' if step.gap_s > 0.0 else 'ride')
        if stood is not None and event is not None:
            decision = self._decisions.get(step.t_decided)
            return resumed_event(self._table, decision, step, stood, event)
        return event

    def _gap_ride(self, step: Step, cur: int, to: int) -> RideEvent | None:
        """A gap whose level fits one other known floor only: re-identified there."""
        height = self._temperature.scale_height_m
        dz = height * math.log(step.p_before / step.p_after)
        self._counts['rides'] += 1
        self._counts['gap_rides'] += 1
        return self._apply(step, cur, 'snap', to, 0.5, dz, 'gap')

    def _resolve_unknown(self, step: Step, saw_car: float, no_elev: float) -> int | None:
        """A ride while the floor is unknown: the start floor that makes it land on the table."""
        start = resolve_unknown(
            self._unknown, self._table, lambda c: self._classify(c, step, saw_car, no_elev)
        )
        if start is not None:
            self._unknown = []
        return start

    def _refine(self, refined: Step) -> RideEvent | None:
        """Re-decide a ride on a longer post-ride window; learn the table from the final one.

        A door or HVAC step right after the car stops can bias the quick decision; the median
        over a longer window is immune to steps shorter than half of it. Re-checks come at 1/6
        and 1/2 of ``post_window_s`` and at its end. When one snaps to another floor the floor
        is corrected (an event with source 'refined').
        """
        d = self._decisions.get(refined.t_decided)
        refined = self._short.recheck(refined, self._temperature.scale_height_m)
        if d is None:
            return None
        if refined.final:
            del self._decisions[refined.t_decided]
        if d.deferred and d.from_floor in self._table and math.isfinite(refined.p_recent):
            # Door steps return, a floor stays: a held step whose level is back now is given
            # up (the median since the stop may still be held up by a long door step).
            recent = replace(refined, p_after=refined.p_recent)
            saw_car, no_elev = self._camera.around(refined)
            d.deferred = (
                self._classify(d.from_floor, recent, saw_car, no_elev, False)[0] != 'small'
            )
            if not d.deferred:
                return None
        if d.deferred and not refined.final and self._t < d.step.t_stop + self._p.stepwise_hold_s:
            return None  # door steps may still return
        table = self._table
        if self._floor != d.to_floor or d.from_floor not in table or d.to_floor not in table:
            return None
        prev_label, prev_z = table.label(d.to_floor), table.elevation(d.to_floor)
        removed, undo = None, {}
        if d.new_floor:  # re-decided without it (undoing any room it made)
            removed, undo = d.to_floor, table.remove(d.to_floor)
            self._graph.drop(removed)
            self._counts['new_floors'] -= 1
        origin = undo.get(d.from_floor, d.from_floor)
        saw_car, no_elev = self._camera.around(refined)
        # A ride's shape was judged on the quick decision; a longer window re-measures its
        # size. A step refused for its shape stays refused.
        shape = d.to_floor == d.from_floor and not d.deferred
        d.deferred = False
        kind, to, conf, dz = self._classify(origin, refined, saw_car, no_elev, shape)
        again = partial(
            self._classify, origin, saw_car=saw_car, no_elev=no_elev, check_shape=shape
        )
        alt = self._short.arrival(table, origin, refined, (kind, to, dz), again)
        if alt is not None:  # a door step in a short stop: the level that fits the table
            refined, d.next_shift_m, (kind, to, conf, dz) = alt
        if kind == 'small':
            if d.to_floor == d.from_floor:
                return None
            kind, to, conf = 'ambiguous', origin, 0.3
        room: dict[int, int] = {}
        p_min = self._p.table_update_min_confidence
        if kind == 'new':
            z = table.elevation(origin) + dz
            if removed is not None and table.index_fits(removed, z):
                to = removed  # the same floor, measured better: keep its label
            room = table.add_new_floor(to, z)
            self._counts['new_floors'] += 1
        elif kind == 'snap' and refined.final and conf >= p_min:
            table.observe(to, table.elevation(origin) + dz)
        mapping = compose_renumberings(undo, room)
        if removed is not None and kind == 'new' and to != removed:
            mapping[removed] = to  # the same floor under its new number
        self._renumber(mapping, d=d)
        if refined.final and (kind == 'new' or (kind == 'snap' and conf >= p_min)):
            sigma = self._temperature.scale_height_m * refined.sigma_pa / refined.p_after
            self._graph.add(room.get(origin, origin), to, dz, sigma)
            self._graph.fit(table, self._p.min_step_m)
        previous = d.to_floor if removed is None else removed
        same = kind == 'new' if removed is not None else to == previous
        d.to_floor, d.new_floor, d.confidence = to, kind == 'new', conf
        if same:
            self._floor = to
            self._confidence = max(conf, self._confidence) if kind == 'snap' else conf
            return None
        self._counts['corrections'] += 1
        if to != d.from_floor:
            self._last_decision = d
            self._detector.ride_ended(refined.t_stop)
        self._floor = to
        self._confidence = conf
        table.current_floor = to
        return RideEvent(
            t_start=d.t_event if math.isfinite(d.t_event) else refined.t_start,
            t_end=refined.t_stop,
            from_floor=previous,
            to_floor=to,
            from_label=prev_label,
            to_label=table.label(to),
            dz_m=table.elevation(to) - prev_z,
            dp_pa=0.0,
            confidence=conf,
            new_floor=kind == 'new',
            source='refined',
        )


__all__ = [
    'ELEVATOR_STATES',
    'PARAM_DESCRIPTIONS',
    'FloorEstimator',
    'FloorEstimatorParams',
    'FloorState',
    'RideEvent',
    'scale_height_m',
]
