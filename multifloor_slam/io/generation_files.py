"""Which files in a building folder belong to a saved generation, and which may be removed.

A save writes its data files (PGM, NPZ, level drawings) under content-addressed names
``<stem>.<first 16 hex digits of the sha256>.<ext>``, so a new generation never overwrites a
file the previous ``building.yaml`` still names. After the new ``building.yaml`` is in place,
every file this package wrote that neither it nor the stable pointer files name is removed:

- data files under content-addressed names (``L0.0123456789abcdef.pgm``);
- files the previous ``building.yaml`` named (also the fixed names of format 1: ``L2.pgm``...);
- the fixed data names of format 1 (``L<n>.pgm``, ``L<n>.npz``, ``B<n>...``, the level
  drawings ``<name>_L<n>.png``: in a building folder these names are the package's);
- Nav2 map YAMLs ``L<n>.yaml`` / ``B<n>.yaml`` whose ``image`` is ``L<n>.pgm`` or a
  content-addressed PGM of the same floor, and Open-RMF ``*.building.yaml`` files whose drawings
  are all content-addressed (recognised by content: a user's own map YAML is never touched);
- temporaries ``.<name>.<8 characters>.tmp`` left by a killed save of one of these names.

Everything else in the folder (the user's files, ``report.json``, a rendered ``building.png``
that no building names) stays.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from pathlib import Path
from typing import Any

import yaml

from multifloor_slam.io.atomic_file import fsync_dir, temp_target

DIGEST_CHARS = 16
BUILDING_YAML = 'building.yaml'
#: Format strings of building files this package can read (``building.yaml`` ``format``).
FORMAT_PREFIX = 'multifloor_slam/building '
_DATA = re.compile(r'^(?P<stem>.+)\.(?P<digest>[0-9a-f]{16})\.(?P<ext>pgm|npz|png)$')
_NAV2_POINTER = re.compile(r'^(?P<label>[LB]\d+)\.yaml$')
_FORMAT1_DATA = re.compile(r'^[LB]\d+\.(?:yaml|pgm|npz)$')
_FORMAT1_IMAGE = re.compile(r'^[LB]\d+\.(?:pgm|npz)$')
_SMALL_YAML = 1 << 20


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's content (read in chunks)."""
    h = hashlib.sha256()
    with open(path, 'rb') as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def data_name(stem: str, ext: str, digest: str) -> str:
    """The content-addressed name of a data file."""
    return f'{stem}.{digest[:DIGEST_CHARS]}.{ext}'


def is_plain_name(name: object) -> bool:
    """A file name in the folder itself (no directory part, not hidden)."""
    return (
        isinstance(name, str)
        and bool(name)
        and name == os.path.basename(name)
        and not name.startswith('.')
        and '\\' not in name
    )


def _small_yaml(path: Path) -> Any:
    try:
        if path.stat().st_size > _SMALL_YAML:
            return None
        return yaml.safe_load(path.read_bytes().decode('utf-8'))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def read_building_dict(path: Path) -> dict[str, Any] | None:
    """A ``building.yaml`` of this package as a dict, or None (missing, foreign or corrupt)."""
    data = _small_yaml(path)
    if not isinstance(data, dict) or not str(data.get('format', '')).startswith(FORMAT_PREFIX):
        return None
    return data


def _rmf_drawings(data: Any) -> list[str] | None:
    if not isinstance(data, dict) or not isinstance(data.get('levels'), dict):
        return None
    names = []
    for level in data['levels'].values():
        drawing = level.get('drawing') if isinstance(level, dict) else None
        name = drawing.get('filename') if isinstance(drawing, dict) else None
        if not isinstance(name, str):
            return None
        names.append(name)
    return names


