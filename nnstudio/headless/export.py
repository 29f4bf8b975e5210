"""``nnstudio export FILE --to pytorch|numpy|onnx -o OUT [--dtype float64|float32]``: write the
project (or an ONNX model) as a PyTorch script, a NumPy script or an ONNX model.

A thin wrapper over :func:`nnstudio.core.export.export`: it prints one line saying what was
written and how to use it. A project that cannot be exported is reported as ``FILE: problem``;
a file that cannot be written as ``cannot write 'OUT': reason``; both exit with code 2, and
nothing is written then.
"""

from __future__ import annotations

import argparse

from nnstudio.core import export
from nnstudio.core.export import onnx_export

from .common import InputError, UsageError, load_project


def add_parser(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("export", help="write a PyTorch script, a NumPy script or an ONNX model",
                       exit_on_error=False)
    e.add_argument("file", help="a .nnproj project file (or an .onnx model)")
    e.add_argument("--to", required=True, choices=export.FORMATS,
                   help="pytorch: a torch.nn.Module script that trains (and its dataset CSV "
                        "beside it); numpy: predict(X); onnx: an ONNX model")
    e.add_argument("-o", "--output", required=True, metavar="OUT", help="the file to write")
    e.add_argument("--dtype", choices=onnx_export.DTYPES,
                   help="the ONNX model's number type (default float64)")


def run(args: argparse.Namespace) -> int:
    if args.dtype is not None and args.to != "onnx":
        raise UsageError(f"--dtype is for --to onnx only (the {args.to} script computes in "
                         "float64)")
    dtype = args.dtype or "float64"
    proj = load_project(args.file)
    try:
        written = export.export(proj, args.to, args.output, dtype)
    except export.OutputError as e:
        raise InputError(str(e)) from None
    except export.ExportError as e:
        raise InputError(f"{args.file}: {e}") from None
    print(f"wrote {export.written_line(args.to, written, dtype)}")
    return 0
