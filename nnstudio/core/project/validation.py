"""Validation: a current-version document, checked section by section and across sections.

Runs after migration (:mod:`.versions`), so it only ever sees the current format: the envelope
again, the top-level keys, every section of :data:`~.sections.SECTIONS` in order (an absent
optional section gets its default; one whose default is "none" stays ``None``), then the
:data:`~.sections.CROSS_CHECKS`. The first problem raises :class:`~.checks.ProjectError`
naming its JSON path; a document that passes can be built without further checks.
"""

from __future__ import annotations

from typing import Any

from . import versions
from .checks import check_object, fail
from .sections import CROSS_CHECKS, SECTIONS, TOP_KEYS


def validate_document(doc: Any) -> dict[str, Any]:
    """Validate a current-version document; returns it with defaults filled in."""
    versions.check_envelope(doc)
    if doc["format_version"] != versions.FORMAT_VERSION:
        fail("$.format_version", f"expected version {versions.FORMAT_VERSION} after migration")
    required = ("format", "format_version", *(s.key for s in SECTIONS if s.required))
    check_object(doc, "$", required, TOP_KEYS)
    checked: dict[str, Any] = {"format": versions.FORMAT,
                               "format_version": versions.FORMAT_VERSION}
    for s in SECTIONS:
        if s.key not in doc and s.optional_value:
            checked[s.key] = None
            continue
        value = doc[s.key] if s.default is None or s.key in doc else s.default()
        checked[s.key] = s.validate(value, f"$.{s.key}")
    for check in CROSS_CHECKS:
        check(checked)
    return checked
