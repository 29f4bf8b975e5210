"""Project files (``.nnproj``): a network, its dataset, training settings and a Markdown lesson.

The format is JSON, described in docs/file-format.md and by the JSON Schema shipped as
``nnstudio/resources/nnproj.schema.json``. Loading goes

    parse  →  check the envelope  →  migrate  →  validate  →  build

* **parse**: strict JSON. Malformed text is refused with its line and column; NaN, Infinity and
  numbers too large for a float are refused where they occur; duplicate keys are refused.
  Nothing is ever unpickled or evaluated.
* **envelope**: ``format`` must be ``"nnstudio-project"`` and ``format_version`` a known version.
  A newer version than this program knows is refused with a message saying so.
* **migrate**: older versions are upgraded one step at a time by :data:`MIGRATIONS`.
* **validate**: every field, with a one-line :class:`ProjectError` naming the JSON path and the
  problem, e.g. ``$.network.connections[3].weight: must be a finite number, got NaN``.
* **build**: the :class:`~nnstudio.core.network.Network`, :class:`~nnstudio.core.datasets.Dataset`
  and :class:`~nnstudio.core.trainer.TrainSettings`.

Saving is atomic (:func:`~nnstudio.core.files.atomic_write`): on any failure the target is
untouched. Floats are written with ``repr``, so save then load gives
back every number bit for bit.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field, fields
from typing import Any, Callable

import numpy as np

from . import activations, datasets
from .datasets import Dataset, DatasetError
from .files import atomic_write, read_limited
from .network import (_ID_RE, ROLES, Network, NetworkError, connection_columns, find_cycle_ids,
                      gc_paused)
from .trainer import SettingsError, TrainSettings

FORMAT = "nnstudio-project"
FORMAT_VERSION = 1
SUFFIX = ".nnproj"

# Limits: a file beyond them is refused before it can exhaust memory or time.
MAX_FILE_BYTES = 128 * 1024 * 1024
MAX_NEURONS = 10_000
MAX_CONNECTIONS = 500_000
MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 200_000
MAX_LABEL_LENGTH = 64
MAX_POSITION = 1e7           # |x|, |y| of a neuron on the canvas
MAX_NESTING = 64             # JSON nesting depth


class ProjectError(ValueError):
    """A project file that cannot be loaded or saved; one line naming the place and problem."""


# ---------------------------------------------------------------------- the project
@dataclass
class Project:
    network: Network
    dataset: Dataset
    settings: TrainSettings = field(default_factory=TrainSettings)
    description: str = ""
    name: str = "Untitled"

    def check(self) -> "Project":
        """Raise ProjectError if the parts do not fit together (the checks a file gets)."""
        validate_document(to_dict(self))
        return self

    def copy(self) -> "Project":
        return Project(self.network.copy(), self.dataset.copy(), self.settings,
                       self.description, self.name)

    def to_dict(self) -> dict:
        return to_dict(self)


# ---------------------------------------------------------------------- parse
class _Bad:
    """A JSON number that is not a finite float (NaN, Infinity, 1e999): kept as a marker so
    validation can name the place it occurs."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


class _DupObject(dict):
    """A JSON object that had a key more than once (the first duplicate is remembered)."""

    duplicate: str = ""


def _pairs(pairs: list[tuple[str, Any]]) -> dict:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        d = _DupObject(d)
        d.duplicate = dup
    return d


def _parse_float(s: str):
    v = float(s)
    return v if math.isfinite(v) else _Bad(s)


def _parse_int(s: str):
    if len(s) > 20:
        return _Bad(s)
    return int(s)


