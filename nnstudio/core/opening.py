"""Opening a file as a project: a ``.nnproj`` project file, or an ONNX model, which becomes an
ordinary untitled project with an empty dataset.

The one place that decides what a file name opens as, shared by the command line
(:func:`nnstudio.headless.common.load_project`), the window's File ▸ Open, Open Recent and
drag-and-drop, and its start-up. A file is an ONNX model when its name ends in
:data:`MODEL_SUFFIX` (any case); anything else is read as a project file, whose loader says
what is wrong with a file that is not one. The ONNX reader (:mod:`~nnstudio.core.export.
onnx_import`) is imported only when a model is opened, so opening a project costs nothing more.
Every refusal is a ValueError with one line (:class:`~nnstudio.core.project.ProjectError` or
:class:`~nnstudio.core.export.onnx_import.OnnxImportError`), and nothing is returned then.
"""

from __future__ import annotations

import os

from .files import PathLike
from .project import Project, load

MODEL_SUFFIX = ".onnx"   # (also export.SUFFIXES["onnx"]; tests hold the two equal)


def is_model_file(path: PathLike) -> bool:
    """True when ``path`` names an ONNX model (by its suffix)."""
    return os.fspath(path).lower().endswith(MODEL_SUFFIX)


def open_project(path: PathLike) -> Project:
    """The project in ``path``: a project file as it was saved, or an ONNX model as an
    untitled project (see the module docstring). Raises ValueError (one line)."""
    if is_model_file(path):
        from .export import onnx_import  # on use: the ONNX reader and the optional onnx

        return onnx_import.load_project(path)
    return load(path)


__all__ = ["MODEL_SUFFIX", "is_model_file", "open_project"]
