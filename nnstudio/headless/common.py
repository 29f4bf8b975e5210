"""What the headless subcommands share: the errors that exit with code 2, loading the project
(or ONNX model) named on the command line, and turning argument text into values for the core
to check."""

from __future__ import annotations

import math

from nnstudio.core import messages
from nnstudio.core.engine import Engine
from nnstudio.core.opening import open_project
from nnstudio.core.project import Project

PROG = "nnstudio"


class UsageError(Exception):
    """A bad command-line argument (exit code 2)."""


class InputError(Exception):
    """A bad input file (exit code 2); the message starts with the file name."""


def load_project(path: str) -> Project:
    """The project in ``path``: a ``.nnproj`` project file, or an ONNX model (``.onnx``),
    which opens as an untitled project with an empty dataset (:mod:`nnstudio.core.opening`).
    A file that does not load is an InputError naming it."""
    try:
        return open_project(path)
    except ValueError as e:  # ProjectError, OnnxImportError: one line each
        raise InputError(f"{path}: {e}") from None


def checked_engine(proj: Project) -> Engine:
    """The project's network compiled, with its dataset checked against it."""
    eng = Engine.compile(proj.network)
    eng.check_data(proj.dataset.X, proj.dataset.Y)
    return eng


def one_line(text: object) -> str:
    """A message on one short line (:func:`nnstudio.core.messages.one_line`)."""
    return messages.one_line(text)


def require_rows(proj: Project, path: str, what: str = "train on") -> None:
    """Refuse a project whose dataset has no rows, naming the file: there is nothing to
    ``what``."""
    if len(proj.dataset) == 0:
        raise InputError(f"{path}: $.dataset: the dataset has no rows, so there is nothing to "
                         f"{what}")


def finite_or_none(v: float) -> float | None:
    """JSON has no NaN or infinity: a diverged loss is written as null."""
    return float(v) if math.isfinite(v) else None


def whole_or_text(text: str) -> int | float | str:
    """Argument text as a whole number if it is one, else as a number, else as it is, for the
    core's checks to accept or to refuse with their own message ("not 2.5", "not 'many'")."""
    try:
        return int(text)
    except ValueError:
        return number_or_text(text)


def number_or_text(text: str) -> float | str:
    """Argument text as a number if it is one, else as it is (see :func:`whole_or_text`)."""
    try:
        return float(text)
    except ValueError:
        return text
