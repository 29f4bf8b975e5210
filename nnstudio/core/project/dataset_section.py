"""The ``dataset`` section of a project file: column names, the X and Y tables, class names.

Every name is checked (one line, unique across inputs and targets; an entry of ``inputs`` may
instead be an image, ``{"image": "pixels", "shape": [1, 6, 6]}``, before the named columns,
standing for its C·H·W columns), every row of X and Y has one finite number per column, X and
Y have as many rows, the whole stays within the dataset limits
(:mod:`nnstudio.core.datasets`), and class names fit the targets (one-hot, or 0/1 for one
target column). The row check takes a fast path over the types of a row first, and looks for
the culprit only when a row holds something other than numbers.
"""

from __future__ import annotations

from typing import Any

from .. import datasets
from ..datasets import Dataset, DatasetError
from .checks import (
    ProjectError,
    check_list,
    check_object,
    describe,
    fail,
    member_path,
    number,
    text,
)


def _table(rows: Any, path: str, width: int, n_rows: int | None) -> None:
    """Every row a list of ``width`` finite numbers (fast path first, then find the culprit)."""
    rows = check_list(rows, path, datasets.MAX_ROWS, "rows")
    if n_rows is not None and len(rows) != n_rows:
        fail(path, f"has {len(rows)} rows but X has {n_rows}; each sample needs both")
    ok_types = (float, int)
    for r, row in enumerate(rows):
        if type(row) is not list:
            fail(f"{path}[{r}]", f"must be a list of {width} numbers, got {describe(row)}")
        if len(row) != width:
            fail(f"{path}[{r}]", f"has {len(row)} value(s), expected {width} (one per column)")
        for t in set(map(type, row)):
            if t not in ok_types:
                c = next(c for c, v in enumerate(row) if type(v) is t)
                number(row[c], f"{path}[{r}][{c}]")


def validate_dataset(ds: Any, path: str) -> dict[str, Any]:
    """Check the dataset section; returns it as it is."""
    check_object(ds, path, ("inputs", "targets", "X", "Y"), ("class_names",))
    names: dict[str, str] = {}
    widths = {}
    for key in ("inputs", "targets"):
        lst = check_list(ds[key], f"{path}.{key}", datasets.MAX_COLUMNS, "columns")
        if not lst:
            fail(f"{path}.{key}", "needs at least one column name")
        width = 0
        for i, n in enumerate(lst):
            q = f"{path}.{key}[{i}]"
            if key == "inputs" and isinstance(n, dict):
                width += _image_entry(lst, i, q)
                continue
            s = text(n, q, datasets.MAX_NAME_LENGTH).strip()
            if s in names:
                fail(q, f"the column name {s!r} is used twice (also at {names[s]})")
            names[s] = q
            width += 1
        widths[key] = width
    n_in, n_out = widths["inputs"], widths["targets"]
    _table(ds["X"], f"{path}.X", n_in, None)
    _table(ds["Y"], f"{path}.Y", n_out, len(ds["X"]))
    n = len(ds["X"])
    if n * (n_in + n_out) > datasets.MAX_CELLS:
        fail(f"{path}.X", f"{n} rows x {n_in + n_out} columns is more than the limit of "
             f"{datasets.MAX_CELLS} values")
    if "class_names" in ds and ds["class_names"] is not None:
        lst = check_list(ds["class_names"], f"{path}.class_names", datasets.MAX_COLUMNS,
                         "classes")
        for i, name in enumerate(lst):
            text(name, f"{path}.class_names[{i}]", datasets.MAX_NAME_LENGTH)
    try:
        Dataset.from_dict({k: v for k, v in ds.items() if k != "class_names"})
    except DatasetError as e:
        fail(path, str(e))
    try:
        Dataset.from_dict(ds)
    except DatasetError as e:
        fail(f"{path}.class_names", str(e))
    return ds


def _image_entry(inputs: list[Any], i: int, path: str) -> int:
    """An image among the inputs (before every named column); returns its number of values."""
    entry = inputs[i]
    check_object(entry, path, ("image", "shape"))
    if any(not isinstance(e, dict) for e in inputs[:i]):
        fail(path, "the images come before the named input columns")
    shape = entry["shape"]
    if not isinstance(shape, list) or len(shape) != 3:
        fail(member_path(path, "shape"), f"must be [channels, height, width], got "
             f"{describe(shape)}")
    try:
        names, images = datasets.expand_inputs([entry])
    except DatasetError as e:
        fail(path, str(e).removeprefix("inputs[0]: "))
    return len(names)


def image_inputs(section: dict[str, Any]) -> list[tuple[str, tuple[int, int, int]]]:
    """The (name, shape) of every image of a checked dataset section, in order."""
    return [(e["image"].strip(), tuple(e["shape"])) for e in section["inputs"]
            if isinstance(e, dict)]


def build_dataset(section: dict[str, Any]) -> Dataset:
    """The :class:`Dataset` of a checked section."""
    try:
        return Dataset.from_dict(section)
    except DatasetError as e:
        raise ProjectError(f"$.dataset: {e}") from None
