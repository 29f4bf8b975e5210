"""Headless predictions: the network's outputs for every row of its dataset or of a CSV file.

This is the core of ``nnstudio predict FILE [--csv IN] [--json]``; the subcommand only loads the
project, calls :func:`predict` (with :func:`read_inputs` for ``--csv``) and prints
:meth:`Prediction.lines` or :meth:`Prediction.to_json`.

A CSV file has a header row. When it names every input column of the project's dataset, those
columns are taken by name (in any order; other columns, such as targets, are ignored);
otherwise it must have as many columns as the network has inputs, or inputs and targets (the
layout of the project's own dataset CSV), and the first columns are the inputs. A bad cell is
reported by line and column, as the dataset import does. Bad input raises
:class:`PredictError`, one line.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from .. import datasets
from ..engine import Engine
from ..project import Project

Array = np.ndarray


class PredictError(ValueError):
    """Input that cannot be predicted on; one line saying what is wrong and where."""


@dataclass
class Prediction:
    """The outputs for each row: ``outputs`` is rows x outputs, in ``output_names`` order;
    ``classes`` the predicted class of each row for classification data (else None)."""

    input_names: list[str]
    output_names: list[str]
    X: Array
    outputs: Array
    classes: list[str] | None = None

    def lines(self) -> list[str]:
        """One line per row: the outputs, comma-separated, each written exactly (``repr``),
        then the predicted class when there is one."""
        rows = [", ".join(repr(v) for v in row) for row in self.outputs.tolist()]
        if self.classes is not None:
            rows = [f"{r}, {c}" for r, c in zip(rows, self.classes, strict=True)]
        return rows

    def to_json(self) -> dict:
        """A JSON-ready dict: the column names, the row count, the outputs row by row (and
        the predicted classes). JSON has no NaN or infinity: an output that overflowed is
        null."""
        rows = [[v if math.isfinite(v) else None for v in row] for row in self.outputs.tolist()]
        d: dict = {"inputs": list(self.input_names), "outputs": list(self.output_names),
                   "rows": len(rows), "predictions": rows}
        if self.classes is not None:
            d["classes"] = list(self.classes)
        return d


def _names(project: Project, engine: Engine) -> tuple[list[str], list[str]]:
    """The input and output column names: the dataset's when they fit the network, else the
    neurons' labels (after ``pixel 1`` … for an image input's pixels)."""
    net, ds = project.network, project.dataset
    ins = [f"pixel {k + 1}" for k in range(engine.image_columns)] + \
        [n.label for n in net.data_inputs]
    outs = [n.label for n in net.outputs]
    if ds.n_inputs == len(ins):
        ins = list(ds.input_names)
    if ds.n_targets == len(outs):
        outs = list(ds.target_names)
    return ins, outs


def predict(project: Project, X: Array | None = None) -> Prediction:
    """The network's outputs for each row of ``X`` (default: the project's dataset)."""
    net, ds = project.network, project.dataset
    engine = Engine.compile(net)  # (EngineError, a ValueError, names what is missing)
    rows = ds.X if X is None else np.asarray(X, dtype=np.float64)
    width = engine.n_input_columns  # (an image input's pixels, then the input neurons)
    if rows.ndim != 2 or rows.shape[1] != width:
        raise PredictError(f"the rows have {rows.shape[-1] if rows.ndim == 2 else '?'} "
                           f"column(s) but the network reads {width}")
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow shows as inf (JSON null)
        out = engine.predict(rows) if len(rows) else np.zeros((0, len(net.outputs)))
    classes = None
    if ds.is_classification and ds.n_targets == out.shape[1] and len(out):
        classes = ds.class_names_of(out)
    ins, outs = _names(project, engine)
    return Prediction(ins, outs, rows, out, classes)


def parse_inputs(project: Project, text: str) -> Array:
    """The input rows of CSV text (see the module docstring for which columns are taken)."""
    ins, _ = _names(project, Engine.compile(project.network))
    n_in = len(ins)
    n_targets = project.dataset.n_targets
    try:
        table = datasets.CsvTable(text)
        names = table.names
        if set(ins) <= set(names):
            cols = [names.index(name) for name in ins]
        elif len(names) in (n_in, n_in + n_targets):
            cols = list(range(n_in))
        else:
            raise PredictError(
                f"line {table.header_line}: the header names {len(names)} column(s) but not "
                f"the network's {n_in} input(s) ({', '.join(ins)}); give those columns, or "
                f"{n_in} (or {n_in + n_targets}, with the targets) columns in that order")
        rows = [[datasets.cell_number(cells[c], line, c + 1, names[c]) for c in cols]
                for line, cells in table.rows()]
    except datasets.DatasetError as e:
        raise PredictError(str(e)) from None
    return np.array(rows, dtype=np.float64).reshape(len(rows), n_in)


def read_inputs(project: Project, path: str | os.PathLike[str]) -> Array:
    """The input rows of the CSV file ``path``; PredictError names the line and column of a
    bad cell."""
    return parse_inputs(project, datasets.read_csv_text(path, PredictError))


__all__ = ["Prediction", "PredictError", "predict", "parse_inputs", "read_inputs"]
