"""The per-building floor table: floor index, label and elevation, learned online.

Elevations are metres relative to the reference floor (the start floor, 0 m by default). Each
floor keeps its recent elevation observations (one per confident ride) and its elevation is
their median, so one bad ride cannot drag a floor away. The reference floor never moves: every
other floor is measured relative to it.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from multifloor_slam.errors import ConfigError, MapFileError
from multifloor_slam.io.atomic_file import write_atomic

TABLE_VERSION = 1
#: Largest floor index magnitude taken from a file, a seed or ``floor/current``: the tallest
#: buildings have about 160 storeys, so anything beyond is a corrupt or garbage value.
MAX_FLOOR_INDEX = 200


def _check_index(index: int, what: str) -> int:
    if abs(index) > MAX_FLOOR_INDEX:
        raise ConfigError(f'{what}: floor index {index} is beyond +-{MAX_FLOOR_INDEX}')
    return index


def floor_label(index: int) -> str:
    """Default label of a floor index: ``L0``, ``L1`` ... and ``B1``, ``B2`` ... below L0."""
    return f'L{index}' if index >= 0 else f'B{-index}'


@dataclass
class Floor:
    """One floor of the table."""

    index: int
    label: str
    elevation_m: float
    observations: list[float] = field(default_factory=list)
    seeded: bool = False  # given by configuration (trusted like a surveyed value)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (YAML friendly)."""
        return {
            'index': int(self.index),
            'label': str(self.label),
            'elevation_m': round(float(self.elevation_m), 4),
            'observations': [round(float(z), 4) for z in self.observations],
            'seeded': bool(self.seeded),
        }


