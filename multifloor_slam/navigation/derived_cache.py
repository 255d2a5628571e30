"""Results derived from floor maps (staging poses, nav graphs), kept by the map's content.

Every save recomputes the elevator staging poses and the Open-RMF nav graphs, and the live map
manager saves periodically while most floors stay as they were: on a 150 m floor the traversable
mask, the rays and the roadmap cost about a second per floor. Both results depend only on the
floor's trinary grid (what the mask is made of), its placement, and small inputs (a car position,
the staging points, the parameters), so they are kept under a digest of exactly those: a floor
whose map did not change costs one hash of its grid, a changed floor is recomputed. Keys are by
content, not by ``OccupancyLayer.version``: a reloaded building, or another layer object with the
same cells, hits too. The masks themselves are not kept (tens of MB per large floor); they are
computed only on a miss.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import numpy as np

from multifloor_slam.maps.building import FloorLayer
from multifloor_slam.maps.occupancy_layer import OccupancyLayer
from multifloor_slam.navigation.free_space import TrinaryGrid

#: Entries a cache keeps (least recently used dropped first); a staging pose or a graph is small.
MAX_ENTRIES = 512


def grid_digest(source: FloorLayer | OccupancyLayer | TrinaryGrid) -> str:
    """Digest of what a floor's traversable mask is made of: trinary cells, origin, resolution."""
    if isinstance(source, FloorLayer):
        source = source.layer
    if isinstance(source, OccupancyLayer):
        values = source.trinary()
        origin, res = source.origin_xy, source.resolution
    else:
        values, origin, res = np.asarray(source.values), source.origin_xy, source.resolution
    h = hashlib.blake2b(digest_size=16)
    h.update(repr((values.shape, str(values.dtype), tuple(map(float, origin)), res)).encode())
    h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()


class DerivedCache:
    """A small thread-safe LRU map from a content key to a derived result.

    Attributes:
        hits: lookups answered from the cache.
        misses: lookups that had to compute.
    """

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any | None:
        """The value kept under ``key``, else None (counted as a miss)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
            return None

    def put(self, key: Hashable, value: Any) -> None:
        """Keep ``value`` under ``key`` (dropping the least recently used beyond the limit)."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (and the counters)."""
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)


#: The process-wide cache ``save_building`` uses.
DERIVED = DerivedCache()


__all__ = ['DERIVED', 'MAX_ENTRIES', 'DerivedCache', 'grid_digest']
