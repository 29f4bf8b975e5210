"""Loading, end to end: text → parse → migrate → validate → build a :class:`~.contents.Project`.

:func:`build` turns a validated document into the objects the program uses, one section at a
time (:data:`~.sections.SECTIONS`); :func:`loads` and :func:`load` run the whole pipeline. A
file that fails anywhere raises one :class:`~.checks.ProjectError` and builds nothing.
"""

from __future__ import annotations

from typing import Any

from ..files import PathLike, read_limited
from ..network import gc_paused
from . import parsing
from .checks import ProjectError
from .contents import Project
from .parsing import parse
from .sections import SECTIONS
from .validation import validate_document
from .versions import migrate


def build(doc: dict[str, Any]) -> Project:
    """A validated document → Project."""
    return Project(**{s.key: s.build(doc[s.key]) for s in SECTIONS})


def from_dict(doc: Any) -> Project:
    """A parsed document (dict) → Project, through the same checks as :func:`loads`."""
    return build(validate_document(migrate(doc)))


def loads(text: str | bytes) -> Project:
    """Parse, check, migrate, validate and build a project from JSON text."""
    with gc_paused():  # tens of thousands of objects, all kept: see gc_paused
        doc = parse(text)
        return build(validate_document(migrate(doc)))


def load(path: PathLike) -> Project:
    """Load a ``.nnproj`` file. Raises ProjectError (one line) for any problem."""
    return loads(read_limited(path, parsing.MAX_FILE_BYTES, ProjectError, "a project file"))