def parse(text: str | bytes) -> Any:
    """Strict JSON → Python values (NaN/Infinity kept as markers for validation to refuse)."""
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise ProjectError(f"the file is {len(text)} bytes, more than the limit of "
                               f"{MAX_FILE_BYTES} bytes")
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = text[:e.start].count(b"\n") + 1
            raise ProjectError(f"line {line}: the file is not UTF-8 text") from None
    elif len(text) > MAX_FILE_BYTES:
        raise ProjectError(f"the text is {len(text)} characters, more than the limit of "
                           f"{MAX_FILE_BYTES}")
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise ProjectError("the file is empty; expected a JSON object")
    _check_nesting(text)
    try:
        return json.loads(text, parse_constant=_Bad, parse_float=_parse_float,
                          parse_int=_parse_int, object_pairs_hook=_pairs)
    except json.JSONDecodeError as e:
        raise ProjectError(f"line {e.lineno}, column {e.colno}: malformed JSON: {e.msg}") from None
    except (RecursionError, ValueError) as e:
        raise ProjectError(f"malformed JSON: {e}") from None


def _check_nesting(text: str) -> None:
    """Refuse nesting deeper than MAX_NESTING before the recursive parser meets it. Brackets
    inside strings do not count; the scan is vectorised (numpy over the UTF-8 bytes, whose
    multi-byte characters never contain a quote, a backslash or a bracket)."""
    if _true_depth(text) > MAX_NESTING:
        raise ProjectError(f"the JSON is nested more than {MAX_NESTING} levels deep")


_ESCAPE = re.compile(rb"\\.", re.S)
_NOT_STRUCTURAL = bytes(b for b in range(256) if b not in b'"[]{}')


def _true_depth(text: str | bytes) -> int:
    """The deepest nesting of ``[`` and ``{`` outside strings (for well-formed JSON): drop the
    escape sequences, keep only quotes and brackets (``bytes.translate``), then count with
    numpy. UTF-8 multi-byte characters never contain these bytes."""
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    if b"\\" in data:
        data = _ESCAPE.sub(b"", data)
    a = np.frombuffer(data.translate(None, _NOT_STRUCTURAL), dtype=np.uint8)
    # 1 from an opening quote up to (not including) its closing quote
    inside = np.bitwise_xor.accumulate((a == ord('"')).view(np.uint8))
    step = (a == ord("[")).view(np.int8) + (a == ord("{")).view(np.int8) \
        - (a == ord("]")).view(np.int8) - (a == ord("}")).view(np.int8)
    step[inside.view(bool)] = 0
    return int(np.cumsum(step, dtype=np.int64).max(initial=0))


# ---------------------------------------------------------------------- validation helpers
def _describe(v: Any) -> str:
    if isinstance(v, _Bad):
        return v.text
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        s = v if len(v) <= 40 else v[:37] + "..."
        return f"the text {s!r}"
    if isinstance(v, dict):
        return "an object"
    if isinstance(v, list):
        return "a list"
    return repr(v)


def _fail(path: str, msg: str) -> None:
    raise ProjectError(f"{path}: {msg}")


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _key(path: str, k: str) -> str:
    """The JSON path of an object member; odd keys are quoted (and kept on one line)."""
    return f"{path}.{k}" if _PLAIN_KEY.match(k) else f"{path}[{json.dumps(k[:40])}]"


