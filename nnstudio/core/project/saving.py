"""Saving: a :class:`~.contents.Project` as project-file text, written atomically.

:func:`dumps` checks the project exactly as a load would (a project that could not be loaded
back is never written) and lays the text out for people: every section on its own line, and
for the sections that spread (:attr:`~.sections.Section.spread`: the network, the dataset,
the challenges) one
member per line and one neuron, connection or data row per line, so files stay readable and
diff well. Floats are written with ``repr``, so save then load gives back every number bit for
bit. :func:`save` writes through :func:`~nnstudio.core.files.atomic_write`: on any failure the
target is untouched.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from ..files import PathLike, atomic_write
from . import parsing
from .checks import ProjectError
from .contents import Project, to_dict
from .sections import SECTIONS
from .validation import validate_document

# json.dumps with options builds a new encoder on every call; one shared encoder is the same
# text, several times faster for the 100,000 rows of a big network
_j: Callable[[Any], str] = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


def _rows(rows: list[Any], indent: str) -> str:
    """A list of rows (lists or objects), one per line (an image layer with filters: its
    settings on the line, then one filter per line)."""
    inner = ",\n".join(indent + "  " + _row(row, indent + "  ") for row in rows)
    return "[\n" + inner + "\n" + indent + "]"


def _row(row: Any, indent: str) -> str:
    filters = row.get("filters") if isinstance(row, dict) else None
    if not isinstance(filters, list) or not filters:
        return _j(row)
    head = _j({k: v for k, v in row.items() if k != "filters"})[:-1]
    lines = ",\n".join(indent + "  " + _j(f) for f in filters)
    return f'{head}, "filters": [\n{lines}]}}'


def _member(value: Any, indent: str, depth: int) -> str:
    if isinstance(value, list) and value and isinstance(value[0], (list, dict)):
        return _rows(value, indent)
    if isinstance(value, dict) and value and depth < 2:
        return _spread(value, indent + "  ", depth + 1)
    return _j(value)


def _spread(section: dict[str, Any], indent: str = "    ", depth: int = 0) -> str:
    """An object one member per line, its lists of rows one row per line; an object member
    (the challenges' ``original``) likewise, down to one neuron or parameter per line."""
    lines = [f"{indent}{_j(k)}: {_member(v, indent, depth)}" for k, v in section.items()]
    return "{\n" + ",\n".join(lines) + "\n" + indent[:-2] + "}"


def dumps(proj: Project) -> str:
    """The project as JSON text. Refuses (ProjectError) anything a load would refuse."""
    doc = to_dict(proj)
    try:
        validate_document(doc)
    except ProjectError as e:
        raise ProjectError(f"cannot save: {e}") from None
    parts = [f'  "format": {_j(doc["format"])}', f'  "format_version": {doc["format_version"]}']
    for s in SECTIONS:
        if s.key not in doc:  # an optional section that is "none"
            continue
        value = doc[s.key]
        parts.append(f"  {_j(s.key)}: {_spread(value) if s.spread else _j(value)}")
    text = "{\n" + ",\n".join(parts) + "\n}\n"
    size = len(text) if text.isascii() else len(text.encode("utf-8"))
    limit = parsing.MAX_FILE_BYTES
    if size > limit:
        raise ProjectError(f"cannot save: the project would be {size} bytes, more than the "
                           f"file size limit of {limit} bytes; use a smaller dataset")
    return text


def save(proj: Project, path: PathLike) -> None:
    """Save atomically. Raises ProjectError (the project is invalid, or the disk refused)."""
    text = dumps(proj)
    try:
        atomic_write(path, text.encode("utf-8"))
    except OSError as e:
        raise ProjectError(f"cannot save {os.fspath(path)!r}: {e.strerror or e}") from None
