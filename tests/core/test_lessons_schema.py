"""The shipped JSON Schema's 'challenges' section ($defs.challenges of
resources/nnproj.schema.json) says what the validator accepts."""

from __future__ import annotations

import copy
import json

import pytest

from nnstudio import paths
from nnstudio.core import activations, losses, project
from nnstudio.core.lessons.goals import (
    BOUND_KEYS,
    COUNTS,
    KINDS,
    MAX_GOALS,
    MAX_REQUIREMENTS,
    MAX_TEXT,
    Original,
)
from nnstudio.core.network import ROLES
from nnstudio.core.project.challenges_section import validate_challenges
from nnstudio.samples import build_samples, lesson_checks
from tests.core.test_challenges_section import EVERY_KIND, _perceptron
from tests.core.test_project import check_schema, load_schema

ROOT = load_schema()
DEFS = ROOT["$defs"]
SCHEMA = {**DEFS["challenges"], "$defs": DEFS}


def schema_errors(doc: dict) -> list[str]:
    """check_schema over the section, choosing each requirement's branch of the oneOf by its
    kind (so that a problem is named by that branch, not by every branch of the oneOf)."""
    doc = copy.deepcopy(doc)
    requirements = [(gi, ri, r) for gi, g in enumerate(doc.get("goals", []))
                    for ri, r in enumerate(g.get("require", []))]
    for g in doc.get("goals", []):
        g["require"] = [{} for _ in g.get("require", [])]
    stub = {**SCHEMA, "$defs": {**DEFS, "requirement": {"type": "object"}}}
    errs = check_schema(doc, stub, stub, "$.challenges")
    for gi, ri, r in requirements:
        branch = DEFS.get(f"require_{r.get('kind')}")
        where = f"$.challenges.goals[{gi}].require[{ri}]"
        errs += [f"{where}: unknown kind"] if branch is None else \
            check_schema(r, branch, SCHEMA, where)
    return errs


def test_every_kind_has_its_branch_with_the_validators_keys():
    branches = [ref["$ref"].rsplit("/", 1)[1] for ref in DEFS["requirement"]["oneOf"]]
    assert branches == [f"require_{k}" for k in KINDS]
    for kind, cls in KINDS.items():
        d = DEFS[f"require_{kind}"]
        assert d["properties"]["kind"] == {"const": kind}
        assert set(d["required"]) == set(cls.REQUIRED)
        assert set(d["properties"]) == set(cls.REQUIRED + cls.OPTIONAL)
        assert d["additionalProperties"] is False


def test_enums_and_limits_match_the_code():
    assert DEFS["require_loss"]["properties"]["loss"]["enum"] == list(losses.NAMES)
    assert DEFS["require_gradient"]["properties"]["loss"]["enum"] == list(losses.NAMES)
    assert DEFS["require_count"]["properties"]["of"]["enum"] == list(COUNTS)
    assert DEFS["require_activation"]["properties"]["role"]["enum"] == list(ROLES[1:])
    assert DEFS["require_activation"]["properties"]["one_of"]["items"]["enum"] == \
        list(activations.NAMES)
    original = DEFS["original"]["properties"]["neurons"]["additionalProperties"]["properties"]
    assert original["activation"]["enum"] == list(activations.NAMES)
    assert original["role"]["enum"] == list(ROLES)
    assert SCHEMA["properties"]["goals"]["maxItems"] == MAX_GOALS
    assert DEFS["goal"]["properties"]["require"]["maxItems"] == MAX_REQUIREMENTS
    assert DEFS["goal"]["properties"]["text"]["maxLength"] == MAX_TEXT
    assert set(DEFS["require_loss"]["properties"]) - {"kind", "loss"} == set(BOUND_KEYS)
    assert ROOT["properties"]["challenges"] == {"$ref": "#/$defs/challenges"}


@pytest.mark.parametrize("name", list(build_samples.BUILDERS))
def test_the_shipped_lessons_challenges_fit_the_schema(name):
    doc = lesson_checks.challenges(name, project.load(paths.SAMPLES / f"{name}.nnproj"))
    assert schema_errors(json.loads(json.dumps(doc))) == []


def test_every_kind_example_fits_and_the_schema_can_fail():
    doc = copy.deepcopy(EVERY_KIND)
    doc["original"] = Original.of(_perceptron()).to_dict()
    validate_challenges(doc)   # the validator accepts it, and so does the schema
    assert schema_errors(json.loads(json.dumps(doc))) == []
    bad = copy.deepcopy(doc)
    bad["goals"][0]["require"][0]["loss"] = "hinge"
    bad["goals"][0]["require"][5]["colour"] = "red"
    bad["goals"][0]["require"].append({"kind": "eval", "code": "1"})
    errs = schema_errors(bad)
    assert any("require[0].loss" in e for e in errs)
    assert any("require[5].colour: not allowed" in e for e in errs)
    assert any("unknown kind" in e for e in errs)
