"""Writing the exported files: each atomically, a set of them all or nothing, a disk problem an
:class:`OutputError` naming the file.

Every exporter writes through :func:`write_files`, so an export that fails leaves no half of
itself behind: each file goes through :func:`~nnstudio.core.files.atomic_write` (an existing
file is either kept or replaced whole), and when a later file of a set cannot be written the
earlier ones this call created are removed again.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from .. import files
from .plan import ExportError


class OutputError(ExportError):
    """An exported file could not be written; ``path`` names it. The message is one line,
    ``cannot write 'PATH': REASON``."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"cannot write {path!r}: {reason}")
        self.path = path
        self.reason = reason


def write_files(items: Sequence[tuple[files.PathLike, bytes]]) -> list[str]:
    """Write each ``(path, data)`` atomically, in order; returns the paths written. Raises
    OutputError for the first that fails, after removing the files of ``items`` this call
    created (files that existed before are kept, each old or new in full)."""
    created: list[str] = []
    written: list[str] = []
    for path, data in items:
        p = os.fspath(path)
        existed = os.path.lexists(p)
        try:
            files.atomic_write(p, data)
        except OSError as e:
            for q in created:
                try:
                    os.unlink(q)
                except OSError:
                    pass
            raise OutputError(p, e.strerror or str(e)) from None
        if not existed:
            created.append(p)
        written.append(p)
    return written


__all__ = ["OutputError", "write_files"]