def referenced_files(data: dict[str, Any], base: Path) -> set[str]:
    """Every file in ``base`` that a building dict (format 1 or 2) names, directly or not."""
    names: set[str] = set()
    files = data.get('files')
    if isinstance(files, dict):
        names.update(str(k) for k in files)
    for entry in data.get('floors') or []:
        if not isinstance(entry, dict):
            continue
        for key in ('map', 'image', 'layer'):
            names.add(str(entry.get(key, '')))
        meta = _small_yaml(base / str(entry.get('map', ''))) if entry.get('map') else None
        if isinstance(meta, dict):
            names.add(str(meta.get('image', '')))
    for key in ('open_rmf', 'picture'):
        names.add(str(data.get(key, '')))
    if data.get('open_rmf'):
        names.update(_rmf_drawings(_small_yaml(base / str(data['open_rmf']))) or [])
    return {n for n in names if is_plain_name(n)}


def previous_package_files(data: dict[str, Any], base: Path) -> set[str]:
    """The files a replaced ``building.yaml`` named that carry this package's names.

    A hand-written ``building.yaml`` may name the user's own maps (``floor1.yaml``); those are
    not ours to delete, so only names this package gives its files count.
    """
    stem = re.escape(str(data.get('name', 'building')))
    ours = re.compile(rf'^(?:{stem}\.building\.yaml|{stem}\.png|{stem}_[LB]\d+\.png)$')
    return {
        n
        for n in referenced_files(data, base)
        if _DATA.match(n) or _FORMAT1_DATA.match(n) or ours.match(n)
    }


def _is_pointer(base: Path, name: str) -> bool:
    """A Nav2 map YAML or an Open-RMF building that points at content-addressed files."""
    m = _NAV2_POINTER.match(name)
    if m:
        meta = _small_yaml(base / name)
        image = meta.get('image') if isinstance(meta, dict) else None
        if image == f'{m.group("label")}.pgm':  # format 1
            return True
        d = _DATA.match(image) if isinstance(image, str) else None
        return bool(d and d.group('stem') == m.group('label') and d.group('ext') == 'pgm')
    if name.endswith('.building.yaml') and name != BUILDING_YAML:
        drawings = _rmf_drawings(_small_yaml(base / name))
        return bool(drawings) and all(_DATA.match(d) for d in drawings or [])
    return False


def _written_by_us(base: Path, name: str) -> bool:
    if _DATA.match(name) or _FORMAT1_IMAGE.match(name):
        return True
    target = temp_target(name)
    if target is not None:
        return bool(
            target in (BUILDING_YAML, 'report.json')
            or _DATA.match(target)
            or _FORMAT1_DATA.match(target)
            or target.endswith(('.building.yaml', '.png'))
        )
    return _is_pointer(base, name)


def remove_stale(base: Path, keep: set[str], previous: set[str], name: str) -> list[str]:
    """Delete the package's files in ``base`` that are not in ``keep``; returns their names.

    ``previous`` are the files the replaced ``building.yaml`` named, ``name`` the building's name
    (format 1 named its level drawings ``<name>_L0.png``). Map YAMLs go first, so no Nav2 map
    ever names a deleted image.
    """
    drawings = re.compile(rf'^{re.escape(name)}_[LB]\d+\.png$')
    doomed = []
    for entry in os.scandir(base):
        if entry.name in keep or entry.name == BUILDING_YAML:
            continue
        if not entry.is_file(follow_symlinks=False):
            continue
        if (
            entry.name in previous
            or drawings.match(entry.name)
            or _written_by_us(base, entry.name)
        ):
            doomed.append(entry.name)
    doomed.sort(key=lambda n: (not n.endswith('.yaml'), n))
    removed = []
    for stale in doomed:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(base / stale)
            removed.append(stale)
    if removed:
        fsync_dir(base)
    return removed


__all__ = [
    'BUILDING_YAML',
    'DIGEST_CHARS',
    'FORMAT_PREFIX',
    'data_name',
    'file_sha256',
    'is_plain_name',
    'previous_package_files',
    'read_building_dict',
    'referenced_files',
    'remove_stale',
    'sha256_hex',
]
