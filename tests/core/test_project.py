"""Project files: strict loading with one-line errors naming the JSON path, migrations, limits,
atomic saving, exact round trips, and the shipped JSON Schema."""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import fields

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnstudio import paths
from nnstudio.core import (
    activations,
    datasets,
    derived_inputs,
    losses,
    optimizers,
    project,
    regularization,
)
from nnstudio.core.network import INITS, ROLES
from nnstudio.core.project import Project, ProjectError
from nnstudio.core.trainer import Trainer, TrainSettings


def base_doc() -> dict:
    return json.loads(project.dumps(project.new_project()))


def refused(doc_or_text, start: str) -> str:
    text = doc_or_text if isinstance(doc_or_text, str) else json.dumps(doc_or_text)
    with pytest.raises(ProjectError) as e:
        project.loads(text)
    msg = str(e.value)
    assert "\n" not in msg, msg
    assert msg.startswith(start), msg
    return msg


def with_token(doc: dict, setter, token: str) -> str:
    """Put a raw JSON token (NaN, Infinity, 1e999) where ``setter`` puts a placeholder."""
    setter(doc, "__TOKEN__")
    return json.dumps(doc).replace('"__TOKEN__"', token)


# ---------------------------------------------------------------------- the happy path
def test_new_project_is_small_valid_and_trains():
    p = project.new_project()
    assert len(p.network.inputs) == 2 and len(p.network.outputs) == 1
    p.check()
    tr = Trainer(p.network, p.dataset.X, p.dataset.Y, p.settings)
    first = tr.full_loss()
    assert tr.train()[-1].loss < first / 5


def test_save_load_round_trip_is_exact(tmp_path):
    p = project.new_project()
    p.description = "# Ünïcode ✓\n\n| a | b |\n"
    p.name = "Round trip"
    p.settings = p.settings.with_(loss="ssr", optimizer="momentum", batch_size=2, epochs=7,
                                  seed=5, init="he", validation_split=0.25)
    p.network.set_activation("h2", "leaky_relu", slope=0.2)
    p.network.set_trainable("c3", False)
    path = tmp_path / "p.nnproj"
    project.save(p, path)
    q = project.load(path)
    assert project.dumps(q) == project.dumps(p) == path.read_text(encoding="utf-8")
    assert q.settings == p.settings and q.name == "Round trip" and q.description == p.description
    assert q.network.neurons["h2"].slope == 0.2
    assert not q.network.connections["c3"].trainable
    assert q.dataset == p.dataset and q.dataset.class_names == ["0", "1"]


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=60, deadline=None)
@given(params=st.lists(finite, min_size=13, max_size=13),
       xs=st.lists(finite, min_size=8, max_size=8),
       pos=st.tuples(st.floats(-1e7, 1e7), st.floats(-1e7, 1e7)),
       lr=st.floats(1e-12, 1e3, exclude_min=False))
def test_floats_round_trip_bit_for_bit(params, xs, pos, lr):
    p = project.new_project()
    ids = p.network.param_ids()
    p.network.set_params(dict(zip(ids, params, strict=True)))
    p.network.move_neuron("h1", *pos)
    p.dataset = datasets.Dataset(["a", "b"], ["y"], np.array(xs).reshape(4, 2),
                                 p.dataset.Y.copy(), ["0", "1"])
    p.settings = p.settings.with_(learning_rate=lr)
    q = project.loads(project.dumps(p))
    a = np.array([p.network.get_param(i) for i in ids])
    b = np.array([q.network.get_param(i) for i in ids])
    assert a.tobytes() == b.tobytes()  # bit for bit, -0.0 and subnormals included
    assert q.dataset.X.tobytes() == p.dataset.X.tobytes()
    assert (q.network.neurons["h1"].x, q.network.neurons["h1"].y) == pos
    assert q.settings.learning_rate == lr


def test_missing_optional_fields_take_defaults():
    d = base_doc()
    for n in d["network"]["neurons"]:
        for k in ("label", "bias", "bias_trainable", "x", "y"):
            n.pop(k)
    for c in d["network"]["connections"]:
        c.pop("trainable")
    del d["settings"], d["name"], d["description"]
    p = project.from_dict(d)
    assert p.name == "Untitled" and p.description == "" and p.settings == TrainSettings()
    assert p.network.neurons["h1"].label == "h1" and p.network.neurons["h1"].bias == 0.0
    assert not p.network.neurons["x1"].bias_trainable and p.network.neurons["h1"].bias_trainable