def _obj(v: Any, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    if not isinstance(v, dict):
        _fail(path, f"must be an object, got {_describe(v)}")
    if isinstance(v, _DupObject):
        _fail(_key(path, v.duplicate), "the key appears more than once")
    for k in required:
        if k not in v:
            _fail(path, f"the key {k!r} is missing")
    allowed = set(required) | set(optional)
    for k in v:
        if k not in allowed:
            _fail(_key(path, k), f"unknown key (allowed here: {', '.join(sorted(allowed))})")
    return v


def _list(v: Any, path: str, limit: int, what: str) -> list:
    if not isinstance(v, list):
        _fail(path, f"must be a list, got {_describe(v)}")
    if len(v) > limit:
        _fail(path, f"{len(v)} {what} is more than the limit of {limit}")
    return v


def _num(v: Any, path: str, lo: float | None = None, hi: float | None = None) -> float:
    if isinstance(v, _Bad):
        _fail(path, f"must be a finite number, got {v.text}")
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        _fail(path, f"must be a number, got {_describe(v)}")
    f = float(v)
    if (lo is not None and f < lo) or (hi is not None and f > hi):
        _fail(path, f"must be from {lo:g} to {hi:g}, got {v!r}")
    return f


def _int(v: Any, path: str, lo: int, hi: int) -> int:
    if isinstance(v, _Bad) or isinstance(v, bool) or not isinstance(v, int):
        _fail(path, f"must be a whole number, got {_describe(v)}")
    if not lo <= v <= hi:
        _fail(path, f"must be from {lo} to {hi}, got {v}")
    return v


def _bool(v: Any, path: str) -> bool:
    if not isinstance(v, bool):
        _fail(path, f"must be true or false, got {_describe(v)}")
    return v


def _str(v: Any, path: str, max_len: int, empty_ok: bool = False,
         one_line: bool = True) -> str:
    if not isinstance(v, str):
        _fail(path, f"must be text, got {_describe(v)}")
    if one_line and any(ord(ch) < 32 or ord(ch) == 127 for ch in v):
        _fail(path, "must be one line of text, without control characters such as line breaks")
    if not empty_ok and not v.strip():
        _fail(path, "must not be empty")
    if len(v) > max_len:
        _fail(path, f"is {len(v)} characters long, more than the limit of {max_len}")
    return v


# ---------------------------------------------------------------------- envelope + migration
TOP_KEYS = ("format", "format_version", "name", "description", "settings", "network", "dataset")

#: ``MIGRATIONS[n]`` turns a version-``n`` document (a dict) into a version ``n + 1`` one.
#: Format 1 is the first published format, so there is nothing to migrate yet; a future format 2
#: adds ``MIGRATIONS[1]`` and raises FORMAT_VERSION (see docs/file-format.md, "Versions").
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


def check_envelope(doc: Any) -> int:
    """The top-level object, its ``format`` and ``format_version``; returns the version."""
    if not isinstance(doc, dict):
        _fail("$", f"a project file must hold a JSON object, got {_describe(doc)}")
    if isinstance(doc, _DupObject):
        _fail(_key("$", doc.duplicate), "the key appears more than once")
    if "format" not in doc:
        _fail("$", "the key 'format' is missing; this is not an NN Studio project file")
    if doc["format"] != FORMAT:
        _fail("$.format", f"must be {FORMAT!r}, got {_describe(doc['format'])}; this is not an "
              "NN Studio project file")
    if "format_version" not in doc:
        _fail("$", "the key 'format_version' is missing")
    v = doc["format_version"]
    if isinstance(v, bool) or not isinstance(v, int):
        _fail("$.format_version", f"must be a whole number, got {_describe(v)}")
    if v > FORMAT_VERSION:
        _fail("$.format_version", f"the file uses format version {v}, newer than this NN Studio "
              f"understands (up to {FORMAT_VERSION}); open it with a newer NN Studio")
    if v < 1:
        _fail("$.format_version", f"there is no format version {v}; versions start at 1")
    return v


def migrate(doc: dict) -> dict:
    """Upgrade an envelope-checked document to FORMAT_VERSION, one version at a time."""
    v = check_envelope(doc)
    while v < FORMAT_VERSION:
        step = MIGRATIONS.get(v)
        if step is None:
            _fail("$.format_version", f"cannot upgrade format version {v}: no migration")
        doc = step(dict(doc))
        v += 1
        doc["format_version"] = v
    return doc


# ---------------------------------------------------------------------- validation
NEURON_REQUIRED = ("id", "role", "activation")
NEURON_OPTIONAL = ("label", "bias", "bias_trainable", "x", "y", "slope")
CONNECTION_REQUIRED = ("id", "source", "target", "weight")
CONNECTION_OPTIONAL = ("trainable",)
SETTINGS_KEYS = tuple(f.name for f in fields(TrainSettings))


def _check_id(v: Any, path: str) -> str:
    if not isinstance(v, str):
        _fail(path, f"must be text, got {_describe(v)}")
    if not _ID_RE.match(v):
        _fail(path, f"{v[:70]!r} is not a valid id: use 1 to 64 letters, digits, '_', '.' or "
              "'-', starting with a letter or '_'")
    return v


def _item(v: Any, path: str, required: tuple[str, ...], optional: tuple[str, ...],
          where: dict[str, str]) -> str:
    """A neuron or connection object: its keys and its id, which no earlier item used
    (``where``: id -> the JSON path of its definition, updated); returns the id."""
    _obj(v, path, required, optional)
    item_id = _check_id(v["id"], f"{path}.id")
    if item_id in where:
        _fail(f"{path}.id", f"duplicate id {item_id!r} (already used at {where[item_id]})")
    where[item_id] = f"{path}.id"
    return item_id


def _validate_network(net: Any, path: str) -> tuple[dict, tuple | None]:
    """Check every neuron and connection; return the normalised network dict, and the
    connections as columns (see :func:`~nnstudio.core.network.connection_columns`) when they
    passed the bulk check."""
    _obj(net, path, ("neurons", "connections"))
    neurons = _list(net["neurons"], f"{path}.neurons", MAX_NEURONS, "neurons")
    conns = _list(net["connections"], f"{path}.connections", MAX_CONNECTIONS, "connections")
    where: dict[str, str] = {}   # id -> JSON path where it was defined
    roles: dict[str, str] = {}
    labels: dict[str, str] = {}
    out_n = []
    for i, nd in enumerate(neurons):
        p = f"{path}.neurons[{i}]"
        nid = _item(nd, p, NEURON_REQUIRED, NEURON_OPTIONAL, where)
        role = nd["role"]
        if role not in ROLES:
            _fail(f"{p}.role", f"must be one of {', '.join(ROLES)}, got {_describe(role)}")
        act = nd["activation"]
        if not isinstance(act, str) or act not in activations.ACTIVATIONS:
            shown = repr(act) if isinstance(act, str) else _describe(act)
            _fail(f"{p}.activation", f"unknown activation {shown} (known: "
                  f"{', '.join(activations.NAMES)})")
        if role == "input" and act != "identity":
            _fail(f"{p}.activation", f"an input neuron passes its value through, so its "
                  f"activation must be 'identity', got {act!r}")
        if act == "softmax" and role != "output":
            _fail(f"{p}.activation", f"softmax works on the output neurons as a group; this is "
                  f"a {role} neuron")
        label = _str(nd.get("label", nid), f"{p}.label", MAX_LABEL_LENGTH)
        bias = _num(nd.get("bias", 0.0), f"{p}.bias")
        bias_tr = _bool(nd.get("bias_trainable", role != "input"), f"{p}.bias_trainable")
        if role == "input" and (bias != 0.0 or bias_tr):
            _fail(f"{p}.bias" if bias != 0.0 else f"{p}.bias_trainable",
                  "an input neuron has no bias (bias 0, bias_trainable false)")
        _num(nd.get("x", 0.0), f"{p}.x", -MAX_POSITION, MAX_POSITION)
        _num(nd.get("y", 0.0), f"{p}.y", -MAX_POSITION, MAX_POSITION)
        _num(nd.get("slope", activations.DEFAULT_LEAKY_SLOPE), f"{p}.slope")
        roles[nid] = role
        labels[nid] = label
        d = {"id": nid, "role": role, "label": label, "activation": act, "bias": nd.get("bias", 0.0),
             "bias_trainable": bias_tr, "x": nd.get("x", 0.0), "y": nd.get("y", 0.0)}
        if "slope" in nd:
            d["slope"] = nd["slope"]
        out_n.append(d)
    cols = connection_columns(conns, roles)
    if cols is not None:  # all fine (checked in bulk): keep them as they are
        sources, targets = cols[1], cols[2]
        out_c = conns if cols[4] is not None else [dict(cd, trainable=True) for cd in conns]
    else:  # one at a time, to name the first problem (or normalise unusual input)
        out_c = _validate_connections(conns, path, where, roles)
        sources = [c["source"] for c in out_c]
        targets = [c["target"] for c in out_c]
    cycle = find_cycle_ids(list(roles), sources, targets)
    if cycle:
        _fail(f"{path}.connections", "the connections form a cycle: "
              + " → ".join(labels[n] for n in cycle) + "; a network must be feed-forward")
    return {"neurons": out_n, "connections": out_c}, cols


def _validate_connections(conns: list, path: str, where: dict[str, str],
                          roles: dict[str, str]) -> list[dict]:
    """Check connections one by one (the first problem raises); return normalised dicts."""
    pairs: dict[tuple[str, str], str] = {}
    out_c = []
    for i, cd in enumerate(conns):
        p = f"{path}.connections[{i}]"
        cid = _item(cd, p, CONNECTION_REQUIRED, CONNECTION_OPTIONAL, where)
        src, tgt = cd["source"], cd["target"]
        for key, nid in (("source", src), ("target", tgt)):
            if not isinstance(nid, str):
                _fail(f"{p}.{key}", f"must be a neuron id, got {_describe(nid)}")
            if nid not in roles:
                _fail(f"{p}.{key}", f"there is no neuron {nid[:70]!r} (a dangling connection)")
        if src == tgt:
            _fail(p, f"connects neuron {src!r} to itself")
        if roles[tgt] == "input":
            _fail(f"{p}.target", f"{tgt!r} is an input neuron and takes no incoming connections")
        if roles[src] == "output":
            _fail(f"{p}.source", f"{src!r} is an output neuron and feeds nothing")
        if (src, tgt) in pairs:
            _fail(p, f"a second connection from {src!r} to {tgt!r} (the first is "
                  f"{pairs[(src, tgt)]})")
        pairs[(src, tgt)] = p
        _num(cd["weight"], f"{p}.weight")
        tr = _bool(cd.get("trainable", True), f"{p}.trainable")
        out_c.append({"id": cid, "source": src, "target": tgt, "weight": cd["weight"],
                      "trainable": tr})
    return out_c


def _table(rows: Any, path: str, width: int, n_rows: int | None) -> None:
    """Every row a list of ``width`` finite numbers (fast path first, then find the culprit)."""
    rows = _list(rows, path, datasets.MAX_ROWS, "rows")
    if n_rows is not None and len(rows) != n_rows:
        _fail(path, f"has {len(rows)} rows but X has {n_rows}; each sample needs both")
    ok_types = (float, int)
    for r, row in enumerate(rows):
        if type(row) is not list:
            _fail(f"{path}[{r}]", f"must be a list of {width} numbers, got {_describe(row)}")
        if len(row) != width:
            _fail(f"{path}[{r}]", f"has {len(row)} value(s), expected {width} (one per column)")
        for t in set(map(type, row)):
            if t not in ok_types:
                c = next(c for c, v in enumerate(row) if type(v) is t)
                _num(row[c], f"{path}[{r}][{c}]")


def _validate_dataset(ds: Any, path: str) -> dict:
    _obj(ds, path, ("inputs", "targets", "X", "Y"), ("class_names",))
    names: dict[str, str] = {}
    for key in ("inputs", "targets"):
        lst = _list(ds[key], f"{path}.{key}", datasets.MAX_COLUMNS, "columns")
        if not lst:
            _fail(f"{path}.{key}", "needs at least one column name")
        for i, n in enumerate(lst):
            q = f"{path}.{key}[{i}]"
            s = _str(n, q, datasets.MAX_NAME_LENGTH).strip()
            if s in names:
                _fail(q, f"the column name {s!r} is used twice (also at {names[s]})")
            names[s] = q
    n_in, n_out = len(ds["inputs"]), len(ds["targets"])
    _table(ds["X"], f"{path}.X", n_in, None)
    _table(ds["Y"], f"{path}.Y", n_out, len(ds["X"]))
    n = len(ds["X"])
    if n * (n_in + n_out) > datasets.MAX_CELLS:
        _fail(f"{path}.X", f"{n} rows x {n_in + n_out} columns is more than the limit of "
              f"{datasets.MAX_CELLS} values")
    if "class_names" in ds and ds["class_names"] is not None:
        lst = _list(ds["class_names"], f"{path}.class_names", datasets.MAX_COLUMNS, "classes")
        for i, n_ in enumerate(lst):
            _str(n_, f"{path}.class_names[{i}]", datasets.MAX_NAME_LENGTH)
    try:
        Dataset.from_dict({k: v for k, v in ds.items() if k != "class_names"})
    except DatasetError as e:
        _fail(path, str(e))
    try:
        Dataset.from_dict(ds)
    except DatasetError as e:
        _fail(f"{path}.class_names", str(e))
    return ds


def _validate_settings(st: Any, path: str) -> dict:
    _obj(st, path, (), SETTINGS_KEYS)
    for key, value in st.items():
        if isinstance(value, _Bad):
            _fail(f"{path}.{key}", f"must be a finite number, got {value.text}")
        if key in ("loss", "optimizer", "init") and not isinstance(value, str):
            _fail(f"{path}.{key}", f"must be text, got {_describe(value)}")
        try:
            TrainSettings(**{key: value}).validate()
        except SettingsError as e:
            _fail(f"{path}.{key}", str(e))
    return st


def validate_document(doc: Any) -> dict:
    """Validate a current-version document; returns it with defaults filled in."""
    check_envelope(doc)
    if doc["format_version"] != FORMAT_VERSION:
        _fail("$.format_version", f"expected version {FORMAT_VERSION} after migration")
    _obj(doc, "$", ("format", "format_version", "network", "dataset"), TOP_KEYS)
    name = _str(doc.get("name", "Untitled"), "$.name", MAX_NAME_LENGTH)
    desc = _str(doc.get("description", ""), "$.description", MAX_DESCRIPTION_LENGTH,
                empty_ok=True, one_line=False)
    settings = _validate_settings(doc.get("settings", {}), "$.settings")
    net, columns = _validate_network(doc["network"], "$.network")
    ds = _validate_dataset(doc["dataset"], "$.dataset")
    n_in = sum(1 for n in net["neurons"] if n["role"] == "input")
    n_out = sum(1 for n in net["neurons"] if n["role"] == "output")
    if len(ds["inputs"]) != n_in:
        _fail("$.dataset.inputs", f"the dataset has {len(ds['inputs'])} input column(s) but the "
              f"network has {n_in} input neuron(s); they must match one to one")
    if len(ds["targets"]) != n_out:
        _fail("$.dataset.targets", f"the dataset has {len(ds['targets'])} target column(s) but "
              f"the network has {n_out} output neuron(s); they must match one to one")
    checked = _Checked(format=FORMAT, format_version=FORMAT_VERSION, name=name,
                       description=desc, settings=settings, network=net, dataset=ds)
    checked.columns = columns
    return checked


class _Checked(dict):
    """A document as :func:`validate_document` returns it, remembering the network's
    connections as checked columns so that :func:`build` need not check them again."""

    columns: tuple | None = None


# ---------------------------------------------------------------------- build
def build(doc: dict) -> Project:
    """A validated document → Project."""
    try:
        if isinstance(doc, _Checked) and doc.columns is not None:
            net = Network.from_columns(doc["network"]["neurons"], doc.columns)
        else:
            net = Network.from_dict(doc["network"])
    except NetworkError as e:  # validation should have caught it; keep the promise anyway
        raise ProjectError(f"$.network: {e}") from None
    try:
        ds = Dataset.from_dict(doc["dataset"])
    except DatasetError as e:
        raise ProjectError(f"$.dataset: {e}") from None
    try:
        settings = TrainSettings(**doc["settings"]).validate()
    except SettingsError as e:
        raise ProjectError(f"$.settings: {e}") from None
    return Project(net, ds, settings, doc["description"], doc["name"])


def from_dict(doc: Any) -> Project:
    """A parsed document (dict) → Project, through the same checks as :func:`loads`."""
    return build(validate_document(migrate(doc)))


def loads(text: str | bytes) -> Project:
    """Parse, check, migrate, validate and build a project from JSON text."""
    with gc_paused():  # tens of thousands of objects, all kept: see gc_paused
        doc = parse(text)
        return build(validate_document(migrate(doc)))


def load(path) -> Project:
    """Load a ``.nnproj`` file. Raises ProjectError (one line) for any problem."""
    return loads(read_limited(path, MAX_FILE_BYTES, ProjectError, "a project file"))


# ---------------------------------------------------------------------- save
def to_dict(proj: Project) -> dict:
    s = proj.settings
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": proj.name,
        "description": proj.description,
        "settings": {f.name: getattr(s, f.name) for f in fields(TrainSettings)},
        "network": proj.network.to_dict(),
        "dataset": proj.dataset.to_dict(),
    }


