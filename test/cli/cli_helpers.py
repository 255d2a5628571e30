"""Running the real command line (``python -m multifloor_slam``) in a subprocess for tests."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    """A finished command: its exit status and output."""

    rc: int
    out: str
    err: str

    def error_lines(self, command: str) -> list[str]:
        """The stderr lines of the form ``multifloor-slam COMMAND: error: ...``."""
        return [
            x for x in self.err.splitlines() if x.startswith(f'multifloor-slam {command}: error:')
        ]

    def one_line_error(self, command: str) -> str:
        """Check exit status 2, no traceback, one error line naming the command; return it."""
        assert self.rc == 2, (self.rc, self.out, self.err)
        assert 'Traceback' not in self.err, self.err
        lines = self.error_lines(command)
        assert len(lines) == 1, self.err
        return lines[0]


def cli(*argv: str | Path, timeout: float = 300.0) -> Result:
    """Run ``python -m multifloor_slam ARGV`` in the repository (no terminal: no progress bar)."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(filter(None, [str(REPO), env.get('PYTHONPATH', '')]))
    env['YOLO_OFFLINE'] = '1'
    env.setdefault('YOLO_CONFIG_DIR', tempfile.gettempdir())
    proc = subprocess.run(
        [sys.executable, '-m', 'multifloor_slam', *map(str, argv)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def corrupt_middle(mcap: Path, at: float = 0.4, size: int = 16384) -> None:
    """Overwrite ``size`` bytes at fraction ``at`` of an MCAP file with 0xFF (mid-file damage).

    16 KiB span several message records, so a record header is hit and the chunk holding them
    cannot be parsed (a hit inside one message's payload only spoils that message).
    """
    n = mcap.stat().st_size
    with open(mcap, 'r+b') as fh:
        fh.seek(int(n * at))
        fh.write(b'\xff' * size)


def unwritable_dir(tmp_path: Path) -> Path | None:
    """A folder the current user cannot write into, or None when there is none to be had.

    As a normal user: a fresh folder with mode 0500. As root (permissions do not bind root): a
    folder of a read-only file system (/sys, /proc), if writing into it really fails.
    """
    if os.geteuid() != 0:
        ro = tmp_path / 'read_only'
        ro.mkdir()
        ro.chmod(0o500)
        return ro
    for candidate in (Path('/sys'), Path('/proc')):
        try:
            fd, probe = tempfile.mkstemp(dir=candidate)
        except OSError:
            return candidate
        os.close(fd)
        os.unlink(probe)
    return None