# ---------------------------------------------------------------------- refusals
def test_malformed_json_names_line_and_column():
    refused('{"format": "nnstudio-project",\n  "x": }', "line 2, column 8: malformed JSON")
    refused('{"a": 1} trailing', "line 1, column 10: malformed JSON: Extra data")
    refused("", "the file is empty")
    refused("   \n", "the file is empty")
    refused("[" * 100_000 + "]" * 100_000, "the JSON is nested more than 64 levels deep")


def test_brackets_inside_strings_do_not_count_as_nesting():
    p = project.new_project()
    p.description = "[" * 500
    assert project.loads(project.dumps(p)).description == "[" * 500


@pytest.mark.parametrize("token, shown", [
    ("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"), ("1e999", "1e999"),
    ("1" + "0" * 400, "1" + "0" * 29 + "… (401 characters)"),
])
def test_non_finite_numbers_are_refused_where_they_occur(token, shown):
    def put(d, v):
        d["network"]["connections"][3]["weight"] = v
    refused(with_token(base_doc(), put, token),
            f"$.network.connections[3].weight: must be a finite number, got {shown}")


def test_non_finite_in_other_places():
    def bias(d, v):
        d["network"]["neurons"][4]["bias"] = v

    def cell(d, v):
        d["dataset"]["X"][2][1] = v

    def lr(d, v):
        d["settings"]["learning_rate"] = v
    refused(with_token(base_doc(), bias, "NaN"),
            "$.network.neurons[4].bias: must be a finite number, got NaN")
    refused(with_token(base_doc(), cell, "-Infinity"),
            "$.dataset.X[2][1]: must be a finite number, got -Infinity")
    refused(with_token(base_doc(), lr, "Infinity"),
            "$.settings.learning_rate: must be a finite number, got Infinity")


def _mut(path_value):
    """A mutation: set doc[path...] = value (``...`` keys as a tuple)."""
    keys, value = path_value

    def apply(d):
        obj = d
        for k in keys[:-1]:
            obj = obj[k]
        if value is _DELETE:
            del obj[keys[-1]]
        else:
            obj[keys[-1]] = value
        return d
    return apply


_DELETE = object()
N, C = ("network", "neurons"), ("network", "connections")

