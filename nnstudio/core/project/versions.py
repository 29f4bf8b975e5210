"""Which files are project files, which versions exist, and how older ones are upgraded.

The envelope of every project file is its ``format`` (always :data:`FORMAT`) and its
``format_version``. A file from a newer NN Studio is refused with a message saying so; an older
one is upgraded one version at a time by the table :data:`MIGRATIONS`, before validation, so
validation and building only ever see the current version.

To change the format: raise :data:`FORMAT_VERSION`, add ``MIGRATIONS[old]`` that rewrites a
version-``old`` document into a version ``old + 1`` one, and describe the change in
docs/file-format.md ("Versions"). Other modules read ``versions.FORMAT_VERSION`` when they run,
so this is the one place the current version is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .checks import DuplicateKeys, describe, fail, member_path

FORMAT = "nnstudio-project"
FORMAT_VERSION = 2
SUFFIX = ".nnproj"


def _version_1_to_2(doc: dict[str, Any]) -> dict[str, Any]:
    """Version 2 added optional parts only: image layers (``network.image_layers``, images
    among ``dataset.inputs``) and the ``challenges`` section, each meaning "none" when absent.
    So a version-1 document is a version-2 document as it is; :func:`migrate` sets the number."""
    return doc


#: ``MIGRATIONS[n]`` turns a version-``n`` document (a dict) into a version ``n + 1`` one.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _version_1_to_2}


def check_envelope(doc: Any) -> int:
    """The top-level object, its ``format`` and ``format_version``; returns the version."""
    if not isinstance(doc, dict):
        fail("$", f"a project file must hold a JSON object, got {describe(doc)}")
    if isinstance(doc, DuplicateKeys):
        fail(member_path("$", doc.duplicate), "the key appears more than once")
    if "format" not in doc:
        fail("$", "the key 'format' is missing; this is not an NN Studio project file")
    if doc["format"] != FORMAT:
        fail("$.format", f"must be {FORMAT!r}, got {describe(doc['format'])}; this is not an "
             "NN Studio project file")
    if "format_version" not in doc:
        fail("$", "the key 'format_version' is missing")
    v = doc["format_version"]
    if isinstance(v, bool) or not isinstance(v, int):
        fail("$.format_version", f"must be a whole number, got {describe(v)}")
    if v > FORMAT_VERSION:
        fail("$.format_version", f"the file uses format version {v}, newer than this NN Studio "
             f"understands (up to {FORMAT_VERSION}); open it with a newer NN Studio")
    if v < 1:
        fail("$.format_version", f"there is no format version {v}; versions start at 1")
    return v


def migrate(doc: Any) -> dict[str, Any]:
    """Upgrade an envelope-checked document to FORMAT_VERSION, one version at a time."""
    v = check_envelope(doc)
    while v < FORMAT_VERSION:
        step = MIGRATIONS.get(v)
        if step is None:
            fail("$.format_version", f"cannot upgrade format version {v}: no migration")
        doc = step(dict(doc))
        v += 1
        doc["format_version"] = v
    return doc