# json.dumps with options builds a new encoder on every call; one shared encoder is the same
# text, several times faster for the 100,000 rows of a big network
_j: Callable[[Any], str] = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


def _rows(rows: list, indent: str) -> str:
    if not rows:
        return "[]"
    inner = ",\n".join(map((indent + "  ").__add__, map(_j, rows)))
    return "[\n" + inner + "\n" + indent + "]"


def dumps(proj: Project) -> str:
    """The project as JSON text: one neuron, connection or data row per line, so files stay
    readable and diff well. Refuses (ProjectError) anything a load would refuse."""
    doc = to_dict(proj)
    try:
        validate_document(doc)
    except ProjectError as e:
        raise ProjectError(f"cannot save: {e}") from None
    net, ds = doc["network"], doc["dataset"]
    ds_lines = [f'    "inputs": {_j(ds["inputs"])}', f'    "targets": {_j(ds["targets"])}']
    if "class_names" in ds:
        ds_lines.append(f'    "class_names": {_j(ds["class_names"])}')
    ds_lines.append(f'    "X": {_rows(ds["X"], "    ")}')
    ds_lines.append(f'    "Y": {_rows(ds["Y"], "    ")}')
    parts = [
        f'  "format": {_j(FORMAT)}',
        f'  "format_version": {FORMAT_VERSION}',
        f'  "name": {_j(doc["name"])}',
        f'  "description": {_j(doc["description"])}',
        f'  "settings": {_j(doc["settings"])}',
        '  "network": {\n'
        f'    "neurons": {_rows(net["neurons"], "    ")},\n'
        f'    "connections": {_rows(net["connections"], "    ")}\n'
        "  }",
        '  "dataset": {\n' + ",\n".join(ds_lines) + "\n  }",
    ]
    text = "{\n" + ",\n".join(parts) + "\n}\n"
    size = len(text) if text.isascii() else len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise ProjectError(f"cannot save: the project would be {size} bytes, more than the "
                           f"file size limit of {MAX_FILE_BYTES} bytes; use a smaller dataset")
    return text