CASES = [
    # wrong types
    (((*C, 3, "weight"), "abc"), "$.network.connections[3].weight: must be a number, got the text "
     "'abc'"),
    (((*C, 3, "weight"), True), "$.network.connections[3].weight: must be a number, got true"),
    (((*C, 3, "trainable"), 1), "$.network.connections[3].trainable: must be true or false, got 1"),
    (((*N, 2, "label"), 7), "$.network.neurons[2].label: must be text, got 7"),
    (((*N, 2, "label"), ""), "$.network.neurons[2].label: must not be empty"),
    (((*N, 2, "label"), "two\nlines"), "$.network.neurons[2].label: must be one line of text"),
    ((("name",), "x" * 201), "$.name: is 201 characters long, more than the limit of 200"),
    (((*N, 2, "id"), "2bad"), "$.network.neurons[2].id: '2bad' is not a valid id"),
    (((*N, 2, "role"), "middle"), "$.network.neurons[2].role: must be one of input, hidden, "
     "output"),
    (((*N,), {}), "$.network.neurons: must be a list, got an object"),
    (((*N, 0), []), "$.network.neurons[0]: must be an object, got a list"),
    ((("name",), None), "$.name: must be text, got null"),
    ((("description",), 5), "$.description: must be text, got 5"),
    ((("settings", "batch_size"), 2.5), "$.settings.batch_size: batch size must be a whole number"),
    ((("settings", "epochs"), -1), "$.settings.epochs: epochs must be a whole number"),
    ((("settings", "learning_rate"), 0), "$.settings.learning_rate: learning rate must be"),
    ((("settings", "validation_split"), 1.0), "$.settings.validation_split: validation split"),
    ((("settings", "init"), "zeros"), "$.settings.init: unknown initialisation 'zeros'"),
    ((("settings", "loss"), 3), "$.settings.loss: must be text, got 3"),
    # unknown names
    (((*N, 2, "activation"), "swish"), "$.network.neurons[2].activation: unknown activation "
     "'swish'"),
    ((("settings", "loss"), "hinge"), "$.settings.loss: unknown loss 'hinge'"),
    ((("settings", "optimizer"), "lbfgs"), "$.settings.optimizer: unknown optimizer 'lbfgs'"),
    (((*N, 0, "activation"), "sigmoid"), "$.network.neurons[0].activation: an input neuron passes"),
    (((*N, 2, "activation"), "softmax"), "$.network.neurons[2].activation: softmax works on the "
     "output"),
    (((*N, 0, "bias"), 1.0), "$.network.neurons[0].bias: an input neuron has no bias"),
    (((*N, 0, "bias_trainable"), True), "$.network.neurons[0].bias_trainable: an input neuron"),
    (((*N, 2, "x"), 1e9), "$.network.neurons[2].x: must be from -1e+07 to 1e+07"),
    # graph problems
    (((*C, 0, "target"), "h9"), "$.network.connections[0].target: there is no neuron 'h9'"),
    (((*C, 0, "source"), 5), "$.network.connections[0].source: must be a neuron id, got 5"),
    (((*N, 3, "id"), "h1"), "$.network.neurons[3].id: duplicate id 'h1' (already used at "
     "$.network.neurons[2].id)"),
    (((*C, 1, "id"), "h1"), "$.network.connections[1].id: duplicate id 'h1' (already used at "
     "$.network.neurons[2].id)"),
    (((*C, 1, "id"), "c1"), "$.network.connections[1].id: duplicate id 'c1'"),
    (((*C, 0, "target"), "x2"), "$.network.connections[0].target: 'x2' is an input neuron"),
    # structure keys
    ((("colour",), "blue"), "$.colour: unknown key"),
    (((*N, 1, "colour"), "blue"), "$.network.neurons[1].colour: unknown key"),
    ((("network",), _DELETE), "$: the key 'network' is missing"),
    (((*C, 2, "weight"), _DELETE), "$.network.connections[2]: the key 'weight' is missing"),
    ((("format",), "something-else"), "$.format: must be 'nnstudio-project'"),
    ((("format",), _DELETE), "$: the key 'format' is missing"),
    ((("format_version",), 3), "$.format_version: the file uses format version 3, newer than"),
    ((("format_version",), 0), "$.format_version: there is no format version 0"),
    ((("format_version",), "1"), "$.format_version: must be a whole number, got the text '1'"),
    # dataset
    ((("dataset", "X", 2), [0.0]), "$.dataset.X[2]: has 1 value(s), expected 2"),
    ((("dataset", "X", 1, 0), True), "$.dataset.X[1][0]: must be a number, got true"),
    ((("dataset", "Y", 3, 0), "1"), "$.dataset.Y[3][0]: must be a number, got the text '1'"),
    ((("dataset", "X", 1), 5), "$.dataset.X[1]: must be a list of 2 numbers, got 5"),
    ((("dataset", "inputs"), ["a"]), "$.dataset.X[0]: has 2 value(s), expected 1"),
    ((("dataset", "inputs"), ["a", "a"]), "$.dataset.inputs[1]: the column name 'a' is used twice"),
    ((("dataset", "targets"), []), "$.dataset.targets: needs at least one column name"),
    ((("dataset", "class_names"), ["no", "yes", "maybe"]), "$.dataset.class_names: one target "
     "column"),
    ((("dataset", "Y", 0, 0), 0.5), "$.dataset.class_names: target row 1 is 0.5"),
]


@pytest.mark.parametrize("change, start", CASES, ids=[c[1][:60] for c in CASES])
def test_refused_with_one_line_naming_the_json_path(change, start):
    refused(_mut(change)(base_doc()), start)


def test_cycle_self_loop_duplicate_pair_and_output_source():
    d = base_doc()
    conns = d["network"]["connections"]
    conns.append({"id": "k1", "source": "h1", "target": "h2", "weight": 1.0})
    conns.append({"id": "k2", "source": "h2", "target": "h3", "weight": 1.0})
    conns.append({"id": "k3", "source": "h3", "target": "h1", "weight": 1.0})
    msg = refused(d, "$.network.connections: the connections form a cycle: ")
    assert "h1 → h2 → h3 → h1" in msg
    d = base_doc()
    d["network"]["connections"].append({"id": "k1", "source": "h1", "target": "h1", "weight": 1})
    refused(d, "$.network.connections[9]: connects neuron 'h1' to itself")
    d = base_doc()
    d["network"]["connections"].append(dict(d["network"]["connections"][0], id="k1"))
    refused(d, "$.network.connections[9]: a second connection from 'x1' to 'h1' "
            "(the first is $.network.connections[0])")
    d = base_doc()
    d["network"]["neurons"].append({"id": "z", "role": "hidden", "activation": "relu"})
    d["network"]["connections"].append({"id": "k1", "source": "y1", "target": "z", "weight": 1})
    refused(d, "$.network.connections[9].source: 'y1' is an output neuron")


