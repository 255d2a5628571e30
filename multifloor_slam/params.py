"""Parameter descriptions taken from the params dataclasses' own ``Attributes:`` docstrings.

One text per field, written once beside the field: the ROS parameter descriptions
(``ros2 param describe``), the docs and the code can never disagree.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from typing import Any

_ITEM = re.compile(r'^(\s*)(\w+)(?: \([^)]*\))?:\s*(.*)$')
_CACHE: dict[type[Any], dict[str, str]] = {}


def field_descriptions(cls: type[Any]) -> dict[str, str]:
    """``{field: description}`` from the ``Attributes:`` section of ``cls``'s docstring.

    Continuation lines (indented deeper than the item) are joined into one line.
    """
    if cls not in _CACHE:
        _CACHE[cls] = _parse(cls)
    return dict(_CACHE[cls])


def _parse(cls: type[Any]) -> dict[str, str]:
    doc = inspect.getdoc(cls) or ''
    out: dict[str, str] = {}
    in_section = False
    item_indent = -1
    current = ''
    for line in doc.splitlines():
        if line.strip() == 'Attributes:':
            in_section, item_indent = True, -1
            continue
        if not in_section:
            continue
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:  # the next section
            break
        m = _ITEM.match(line)
        if m and (item_indent < 0 or indent == item_indent):
            item_indent = indent
            current = m.group(2)
            out[current] = m.group(3).strip()
        elif current and indent > item_indent:
            out[current] = f'{out[current]} {line.strip()}'.strip()
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in out.items() if k in names}


def missing_descriptions(cls: type[Any]) -> list[str]:
    """Fields of ``cls`` that have no description (a test keeps this empty)."""
    described = field_descriptions(cls)
    return [f.name for f in dataclasses.fields(cls) if not described.get(f.name)]


__all__ = ['field_descriptions', 'missing_descriptions']
