"""Derived inputs: input neurons whose value is computed from the data (x1², x2², x1·x2,
sin x1, sin x2), as TensorFlow Playground offers them. One table, like the activations.

A network's input neurons are of two kinds. A *data* input takes one column of the dataset:
the i-th data input (in the network's order) takes input column i. A *derived* input has a
``derive`` name from :data:`DERIVED` and takes no column: its value is that formula of the
data's own input columns, where ``x1`` is the first input column and ``x2`` the second
(whatever the dataset calls them). So a dataset of (x1, x2) feeds a network with the inputs
x1, x2, x1² and sin x2 unchanged; switching a derived input on or off never touches the data.

The engine computes the derived columns as the first step of every forward pass
(:func:`columns`); everything that reads a network's inputs (training, the walkthrough, the
plots, exports) sees them as ordinary input values. Pure NumPy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Derived:
    name: str                         # the file's name for it: "x1^2"
    uses: tuple[int, ...]             # the data columns it reads (0 = x1, 1 = x2)
    compute: Callable[[Array], Array]  # data columns (n, k) -> its values (n,)
    template: str                     # its label, {0} and {1} standing for the columns' names
    formula: str                      # how a learner reads it ("x1 × x2")

    def label(self, names: Sequence[str] = ("x1", "x2")) -> str:
        """Its label with the data's column names ("x1²", or "dosage²")."""
        return self.template.format(*names, *("x1", "x2")[len(names):])

    @property
    def columns_needed(self) -> int:
        return max(self.uses) + 1


DERIVED: dict[str, Derived] = {
    d.name: d
    for d in (
        Derived("x1^2", (0,), lambda X: X[:, 0] * X[:, 0], "{0}\u00b2", "x1 \u00d7 x1"),
        Derived("x2^2", (1,), lambda X: X[:, 1] * X[:, 1], "{1}\u00b2", "x2 \u00d7 x2"),
        Derived("x1*x2", (0, 1), lambda X: X[:, 0] * X[:, 1], "{0}\u00b7{1}", "x1 \u00d7 x2"),
        Derived("sin(x1)", (0,), lambda X: np.sin(X[:, 0]), "sin {0}", "sin(x1)"),
        Derived("sin(x2)", (1,), lambda X: np.sin(X[:, 1]), "sin {1}", "sin(x2)"),
    )
}
NAMES: tuple[str, ...] = tuple(DERIVED)


def check_derived(name: object, n_data_columns: int | None = None) -> str | None:
    """What is wrong with a derived input ``name`` (for data of ``n_data_columns`` input
    columns, when given), or None when it is fine."""
    if not isinstance(name, str) or name not in DERIVED:
        return f"unknown derived input {name!r} (known: {', '.join(NAMES)})"
    need = DERIVED[name].columns_needed
    if n_data_columns is not None and n_data_columns < need:
        return (f"the derived input {name!r} reads input column {need}, but the data has "
                f"{n_data_columns} input column{'s' if n_data_columns != 1 else ''}")
    return None


def columns(names: Sequence[str], X: Array) -> Array:
    """The derived inputs ``names`` of data ``X`` (rows x data input columns), one column each
    (checked beforehand: every name known, X wide enough)."""
    out = np.empty((X.shape[0], len(names)))
    for k, name in enumerate(names):
        out[:, k] = DERIVED[name].compute(X)
    return out


__all__ = ["Derived", "DERIVED", "NAMES", "check_derived", "columns"]
