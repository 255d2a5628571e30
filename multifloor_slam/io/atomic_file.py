"""Atomic file writes: readers see the old file or the new one, never a torn one.

A file is written to a hidden temporary in the same folder (``.<name>.<8 random>.tmp``), fsynced
and renamed over its final name. The temporary is created with mode ``0o666`` and the process'
umask applies, so the final file gets the normal mode of a new file (``0o644`` under the usual
umask 022), not the ``0o600`` that ``tempfile.mkstemp`` would give. A process killed between the
two steps leaves the temporary behind; :func:`temp_target` recognises such leftovers so that the
next save can remove them.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path

from multifloor_slam.errors import MapFileError

#: A temporary of this module (or of ``tempfile.mkstemp`` with the same prefix and suffix, which
#: earlier versions used): ``.<final name>.<8 characters>.tmp``.
_TEMP = re.compile(r'^\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp$')


def temp_target(name: str) -> str | None:
    """The final file name a leftover temporary ``name`` was written for, else None."""
    m = _TEMP.match(name)
    return m.group('target') if m else None


def _open_temp(path: Path) -> tuple[int, Path]:
    for _ in range(100):
        tmp = path.with_name(f'.{path.name}.{secrets.token_hex(4)}.tmp')
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_BINARY', 0)
            return os.open(tmp, flags, 0o666), tmp  # the umask applies, as for any new file
        except FileExistsError:
            continue
    raise FileExistsError(f'no free temporary name for {path}')


def write_atomic(path: Path | str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, fsync, rename.

    The file gets the mode ``0o666 & ~umask``. The rename is not fsynced in the folder: call
    :func:`fsync_dir` where the rename itself must survive a power loss.

    Raises:
        MapFileError: the folder is not writable or the disk is full; ``path`` is untouched.
    """
    path = Path(path)
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _open_temp(path)
        with os.fdopen(fd, 'wb') as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as err:
        raise MapFileError(f'cannot write {path}: {err.strerror or err}') from err
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def fsync_dir(directory: Path | str) -> None:
    """Make the renames and deletions in ``directory`` durable, where the OS allows it."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


__all__ = ['fsync_dir', 'temp_target', 'write_atomic']