def test_dataset_and_network_columns_must_match():
    d = base_doc()
    d["dataset"]["inputs"].append("x3")
    for row in d["dataset"]["X"]:
        row.append(0.0)
    refused(d, "$.dataset.inputs: the dataset has 3 input column(s) but the network has 2 "
            "input neuron(s)")
    d = base_doc()
    d["dataset"]["targets"].append("extra")
    d["dataset"].pop("class_names")
    for row in d["dataset"]["Y"]:
        row.append(0.0)
    refused(d, "$.dataset.targets: the dataset has 2 target column(s) but the network has 1")
    d = base_doc()
    d["dataset"]["Y"].pop()
    refused(d, "$.dataset.Y: has 3 rows but X has 4")


def test_duplicate_keys_and_non_objects():
    text = project.dumps(project.new_project())
    refused(text.replace('"name": "Untitled"', '"name": "a", "name": "b"'),
            "$.name: the key appears more than once")
    refused(text.replace('"id": "c2", ', '"id": "c2", "weight": 1, '),
            "$.network.connections[1].weight: the key appears more than once")
    refused("[1, 2]", "$: a project file must hold a JSON object, got a list")
    refused('"hello"', "$: a project file must hold a JSON object, got the text 'hello'")


def test_limits(monkeypatch, tmp_path):
    text = project.dumps(project.new_project())
    monkeypatch.setattr(project.network_section, "MAX_NEURONS", 3)
    refused(text, "$.network.neurons: 6 neurons is more than the limit of 3")
    monkeypatch.setattr(project.network_section, "MAX_NEURONS", 10_000)
    monkeypatch.setattr(project.network_section, "MAX_CONNECTIONS", 4)
    refused(text, "$.network.connections: 9 connections is more than the limit of 4")
    monkeypatch.setattr(project.network_section, "MAX_CONNECTIONS", 500_000)
    monkeypatch.setattr(datasets, "MAX_ROWS", 3)
    refused(text, "$.dataset.X: 4 rows is more than the limit of 3")
    monkeypatch.setattr(datasets, "MAX_ROWS", 200_000)
    monkeypatch.setattr(project.sections, "MAX_DESCRIPTION_LENGTH", 10)
    n = len(project.NEW_DESCRIPTION)
    refused(text, f"$.description: is {n} characters long, more than the limit of 10")
    monkeypatch.setattr(project.sections, "MAX_DESCRIPTION_LENGTH", 200_000)
    path = tmp_path / "big.nnproj"
    path.write_text(text)
    monkeypatch.setattr(project.parsing, "MAX_FILE_BYTES", 100)
    with pytest.raises(ProjectError, match=r"^the file is \d+ bytes, more than the limit of 100"):
        project.load(path)
    out = tmp_path / "too-big.nnproj"
    with pytest.raises(ProjectError, match=r"^cannot save: the project would be \d+ bytes, "
                       "more than the file size limit of 100 bytes"):
        project.save(project.new_project(), out)
    assert not out.exists()


def test_load_file_problems(tmp_path):
    with pytest.raises(ProjectError, match="cannot read .*No such file"):
        project.load(tmp_path / "missing.nnproj")
    with pytest.raises(ProjectError, match="is a folder"):
        project.load(tmp_path)
    bad = tmp_path / "bad.nnproj"
    bad.write_bytes(b'{"format":\n "\xff"}')
    with pytest.raises(ProjectError, match="^line 2: the file is not UTF-8"):
        project.load(bad)


def test_never_pickle_or_eval():
    folder = os.path.dirname(project.__file__)
    modules = [f for f in os.listdir(folder) if f.endswith(".py")]
    assert len(modules) > 5  # every stage of the package, not only its __init__
    for name in modules:
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            assert not re.search(r"\bpickle\b|\beval\(|\bexec\(", f.read()), name


