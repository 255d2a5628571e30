"""Ultralytics imported offline, in one place for the detector, its backends and training."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any


def import_yolo() -> Any:
    """Import Ultralytics offline, keeping its first-run banner off stdout.

    A fresh machine's first import prints "Creating new Ultralytics Settings ..." to stdout,
    which would corrupt the JSON lines of ``multifloor-slam detect``.
    """
    os.environ.setdefault('YOLO_OFFLINE', '1')
    with contextlib.redirect_stdout(sys.stderr):
        from ultralytics import YOLO
    return YOLO


__all__ = ['import_yolo']
