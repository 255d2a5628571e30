"""The nodes' bad-input log: one throttle per kind, counts since the last line about that kind."""

from __future__ import annotations

from multifloor_slam.pipeline.bad_input import OTHER, BadInputLog, reason_key


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_each_kind_has_its_own_throttle_and_counts_since_its_last_line() -> None:
    clock = FakeClock()
    log = BadInputLog(period_s=10.0, clock=clock)
    first = log.count('scan: angle_increment is #', 'scan angle_increment is 0')
    assert first == (
        'bad input, scan: angle_increment is # (scan angle_increment is 0): 1 so far, 1 in all'
    )
    for _ in range(50):  # a flood of one kind ...
        assert log.count('scan: angle_increment is #') is None
    # ... does not hide another kind.
    other = log.count('elevator/state: unknown elevator state', "unknown elevator state 'x'")
    assert other is not None and '1 so far' in other
    clock.t += 10.0
    line = log.count('scan: angle_increment is #')
    assert line == (
        'bad input, scan: angle_increment is #: 51 since the last warning about it, 52 in all'
    )
    clock.t += 3.0
    assert log.count('scan: angle_increment is #') is None
    assert log.totals == {
        'scan: angle_increment is #': 53,
        'elevator/state: unknown elevator state': 1,
    }
    assert log.total == 54


def test_pending_reports_what_the_throttle_held_back() -> None:
    clock = FakeClock()
    log = BadInputLog(period_s=10.0, clock=clock)
    log.count('a')
    log.count('a', n=4)
    assert log.pending() == []  # the throttle has not run out
    clock.t += 10.0
    assert log.pending() == ['bad input, a: 4 since the last warning about it, 5 in all']
    assert log.pending() == []
    log.count('a')
    assert log.pending(force=True) == ['bad input, a: 1 since the last warning about it, 6 in all']


def test_observe_turns_monotonic_counters_into_kinds() -> None:
    clock = FakeClock()
    log = BadInputLog(period_s=10.0, clock=clock)
    assert log.observe({'spikes': 0, 'not_finite': 0}) == []
    assert log.observe({'spikes': 3, 'not_finite': 0}, 'barometer: ') == [
        'bad input, barometer: spikes: 3 so far, 3 in all'
    ]
    assert log.observe({'spikes': 5, 'not_finite': 1}, 'barometer: ') == [
        'bad input, barometer: not_finite: 1 so far, 1 in all'
    ]
    clock.t += 11.0
    assert log.pending() == [
        'bad input, barometer: spikes: 2 since the last warning about it, 5 in all'
    ]


def test_kinds_are_bounded() -> None:
    log = BadInputLog(period_s=10.0, clock=FakeClock(), max_kinds=3)
    for k in range(10):
        log.count(f'kind {k}')
    assert set(log.totals) == {'kind 0', 'kind 1', 'kind 2', OTHER}
    assert log.totals[OTHER] == 7


def test_reason_key_keeps_what_went_wrong_and_drops_the_values() -> None:
    assert reason_key('scan angles not finite (angle_min nan, angle_increment 0.1)') == (
        'scan angles not finite'
    )
    assert (
        reason_key('scan with 0 beams') == reason_key('scan with 1 beams') == 'scan with # beams'
    )
    assert reason_key("elevator state is not valid JSON: '{not json'") == (
        'elevator state is not valid JSON'
    )
    assert reason_key("unknown elevator state 'lift' (one of none, inside)") == (
        'unknown elevator state'
    )
    assert reason_key('elevator state confidence 1.5 is outside [0, 1]') == (
        'elevator state confidence # is outside'
    )
