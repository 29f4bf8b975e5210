"""Taking a network further: export to PyTorch, NumPy and ONNX, open an ONNX model, predict.

* :mod:`.plan`: the network as layers, the one description every writer shares;
  :mod:`.source` writes Python source from it safely.
* :mod:`.pytorch`: a standalone ``torch.nn.Module`` script with the weights, a data loader for
  the dataset CSV written beside it, and NN Studio's training loop.
* :mod:`.numpy_script`: a NumPy-only ``predict(X)``.
* :mod:`.onnx_export` / :mod:`.onnx_import`: ONNX models both ways (the optional ``onnx``
  package; the import treats the file as untrusted).
* :mod:`.predict`: the outputs for every row of a dataset or a CSV file (``nnstudio predict``).
* :mod:`.output`: writing the exported files, atomically and all or nothing.

Pure Python and NumPy: torch is never imported (the scripts are text), and onnx only inside the
functions that build or read a model. Every failure is an :class:`ExportError`,
:class:`~.onnx_import.OnnxImportError` or :class:`~.predict.PredictError`, all ValueErrors
with one line saying what is wrong (an :class:`~.output.OutputError`, an ExportError, when a
file cannot be written); nothing is written then.
"""

from __future__ import annotations

import os

from ..project import Project
from . import numpy_script, onnx_export, pytorch
from .onnx_import import OnnxImportError
from .output import OutputError
from .plan import ExportError
from .predict import PredictError, Prediction

FORMATS = ("pytorch", "numpy", "onnx")
SUFFIXES = {"pytorch": ".py", "numpy": ".py", "onnx": ".onnx"}  # (= opening.MODEL_SUFFIX)


def export(project: Project, fmt: str, path: str | os.PathLike[str],
           dtype: str = "float64") -> list[str]:
    """Write ``project`` as ``fmt`` (one of :data:`FORMATS`) to ``path``; returns the files
    written (the PyTorch script also writes its dataset CSV beside it). ``dtype`` is the ONNX
    model's number type (:data:`~.onnx_export.DTYPES`); the scripts always compute in
    float64."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r} (known: {', '.join(FORMATS)})")
    if dtype not in onnx_export.DTYPES:
        raise ExportError(f"the number type must be one of {', '.join(onnx_export.DTYPES)}, "
                          f"not {dtype!r}")
    if fmt != "onnx" and dtype != "float64":
        raise ExportError(f"the {fmt} script computes in float64; only an ONNX model can be "
                          f"{dtype}")
    if fmt == "pytorch":
        return [os.fspath(p) for p in pytorch.write(project, path)]
    if fmt == "numpy":
        numpy_script.write(project, path)
    else:
        onnx_export.write(project, path, dtype)
    return [os.fspath(path)]


def written_line(fmt: str, written: list[str], dtype: str = "float64") -> str:
    """What an export wrote and how to use it, for a status line: ``spiral.py and spiral.csv
    (PyTorch script and its dataset; run: python spiral.py)``."""
    names = [os.path.basename(p) for p in written]
    if fmt == "pytorch":
        return (f"{names[0]} and {names[1]} (PyTorch script and its dataset; run: python "
                f"{written[0]})")
    if fmt == "numpy":
        return f"{names[0]} (NumPy script: predict(X); run: python {written[0]} IN.csv)"
    return f"{names[0]} (ONNX model, {dtype}, opset {onnx_export.OPSET})"


__all__ = ["export", "written_line", "FORMATS", "SUFFIXES", "ExportError", "OnnxImportError",
           "OutputError", "PredictError", "Prediction"]