# ---------------------------------------------------------------------- migrations
def test_migration_path_upgrades_older_versions(monkeypatch):
    """A future format 3 renames a key: files of version 1 go through MIGRATIONS[1] and then
    MIGRATIONS[2], one version at a time."""
    def v2_to_v3(doc):
        doc["description"] = doc.pop("lesson")
        return doc
    old = dict(base_doc(), format_version=1)
    old["lesson"] = old.pop("description")  # what a (hypothetical) version-2 file held
    monkeypatch.setattr(project.versions, "FORMAT_VERSION", 3)
    monkeypatch.setattr(project.versions, "MIGRATIONS",
                        {**project.versions.MIGRATIONS, 2: v2_to_v3})
    p = project.loads(json.dumps(old))
    assert p.description == project.NEW_DESCRIPTION
    assert json.loads(project.dumps(p))["format_version"] == 3
    newer = dict(base_doc(), format_version=4)
    refused(newer, "$.format_version: the file uses format version 4, newer than this NN "
            "Studio understands (up to 3)")
    monkeypatch.setattr(project.versions, "MIGRATIONS", {1: project.versions.MIGRATIONS[1]})
    refused(old, "$.format_version: cannot upgrade format version 2")


# ---------------------------------------------------------------------- atomic save
def _temps(folder) -> list[str]:
    return [f for f in os.listdir(folder) if f.endswith(".tmp")]


def test_save_is_atomic_when_the_disk_fails(tmp_path, monkeypatch):
    path = tmp_path / "p.nnproj"
    project.save(project.new_project(), path)
    before = path.read_bytes()
    changed = project.new_project()
    changed.name = "Changed"
    for target in ("fsync", "replace"):
        def boom(*a, **k):
            raise OSError(28, "No space left on device")
        with monkeypatch.context() as m:
            m.setattr(os, target, boom)
            with pytest.raises(ProjectError, match="cannot save .*No space left"):
                project.save(changed, path)
        assert path.read_bytes() == before
        assert _temps(tmp_path) == []


def test_interrupted_save_removes_its_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "p.nnproj"

    def interrupt(fd):
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        project.save(project.new_project(), path)
    assert not path.exists() and _temps(tmp_path) == []


