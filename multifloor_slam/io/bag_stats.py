"""What a bag read produced, skipped and covered: for the report and the partial-input warning."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ReadStats:
    """What a read produced and skipped.

    Attributes:
        records: records yielded per kind.
        corrupt: messages that failed to deserialise or convert (skipped).
        out_of_order: records older than one already yielded (skipped).
        zero_stamps: messages with a zero header stamp (log time used instead).
        read_error: the error that ended the read early (truncated/corrupt file), or ''.
        messages: messages taken from the storage per topic (corrupt ones included).
        last_log_time: log time (s) of the newest message taken from the storage (0: none).
    """

    records: dict[str, int] = field(default_factory=dict)
    corrupt: int = 0
    out_of_order: int = 0
    zero_stamps: int = 0
    read_error: str = ''
    messages: dict[str, int] = field(default_factory=dict)
    last_log_time: float = 0.0

    @property
    def skipped(self) -> int:
        """Messages skipped in all."""
        return self.corrupt + self.out_of_order

    def took(self, topic: str, t_log: float) -> None:
        """Count one message taken from the storage."""
        self.messages[topic] = self.messages.get(topic, 0) + 1
        if t_log > self.last_log_time:
            self.last_log_time = t_log


@dataclass(frozen=True)
class Coverage:
    """How much of a bag a read used, against what the bag's metadata promises.

    Attributes:
        span_s: the bag's span (s) from its metadata (the original metadata of a repaired bag
            when it had one).
        used_s: seconds of that span read (the whole span for a complete read).
        messages_read: messages of the topics read, taken from the storage (corrupt ones,
            skipped and counted in ``ReadStats.corrupt``, included).
        messages_expected: messages of those topics by the metadata.
        by_topic: topic -> [read, expected].
        read_error: the error that ended the read early, or ''.
        repaired: what the repair of an unopenable MCAP file did, or ''.
        complete: every message of the topics was read.
    """

    span_s: float
    used_s: float
    messages_read: int
    messages_expected: int
    by_topic: dict[str, list[int]]
    read_error: str
    repaired: str
    complete: bool

    @property
    def used_fraction(self) -> float:
        """Share of the span read (0..1)."""
        return min(1.0, self.used_s / self.span_s) if self.span_s > 0 else float(self.complete)

    def describe(self) -> str:
        """One line: ``used 112 s of the bag's 286 s (39 %), 2750 of 7147 messages; why``."""
        why = self.read_error or self.repaired or 'messages missing from the storage'
        return (
            f"used {self.used_s:.0f} s of the bag's {self.span_s:.0f} s "
            f'({100 * self.used_fraction:.0f} %), {self.messages_read} of '
            f'{self.messages_expected} messages; {why}'
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Coverage:
        """The inverse of :meth:`to_dict`."""
        return cls(**{k: d[k] for k in cls.__dataclass_fields__})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (with ``used_fraction``)."""
        d = dict(self.__dict__)
        d['used_fraction'] = self.used_fraction
        return d


__all__ = ['Coverage', 'ReadStats']
