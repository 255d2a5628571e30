"""Checks of the paths a command is given, done before any work (one clear line on failure)."""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

from multifloor_slam.errors import ConfigError


def check_output_dir(path: Path, flag: str) -> None:
    """Fail now if folder ``path`` cannot be created or written into; creates nothing.

    ``path`` may exist (a folder) or not (then its nearest existing parent must be a writable
    folder). The check writes and removes one empty probe file, so permissions, read-only
    file systems and ACLs all count as they will for the real write.

    Raises:
        ConfigError: ``path`` (or a parent) is a file, or the folder is not writable. The
            message starts with ``flag`` (``--out``) and the path.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f'{flag} {path} is a file, not a folder')
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise ConfigError(f'{flag} {path}: {existing} is a file, not a folder')
    if not existing.exists():  # only possible for a relative path with no existing root
        existing = Path('.')
    try:
        fd, probe = tempfile.mkstemp(prefix='.multifloor_probe_', dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        what = err.strerror or str(err)
        where = 'into it' if existing == path else f'into {existing} to create it'
        raise ConfigError(f'{flag} {path}: cannot write {where} ({what})') from err


def check_no_file(path: Path, flag: str, what: str) -> None:
    """Fail if ``path`` exists and is not a folder (it is where the command writes ``what``)."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f'{flag} {path.parent}: {path} is a file, but {what} goes there')


def check_input_file(path: Path, flag: str) -> None:
    """Fail if ``path`` is not an existing, readable file."""
    if not path.exists():
        raise ConfigError(f'{flag} {path} does not exist')
    if not path.is_file():
        raise ConfigError(f'{flag} {path} is not a file')
    if not os.access(path, os.R_OK):
        raise ConfigError(f'{flag} {path} is not readable')


def finite_number(
    flag: str, value: float, *, low: float | None = None, low_open: bool = False
) -> float:
    """``value`` if it is finite and at least (or, ``low_open``, above) ``low``.

    Raises:
        ConfigError: NaN, infinite or too small, naming ``flag``.
    """
    too_small = low is not None and (value <= low if low_open else value < low)
    if not math.isfinite(value) or too_small:
        bound = '' if low is None else f' {">" if low_open else ">="} {low:g}'
        raise ConfigError(f'{flag} must be a finite number{bound}, got {value}')
    return value


__all__ = ['check_input_file', 'check_no_file', 'check_output_dir', 'finite_number']
