"""The sections of a project file, in one table: how each is checked, built and saved.

A project file is an envelope (``format``, ``format_version``: :mod:`.versions`) and the
sections in :data:`SECTIONS`, in the order they are checked and written. Each
:class:`Section` says, for its top-level key (which is also the :class:`~.contents.Project`
attribute it becomes): how its JSON value is checked (with the JSON path in any message), how
the checked value is built into the object the program uses, how that object is turned back
into JSON, what an absent optional section means, and how its text is laid out.

Then :data:`CROSS_CHECKS` check what one section alone cannot (the dataset's columns match the
network's input and output neurons).

To add a section: write its checks and build (a module like :mod:`.network_section`), add one
``Section`` to :data:`SECTIONS`, a field to :class:`~.contents.Project`, and the key to the
JSON Schema (resources/nnproj.schema.json) and docs/file-format.md; a new field in an existing
file also needs a format version and a migration (:mod:`.versions`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from ..derived_inputs import check_derived
from ..trainer import SettingsError, TrainSettings
from .challenges_section import validate_challenges
from .checks import BadNumber, ProjectError, check_object, describe, fail, text
from .dataset_section import build_dataset, image_inputs, validate_dataset
from .network_section import build_network, validate_network

MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 200_000


@dataclass(frozen=True)
class Section:
    """One top-level section of a project file and everything the pipeline does with it."""

    key: str                                    # the JSON key, and the Project attribute
    validate: Callable[[Any, str], Any]         # (JSON value, its path) -> the checked value
    build: Callable[[Any], Any]                 # checked value -> the Project attribute
    to_json: Callable[[Any], Any]               # the Project attribute -> its JSON value
    default: Callable[[], Any] | None = None    # an absent optional section's value; None:
                                                # the section is required
    spread: bool = False                        # written one member per line (lists of rows
                                                # one row per line), else on one line
    optional_value: bool = False                # the default is None, meaning "none": an
                                                # absent key, never written, never validated

    @property
    def required(self) -> bool:
        return self.default is None

    def absent(self, value: Any) -> bool:
        """Whether ``value`` is this optional section's "none", left out of the file."""
        return self.optional_value and value is None


def _same(value: Any) -> Any:
    return value


def _validate_name(v: Any, path: str) -> str:
    return text(v, path, MAX_NAME_LENGTH)


def _validate_description(v: Any, path: str) -> str:
    return text(v, path, MAX_DESCRIPTION_LENGTH, empty_ok=True, one_line=False)


SETTINGS_KEYS = tuple(f.name for f in fields(TrainSettings))


def _validate_settings(st: Any, path: str) -> dict[str, Any]:
    """Every setting present is one TrainSettings knows, and valid on its own."""
    check_object(st, path, (), SETTINGS_KEYS)
    for key, value in st.items():
        if isinstance(value, BadNumber):
            fail(f"{path}.{key}", f"must be a finite number, got {value.text}")
        if key in ("loss", "optimizer", "init", "regularization") and not isinstance(value, str):
            fail(f"{path}.{key}", f"must be text, got {describe(value)}")
        try:
            TrainSettings(**{key: value}).validate()
        except SettingsError as e:
            fail(f"{path}.{key}", str(e))
    return st


def _build_settings(st: dict[str, Any]) -> TrainSettings:
    try:
        return TrainSettings(**st).validate()
    except SettingsError as e:
        raise ProjectError(f"$.settings: {e}") from None


#: settings written only when they differ from their default (format version 2 added them;
#: a file without them means "none")
SET_ONLY_KEYS = ("regularization", "regularization_rate", "min_step")
_DEFAULTS = TrainSettings()


def _settings_json(s: TrainSettings) -> dict[str, Any]:
    return {key: getattr(s, key) for key in SETTINGS_KEYS
            if key not in SET_ONLY_KEYS or getattr(s, key) != getattr(_DEFAULTS, key)}


def _to_dict(part: Any) -> Any:
    return part.to_dict()


def _to_dict_or_none(part: Any) -> Any:
    return None if part is None else part.to_dict()


def _none() -> None:
    return None


SECTIONS: tuple[Section, ...] = (
    Section("name", _validate_name, _same, _same, default=lambda: "Untitled"),
    Section("description", _validate_description, _same, _same, default=str),
    Section("settings", _validate_settings, _build_settings, _settings_json, default=dict),
    Section("network", validate_network, build_network, _to_dict, spread=True),
    Section("dataset", validate_dataset, build_dataset, _to_dict, spread=True),
    # the checked value is already the immutable Challenges; None (absent) is not written
    Section("challenges", validate_challenges, _same, _to_dict_or_none, default=_none,
            spread=True, optional_value=True),
)

#: every top-level key a project file may have
TOP_KEYS = ("format", "format_version", *(s.key for s in SECTIONS))


def _data_fits_network(doc: dict[str, Any]) -> None:
    """One dataset image per image input (of the same shape, in order), one named dataset
    input column per data input neuron (derived inputs take none, but must find the columns
    they read), one target column per output neuron."""
    net, ds = doc["network"], doc["dataset"]
    n_in = sum(1 for n in net["neurons"] if n["role"] == "input" and "derive" not in n)
    n_out = sum(1 for n in net["neurons"] if n["role"] == "output")
    wanted = [(d["id"], tuple(d["shape"])) for d in net.get("image_layers", ())
              if d["kind"] == "image_input"]
    given = image_inputs(ds)
    if len(given) != len(wanted):
        have = ", ".join(f"{lid!r} ({_dims(shape)})" for lid, shape in wanted) or "none"
        fail("$.dataset.inputs", f"the dataset has {len(given)} image(s) but the network has "
             f"{len(wanted)} image input(s) ({have}); they must match one to one")
    for k, ((name, shape), (lid, want)) in enumerate(zip(given, wanted, strict=True)):
        if shape != want:
            fail(f"$.dataset.inputs[{k}]", f"the dataset's image {name!r} is {_dims(shape)} "
                 f"but image input {lid!r} is {_dims(want)}; they must match")
    named = len(ds["inputs"]) - len(given)
    if named != n_in:
        derived = sum(1 for n in net["neurons"] if "derive" in n)
        also = (f" (and {derived} derived input{'s' if derived != 1 else ''}, which take no "
                "column)") if derived else ""
        images = f" besides its image{'s' if len(given) != 1 else ''}" if given else ""
        fail("$.dataset.inputs", f"the dataset has {named} input column(s){images} but the "
             f"network has {n_in} input neuron(s){also}; they must match one to one")
    for i, n in enumerate(net["neurons"]):
        problem = check_derived(n["derive"], n_in) if "derive" in n else None
        if problem:
            fail(f"$.network.neurons[{i}].derive", problem)
    if len(ds["targets"]) != n_out:
        fail("$.dataset.targets", f"the dataset has {len(ds['targets'])} target column(s) but "
             f"the network has {n_out} output neuron(s); they must match one to one")


def _dims(shape: tuple[int, ...]) -> str:
    return " \u00d7 ".join(map(str, shape))


#: checks across sections, run in order once every section passed its own checks
CROSS_CHECKS: tuple[Callable[[dict[str, Any]], None], ...] = (_data_fits_network,)
