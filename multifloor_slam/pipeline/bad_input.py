"""Counting and throttled reporting of refused input, one throttle per kind.

Every node (and a stage's counters) reports a refused message through one :class:`BadInputLog`:
``count(kind, detail)`` counts it and returns the line to log when that kind's throttle allows,
else None. Each kind has its own throttle, so a flood of one kind (NaN scans at 40 Hz) never
hides another (a garbled ``elevator/state``), and each line says how many of that kind were
refused since the previous line about it, and in all.

A kind is a short, stable name: ``'scan: angle_increment is #'``. :func:`reason_key` makes one
from an error message (numbers, quoted text, parenthesised details and anything after ``': '``
left out), so two scans refused for the same reason share a kind whatever their values.
ROS-free, thread-safe (the detector counts from its worker thread).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping

#: Seconds between two warnings about the same kind of bad input.
LOG_PERIOD_S = 10.0
#: Kinds tracked one by one; more are counted together under ``OTHER`` (memory stays bounded
#: whatever a publisher sends).
MAX_KINDS = 64
OTHER = 'other bad input'

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_PARENS = re.compile(r'\([^()]*\)|\[[^\[\]]*\]')
_NUMBER = re.compile(r'[-+]?\d+(?:\.\d*)?(?:e[-+]?\d+)?|[-+]?\b(?:nan|inf)\b', re.IGNORECASE)


def reason_key(text: str, limit: int = 60) -> str:
    """The stable part of an error message: what went wrong, without the values.

    >>> reason_key('scan angles not finite (angle_min nan, angle_increment 0.1)')
    'scan angles not finite'
    >>> reason_key("elevator state is not valid JSON: '{not json'")
    'elevator state is not valid JSON'
    >>> reason_key('scan with 0 beams')
    'scan with # beams'
    """
    head = _PARENS.sub('', _QUOTED.sub('', text)).split(': ', 1)[0]
    head = _NUMBER.sub('#', head)
    head = ' '.join(head.split())
    return head[:limit] or 'unreadable'


class BadInputLog:
    """Per-kind counts of refused input and per-kind throttled warning lines.

    Args:
        period_s: at most one line per kind per this many seconds.
        clock: the time source (monotonic seconds; a test passes a fake one).
        max_kinds: kinds tracked separately; later kinds are counted under :data:`OTHER`.
    """

    def __init__(
        self,
        period_s: float = LOG_PERIOD_S,
        clock: Callable[[], float] = time.monotonic,
        max_kinds: int = MAX_KINDS,
    ) -> None:
        self.period_s = float(period_s)
        self._clock = clock
        self._max_kinds = max(1, int(max_kinds))
        self._lock = threading.Lock()
        #: refused inputs per kind since the start
        self.totals: dict[str, int] = {}
        self._since: dict[str, int] = {}
        self._last_log: dict[str, float] = {}
        self._seen_counters: dict[str, int] = {}

    @property
    def total(self) -> int:
        """All refused inputs so far, every kind together."""
        with self._lock:
            return sum(self.totals.values())

    def count(self, kind: str, detail: str = '', n: int = 1) -> str | None:
        """Count ``n`` refused inputs of ``kind``; the warning to log now, or None (throttled).

        The line names the kind, the latest detail, how many of this kind were refused since
        the previous line about it (this one included) and in all.
        """
        if n <= 0:
            return None
        with self._lock:
            if kind not in self.totals and len(self.totals) >= self._max_kinds:
                detail = f'{kind}: {detail}' if detail else kind
                kind = OTHER
            self.totals[kind] = self.totals.get(kind, 0) + n
            self._since[kind] = self._since.get(kind, 0) + n
            now = self._clock()
            last = self._last_log.get(kind)
            if last is not None and now - last < self.period_s:
                return None
            self._last_log[kind] = now
            since, self._since[kind] = self._since[kind], 0
            total = self.totals[kind]
        what = f'{kind} ({detail})' if detail and detail != kind else kind
        period = 'since the last warning about it' if last is not None else 'so far'
        return f'bad input, {what}: {since} {period}, {total} in all'

    def pending(self, force: bool = False) -> list[str]:
        """Lines for kinds refused since their last line, once their throttle has run out.

        With ``force`` (at shutdown) every such kind is reported: nothing counted stays unsaid.
        """
        lines = []
        with self._lock:
            now = self._clock()
            for kind, since in self._since.items():
                if since <= 0:
                    continue
                if not force and now - self._last_log.get(kind, -float('inf')) < self.period_s:
                    continue
                self._last_log[kind] = now
                self._since[kind] = 0
                lines.append(
                    f'bad input, {kind}: {since} since the last warning about it, '
                    f'{self.totals[kind]} in all'
                )
        return lines

    def observe(self, counters: Mapping[str, int], label: str = '') -> list[str]:
        """Count what monotonic counters (a stage's or the mapper's) gained since the last call.

        Each counter is a kind of its own (``label`` + name); returns the lines to log now.
        """
        lines = []
        for name, value in counters.items():
            key = f'{label}{name}'
            with self._lock:
                gained = int(value) - self._seen_counters.get(key, 0)
                self._seen_counters[key] = int(value)
            if gained > 0 and (line := self.count(key, n=gained)) is not None:
                lines.append(line)
        return lines


__all__ = ['LOG_PERIOD_S', 'MAX_KINDS', 'OTHER', 'BadInputLog', 'reason_key']