class FloorTable:
    """Floors sorted by elevation, with online refinement and atomic YAML persistence.

    Indices grow with elevation (basements are negative). ``current_floor`` is the floor the
    estimator was on when the table was last saved, so a restarted node can continue there.
    """

    def __init__(
        self,
        floors: Iterable[Floor] = (),
        reference_index: int = 0,
        max_observations: int = 20,
        current_floor: int | None = None,
    ) -> None:
        if max_observations < 1:
            raise ConfigError('max_observations must be >= 1')
        self._floors: dict[int, Floor] = {}
        #: bumped by every change of the floors (add, remove, a refined elevation)
        self.version = 0
        self.reference_index = int(reference_index)
        self.max_observations = int(max_observations)
        self.current_floor = current_floor
        #: floors whose addition renumbered others: the direction, undone when removed
        self._made_room: dict[int, int] = {}
        for floor in floors:
            self._insert(floor)

    # ------------------------------------------------------------------ access
    def __contains__(self, index: object) -> bool:
        return index in self._floors

    def __len__(self) -> int:
        return len(self._floors)

    def __iter__(self) -> Iterator[Floor]:
        return iter(sorted(self._floors.values(), key=lambda f: f.index))

    def __getitem__(self, index: int) -> Floor:
        return self._floors[index]

    @property
    def indices(self) -> list[int]:
        """Floor indices in ascending order."""
        return sorted(self._floors)

    def label(self, index: int) -> str:
        """Label of ``index`` (the default label when the floor is unknown)."""
        floor = self._floors.get(index)
        return floor.label if floor is not None else floor_label(index)

    def elevation(self, index: int) -> float:
        """Elevation (m) of floor ``index``; KeyError when unknown."""
        return self._floors[index].elevation_m

    def nearest(self, z: float, exclude: int | None = None) -> Floor | None:
        """The floor whose elevation is closest to ``z`` (None when the table is empty)."""
        best = None
        for floor in self._floors.values():
            if floor.index == exclude:
                continue
            if best is None or abs(floor.elevation_m - z) < abs(best.elevation_m - z):
                best = floor
        return best

    def spacing(self, index: int, default: float) -> float:
        """Distance (m) from floor ``index`` to its nearest neighbour in the table."""
        z = self._floors[index].elevation_m
        gaps = [abs(f.elevation_m - z) for f in self._floors.values() if f.index != index]
        return min(gaps) if gaps else default

    # ------------------------------------------------------------------ changes
    def _insert(self, floor: Floor) -> None:
        if floor.index in self._floors:
            raise ConfigError(f'floor index {floor.index} appears twice in the floor table')
        if not math.isfinite(floor.elevation_m):
            raise ConfigError(f'floor {floor.index} has a non-finite elevation')
        if not floor.observations:
            floor.observations = [float(floor.elevation_m)]
        self._floors[floor.index] = floor
        self.version += 1

    def add(self, index: int, elevation_m: float, label: str | None = None) -> Floor:
        """Add a floor (a newly discovered one or a seeded one)."""
        floor = Floor(int(index), label or floor_label(int(index)), float(elevation_m))
        self._insert(floor)
        return floor

    def remove(self, index: int) -> dict[int, int]:
        """Forget floor ``index`` (a floor created by a measurement later found wrong).

        When adding it renumbered other floors to make room (:meth:`add_new_floor`), that is
        undone. Returns the renumbering ``{old index: new index}`` (empty when none).
        """
        if index == self.reference_index:
            raise ConfigError('the reference floor cannot be removed')
        del self._floors[index]
        self.version += 1
        direction = self._made_room.pop(index, 0)
        if direction > 0:
            return self._shift([i for i in self._floors if i > index], -1)
        if direction < 0:
            return self._shift([i for i in self._floors if i < index], +1)
        return {}

    def add_new_floor(self, index: int, elevation_m: float) -> dict[int, int]:
        """Add a floor found by a ride at ``index`` from :meth:`index_for_new_floor`.

        When ``index`` is in use (a floor turned up between two consecutively numbered ones),
        the floors on its far side from the reference floor are renumbered one further out to
        make room: the numbering is re-estimated, not the new floor squeezed onto a neighbour.
        Returns that renumbering ``{old index: new index}`` (empty when none was needed).
        """
        mapping: dict[int, int] = {}
        taken = self._floors.get(index)
        if taken is not None:
            if taken.elevation_m > elevation_m:
                mapping = self._shift([i for i in self._floors if i >= index], +1)
                self._made_room[index] = +1
            else:
                mapping = self._shift([i for i in self._floors if i <= index], -1)
                self._made_room[index] = -1
        self.add(index, elevation_m)
        return mapping

    def _shift(self, indices: list[int], step: int) -> dict[int, int]:
        """Renumber ``indices`` by ``step`` (default labels follow; given labels stay)."""
        mapping = {i: i + step for i in indices}
        if not mapping:
            return mapping
        if self.reference_index in mapping or any(self._floors[i].seeded for i in mapping):
            raise ConfigError('the reference floor and seeded floors are never renumbered')
        moved = [self._floors.pop(i) for i in indices]
        for floor in moved:
            old = floor.index
            floor.index = _check_index(old + step, 'renumbered floor')
            if floor.label == floor_label(old):
                floor.label = floor_label(floor.index)
            self._floors[floor.index] = floor
        self._made_room = {mapping.get(i, i): d for i, d in self._made_room.items()}
        if self.current_floor is not None:
            self.current_floor = mapping.get(self.current_floor, self.current_floor)
        self.version += 1
        return mapping

    def typical_storey(self, default: float) -> float:
        """The building's usual storey height (m): median of consecutively numbered floors.

        ``default`` until two such storeys are known; clipped to 2.7-4.5 m so that a lobby or a
        mechanical storey numbered as one cannot make ordinary storeys look tall.
        """
        floors = sorted(self._floors.values(), key=lambda f: f.index)
        steps = sorted(
            b.elevation_m - a.elevation_m
            for a, b in itertools.pairwise(floors)
            if b.index - a.index == 1
        )
        if len(steps) < 2:
            return default
        n = len(steps)
        median = steps[n // 2] if n % 2 else 0.5 * (steps[n // 2 - 1] + steps[n // 2])
        return min(4.5, max(2.7, median))

    def observe(self, index: int, elevation_m: float) -> None:
        """Refine floor ``index`` with one more elevation measurement (running median).

        The reference floor is the origin of every elevation and never moves.
        """
        floor = self._floors[index]
        if index == self.reference_index or not math.isfinite(elevation_m):
            return
        before = (floor.elevation_m, list(floor.observations))
        floor.observations.append(float(elevation_m))
        del floor.observations[: -self.max_observations]
        obs = sorted(floor.observations)
        n = len(obs)
        floor.elevation_m = obs[n // 2] if n % 2 else 0.5 * (obs[n // 2 - 1] + obs[n // 2])
        if (floor.elevation_m, floor.observations) != before:
            self.version += 1

    def index_fits(self, index: int, z: float) -> bool:
        """Would a new floor ``index`` at elevation ``z`` keep indices ordered by elevation?"""
        if index in self._floors:
            return False
        below = [f.index for f in self._floors.values() if f.elevation_m < z]
        above = [f.index for f in self._floors.values() if f.elevation_m > z]
        return all(i < index for i in below) and all(i > index for i in above)

    def index_for_new_floor(
        self,
        z: float,
        nominal_storey_m: float,
        max_storey_m: float = 0.0,
        min_storey_m: float = 0.0,
    ) -> int | None:
        """Index for a new floor at elevation ``z``, keeping indices ordered by elevation.

        Above the top (below the bottom) floor: the next index when the height difference fits
        one storey (up to ``max_storey_m``: tall lobbies and mechanical storeys are one floor),
        else as many storeys as :meth:`typical_storey` (``nominal_storey_m`` until learned)
        fits, at least two. Between two known floors: the free index nearest to the
        interpolated position; with none free, the index the new floor takes once
        :meth:`add_new_floor` has renumbered the floors beyond it (an index in use). None when
        that would renumber the reference floor or a seeded floor, or leave a storey under
        ``min_storey_m`` (a measurement off by a metre, not a floor that was skipped).
        """
        floors = sorted(self._floors.values(), key=lambda f: f.elevation_m)
        if not floors:
            return 0
        top, bottom = floors[-1], floors[0]
        storey = self.typical_storey(nominal_storey_m)

        def storeys(dz: float) -> int:
            if dz <= max_storey_m:
                return 1
            return max(2 if max_storey_m > 0.0 else 1, round(dz / storey))

        if z > top.elevation_m:
            return top.index + storeys(z - top.elevation_m)
        if z < bottom.elevation_m:
            return bottom.index - storeys(bottom.elevation_m - z)
        for lo, hi in itertools.pairwise(floors):
            if lo.elevation_m <= z <= hi.elevation_m:
                free = range(lo.index + 1, hi.index)
                if free:
                    frac = (z - lo.elevation_m) / max(hi.elevation_m - lo.elevation_m, 1e-9)
                    ideal = lo.index + frac * (hi.index - lo.index)
                    return min(free, key=lambda i: abs(i - ideal))
                if min(z - lo.elevation_m, hi.elevation_m - z) < min_storey_m:
                    return None
                ref = self.reference_index
                up = ref <= lo.index
                moved = [f for f in floors if (f.index >= hi.index if up else f.index <= lo.index)]
                if any(f.seeded or f.index == ref for f in moved):
                    return None
                return hi.index if up else lo.index
        return None

    def start_floor(self, requested: int | None = None, resume: bool = True) -> int:
        """The floor a run starts on: the one rule for the node, ``process`` and ``floors``.

        The floor saved in the table (``current_floor``) when ``resume`` and it is known, else
        ``requested``, else the reference floor (where the table's elevations start).

        Raises:
            ConfigError: ``requested`` is not in a non-empty table.
        """
        if resume and self.current_floor is not None and self.current_floor in self:
            return int(self.current_floor)
        if requested is None:
            return int(self.reference_index) if len(self) else 0
        if len(self) and requested not in self:
            raise ConfigError(
                f'initial floor {requested} is not in the floor table {self.indices}'
            )
        return int(requested)

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """Plain-data form of the whole table."""
        return {
            'version': TABLE_VERSION,
            'reference_index': self.reference_index,
            'current_floor': self.current_floor,
            'floors': [f.to_dict() for f in self],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], max_observations: int = 20) -> FloorTable:
        """Build a table from :meth:`to_dict` output; MapFileError on malformed data."""
        if not isinstance(data, Mapping) or not isinstance(data.get('floors', []), list):
            raise MapFileError('floor table: expected a mapping with a "floors" list')
        try:
            floors = [
                Floor(
                    _check_index(int(item['index']), 'floor table'),
                    str(item.get('label') or floor_label(int(item['index']))),
                    float(item['elevation_m']),
                    [float(z) for z in item.get('observations') or []],
                    bool(item.get('seeded', False)),
                )
                for item in data.get('floors') or []
            ]
            current = data.get('current_floor')
            return cls(
                floors,
                reference_index=int(data.get('reference_index', 0)),
                max_observations=max_observations,
                current_floor=None
                if current is None
                else _check_index(int(current), 'floor table current_floor'),
            )
        except (KeyError, TypeError, ValueError, ConfigError) as err:
            raise MapFileError(f'floor table: malformed floor entry ({err})') from err

    @classmethod
    def from_seed(cls, seed: str, max_observations: int = 20) -> FloorTable:
        """Table from a seed ``"index:elevation_m[:label],..."`` (``"-1:-3.2,0:0,1:4.5:Hall"``).

        The reference floor is the seeded floor closest to 0 m.
        """
        floors = []
        for item in filter(None, (s.strip() for s in re.split(r'[,;]', seed))):
            parts = [s.strip() for s in item.split(':')]
            if len(parts) not in (2, 3):
                raise ConfigError(f'floor seed entry {item!r}: expected index:elevation[:label]')
            try:
                index, z = int(parts[0]), float(parts[1])
            except ValueError as err:
                raise ConfigError(f'floor seed entry {item!r}: {err}') from err
            _check_index(index, f'floor seed entry {item!r}')
            label = parts[2] if len(parts) == 3 else floor_label(index)
            floors.append(Floor(index, label, z, seeded=True))
        reference = min(floors, key=lambda f: abs(f.elevation_m)).index if floors else 0
        table = cls(floors, reference_index=reference, max_observations=max_observations)
        ordered = sorted(table, key=lambda f: f.elevation_m)
        if [f.index for f in ordered] != table.indices:
            raise ConfigError('floor seed: indices must grow with elevation')
        return table

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the table as YAML atomically (temp file in the same folder, fsync, rename).

        Raises:
            MapFileError: the folder is not writable or the disk is full; the old file stays.
        """
        import yaml

        data = yaml.safe_dump(self.to_dict(), sort_keys=False).encode('utf-8')
        write_atomic(Path(path), data)

    @classmethod
    def load(cls, path: str | os.PathLike[str], max_observations: int = 20) -> FloorTable:
        """Read a table written by :meth:`save`."""
        import yaml

        try:
            text = Path(path).read_text(encoding='utf-8')
            data = yaml.safe_load(text)
        except OSError as err:
            raise MapFileError(f'cannot read floor table {path}: {err}') from err
        except yaml.YAMLError as err:
            raise MapFileError(f'floor table {path} is not valid YAML: {err}') from err
        return cls.from_dict(data or {}, max_observations=max_observations)


def compose_renumberings(first: Mapping[int, int], then: Mapping[int, int]) -> dict[int, int]:
    """``{old index: newest index}`` for renumbering ``first`` followed by ``then``."""
    out = {i: then.get(j, j) for i, j in first.items()}
    moved_in = set(first.values())
    out.update({j: k for j, k in then.items() if j not in moved_in and j not in first})
    return {i: j for i, j in out.items() if i != j}


__all__ = ['MAX_FLOOR_INDEX', 'Floor', 'FloorTable', 'compose_renumberings', 'floor_label']