def save(proj: Project, path) -> None:
    """Save atomically. Raises ProjectError (the project is invalid, or the disk refused)."""
    text = dumps(proj)
    try:
        atomic_write(path, text.encode("utf-8"))
    except OSError as e:
        raise ProjectError(f"cannot save {os.fspath(path)!r}: {e.strerror or e}") from None


# ---------------------------------------------------------------------- a new project
NEW_DESCRIPTION = """\
# A new network

Two inputs, three **tanh** hidden neurons and one **sigmoid** output, with the XOR truth table
as data. Press **Train** and watch the loss fall; then edit the network on the canvas, or pick
another dataset in the dataset panel.
"""


def new_project() -> Project:
    """A small default: a 2-3-1 network (tanh hidden, sigmoid output) on the XOR table."""
    from .network import dense

    net = dense([2, 3, 1], hidden="tanh", output="sigmoid", seed=0)
    for nid, lab in zip([n.id for n in net.inputs], ["x1", "x2"]):
        net.set_label(nid, lab)
    ds = datasets.generate("xor")
    settings = TrainSettings(loss="mse", optimizer="adam", learning_rate=0.05, epochs=500)
    return Project(net, ds, settings, NEW_DESCRIPTION, "Untitled")


__all__ = [
    "Project", "ProjectError", "FORMAT", "FORMAT_VERSION", "SUFFIX", "MIGRATIONS", "load",
    "loads", "save", "dumps", "parse", "migrate", "validate_document", "build", "from_dict",
    "to_dict", "new_project", "MAX_FILE_BYTES", "MAX_NEURONS", "MAX_CONNECTIONS",
]