def test_save_keeps_permissions_and_refuses_invalid_projects(tmp_path):
    path = tmp_path / "p.nnproj"
    project.save(project.new_project(), path)
    os.chmod(path, 0o640)
    project.save(project.new_project(), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    p = project.new_project()
    p.network.add_neuron("input", id="x3")
    out = tmp_path / "never.nnproj"
    with pytest.raises(ProjectError, match=r"^cannot save: \$\.dataset\.inputs: the dataset has 2"):
        project.save(p, out)
    assert not out.exists() and _temps(tmp_path) == []
    with pytest.raises(ProjectError, match="cannot save .*No such file"):
        project.save(project.new_project(), tmp_path / "no" / "such" / "dir.nnproj")


# ---------------------------------------------------------------------- the JSON Schema
SCHEMA_PATH = paths.resource("nnproj.schema.json")


def load_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def check_schema(value, schema: dict, root: dict, path: str = "$") -> list[str]:
    """A small structural JSON Schema checker (the keywords our schema uses), so the tests
    need no jsonschema dependency. Returns a list of problems."""
    if "$ref" in schema:
        node = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
    errs: list[str] = []
    if "oneOf" in schema:   # (checked as "any of": the branches here differ by type or kind)
        tries = [check_schema(value, branch, root, path) for branch in schema["oneOf"]]
        if all(tries):
            return [f"{path}: matches none of its oneOf branches: "
                    + "; ".join(e[0] for e in tries)]
    t = schema.get("type")
    if t is not None:
        types = t if isinstance(t, list) else [t]
        ok = False
        for ty in types:
            if ty in ("number", "integer"):
                ok |= isinstance(value, (int, float)) and not isinstance(value, bool) and (
                    ty == "number" or isinstance(value, int))
            else:
                ok |= isinstance(value, _TYPES[ty]) and not (ty != "boolean" and
                                                             isinstance(value, bool))
        if not ok:
            return [f"{path}: expected {t}, got {type(value).__name__}"]
    if "const" in schema and value != schema["const"]:
        errs.append(f"{path}: expected {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errs.append(f"{path}: {value!r} not in enum")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errs.append(f"{path}: below minimum")
        if "maximum" in schema and value > schema["maximum"]:
            errs.append(f"{path}: above maximum")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errs.append(f"{path}: not above exclusiveMinimum")
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            errs.append(f"{path}: not below exclusiveMaximum")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", 1e18):
            errs.append(f"{path}: bad length")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errs.append(f"{path}: does not match {schema['pattern']}")
    if isinstance(value, dict):
        for k in schema.get("required", []):
            if k not in value:
                errs.append(f"{path}: missing required {k!r}")
        props = schema.get("properties", {})
        for k, v in value.items():
            if k in props:
                errs += check_schema(v, props[k], root, f"{path}.{k}")
            elif schema.get("additionalProperties") is False:
                errs.append(f"{path}.{k}: not allowed")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", 1e18):
            errs.append(f"{path}: bad number of items")
        if "items" in schema:
            for i, v in enumerate(value):
                errs += check_schema(v, schema["items"], root, f"{path}[{i}]")
    return errs


def test_schema_is_shipped_and_matches_the_code():
    s = load_schema()
    d = s["$defs"]
    assert s["properties"]["format"]["const"] == project.FORMAT
    assert s["properties"]["format_version"]["const"] == project.FORMAT_VERSION
    assert set(s["properties"]) == set(project.TOP_KEYS)
    assert d["neuron"]["properties"]["activation"]["enum"] == list(activations.NAMES)
    assert d["neuron"]["properties"]["role"]["enum"] == list(ROLES)
    assert d["settings"]["properties"]["loss"]["enum"] == list(losses.NAMES)
    assert d["settings"]["properties"]["optimizer"]["enum"] == list(optimizers.NAMES)
    assert d["settings"]["properties"]["init"]["enum"] == list(INITS)
    assert d["settings"]["properties"]["regularization"]["enum"] == list(regularization.NAMES)
    assert d["neuron"]["properties"]["derive"]["enum"] == list(derived_inputs.NAMES)
    assert set(d["settings"]["properties"]) == {f.name for f in fields(TrainSettings)}
    section = project.network_section
    assert set(d["neuron"]["required"]) == set(section.NEURON_REQUIRED)
    assert set(d["neuron"]["properties"]) == set(section.NEURON_REQUIRED
                                                 + section.NEURON_OPTIONAL)
    assert set(d["connection"]["properties"]) == set(section.CONNECTION_REQUIRED
                                                      + section.CONNECTION_OPTIONAL)
    assert d["network"]["properties"]["neurons"]["maxItems"] == project.MAX_NEURONS
    assert d["network"]["properties"]["connections"]["maxItems"] == project.MAX_CONNECTIONS
    assert d["dataset"]["properties"]["X"]["maxItems"] == datasets.MAX_ROWS
    assert s["properties"]["description"]["maxLength"] == project.MAX_DESCRIPTION_LENGTH


def test_schema_checker_accepts_saved_files_and_can_fail():
    s = load_schema()
    assert check_schema(base_doc(), s, s) == []
    bad = base_doc()
    bad["network"]["neurons"][2]["activation"] = "swish"
    bad["network"]["connections"][0]["colour"] = "red"
    del bad["dataset"]["X"]
    errs = check_schema(bad, s, s)
    assert any("activation" in e for e in errs) and any("colour" in e for e in errs)
    assert any("missing required 'X'" in e for e in errs)


def test_project_copy_and_check():
    p = project.new_project()
    q = p.copy()
    q.network.set_param("c1", 5.0)
    assert p.network.get_param("c1") != 5.0
    q.network.add_neuron("output", id="y2")
    with pytest.raises(ProjectError, match=r"^\$\.dataset\.targets"):
        q.check()
    assert isinstance(p.check(), Project)


# ---------------------------------------------------------------------- fuzzing the loader
def _all_paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _all_paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            yield from _all_paths(v, (*prefix, i))


_BASE_PATHS = [p for p in _all_paths(base_doc()) if p]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**30, 10**30) | finite
    | st.text(max_size=12) | st.sampled_from(["h1", "x1", "c1", "relu", "softmax", "input"]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(edits=st.lists(st.tuples(st.sampled_from(_BASE_PATHS), json_values), min_size=1,
                      max_size=3))
def test_any_edit_loads_or_gives_one_line_error(edits):
    """Whatever a file holds, loading either succeeds or raises ProjectError with one line."""
    d = base_doc()
    for path, value in edits:
        obj = d
        try:
            for k in path[:-1]:
                obj = obj[k]
            obj[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    try:
        p = project.loads(json.dumps(d))
    except ProjectError as e:
        assert "\n" not in str(e) and (str(e).startswith("$") or str(e).startswith("line"))
    else:
        assert project.dumps(project.loads(project.dumps(p))) == project.dumps(p)
