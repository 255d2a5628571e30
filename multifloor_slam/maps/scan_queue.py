"""Scans that arrived before the pose after them, held until that pose comes.

SLAMs publish poses slower than the lidar publishes scans, so the newest scan is usually newer
than the newest pose. Mapping it at an extrapolated pose would smear the walls; holding it for a
fraction of a second lets it be mapped at an interpolated pose instead.
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar('T')


class ScanQueue(Generic[T]):
    """Stamped items waiting for a pose; released in stamp order (ties in arrival order)."""

    def __init__(self, max_len: int = 1000) -> None:
        self.max_len = max_len
        self._items: list[tuple[float, T]] = []

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    @property
    def full(self) -> bool:
        """True when no more items are taken (they are then processed at once)."""
        return len(self._items) >= self.max_len

    def push(self, t: float, item: T) -> None:
        """Hold ``item`` stamped ``t``."""
        self._items.append((t, item))

    def pop_until(self, until: float) -> list[tuple[float, T]]:
        """Remove and return the items stamped at or before ``until``, oldest first."""
        ready = [w for w in self._items if w[0] <= until]
        if ready:
            self._items = [w for w in self._items if w[0] > until]
        return sorted(ready, key=lambda w: w[0])


__all__ = ['ScanQueue']
