"""Project files (``.nnproj``): a network, its dataset, training settings and a Markdown lesson.

The format is JSON, described in docs/file-format.md and by the JSON Schema shipped as
``nnstudio/resources/nnproj.schema.json``. Loading is a pipeline, one module per stage:

    parse  →  migrate  →  validate  →  build

* :mod:`.parsing`: strict JSON. Malformed text is refused with its line and column; NaN,
  Infinity and numbers too large for a float are refused where they occur; duplicate keys are
  refused. Nothing is ever unpickled or evaluated.
* :mod:`.versions`: the envelope (``format`` must be ``"nnstudio-project"``, ``format_version``
  a known version; a newer one is refused with a message saying so), and the table of
  migrations that upgrades an older file one version at a time.
* :mod:`.validation`: every section of :mod:`.sections` (:mod:`.network_section`,
  :mod:`.dataset_section`, and the name, description and settings), then the checks across
  sections, each problem a one-line :class:`ProjectError` naming the JSON path, e.g.
  ``$.network.connections[3].weight: must be a finite number, got NaN``
  (the field checks are :mod:`.checks`).
* :mod:`.building`: the :class:`Project` (:mod:`.contents`) of a validated document, and
  :func:`load` / :func:`loads`, the whole pipeline.

:mod:`.saving` writes a project: checked as a load would check it, laid out one row per line,
floats with ``repr`` (save then load gives back every number bit for bit), atomically.
"""

from . import versions
from .building import build, from_dict, load, loads
from .checks import ProjectError
from .contents import (
    NEW_DESCRIPTION,
    TEMPLATES,
    Project,
    Template,
    empty_project,
    new_project,
    to_dict,
)
from .network_section import MAX_CONNECTIONS, MAX_NEURONS
from .parsing import MAX_FILE_BYTES, parse
from .saving import dumps, save
from .sections import MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH, SECTIONS, TOP_KEYS, Section
from .validation import validate_document
from .versions import FORMAT, FORMAT_VERSION, MIGRATIONS, SUFFIX, check_envelope, migrate

__all__ = [
    "Project", "ProjectError", "FORMAT", "FORMAT_VERSION", "SUFFIX", "MIGRATIONS", "load",
    "loads", "save", "dumps", "parse", "migrate", "check_envelope", "validate_document", "build",
    "from_dict", "to_dict", "new_project", "empty_project", "TEMPLATES", "Template",
    "NEW_DESCRIPTION", "MAX_FILE_BYTES", "MAX_NEURONS",
    "MAX_CONNECTIONS", "MAX_NAME_LENGTH", "MAX_DESCRIPTION_LENGTH", "SECTIONS", "TOP_KEYS",
    "Section", "versions",
]
