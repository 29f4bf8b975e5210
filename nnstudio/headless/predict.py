"""``nnstudio predict FILE [--csv IN] [--json]``: the network's outputs for every row of the
project's dataset, or of the CSV file IN.

A thin wrapper over :mod:`nnstudio.core.export.predict`. Plain output is one line per row: the
outputs, comma-separated, each written exactly, then the predicted class for classification
data. ``--json`` prints one JSON object (the column names, the rows, the predictions, the
classes). A bad CSV cell is reported as ``IN: line L, column C ('name'): problem`` and exits
with code 2. FILE may be an ONNX model, whose dataset is empty: give ``--csv``.
"""

from __future__ import annotations

import argparse
import json
import sys

from nnstudio.core.export import predict as predicting

from .common import InputError, load_project


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="the network's outputs for every row of a dataset",
                       exit_on_error=False)
    p.add_argument("file", help="a .nnproj project file (or an .onnx model)")
    p.add_argument("--csv", metavar="IN",
                   help="predict the rows of this CSV file (a header row, then the inputs: "
                        "columns named like the dataset's inputs are taken by name, otherwise "
                        "the first ones) instead of the project's dataset")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def run(args: argparse.Namespace) -> int:
    proj = load_project(args.file)
    X = None
    if args.csv is not None:
        try:
            X = predicting.read_inputs(proj, args.csv)
        except predicting.PredictError as e:
            raise InputError(f"{args.csv}: {e}") from None
    try:
        result = predicting.predict(proj, X)
    except ValueError as e:  # the network cannot compute (no output, ...): the file's problem
        raise InputError(f"{args.file}: {e}") from None
    if args.json:
        print(json.dumps({"file": args.file, **result.to_json()}, allow_nan=False))
    else:
        lines = result.lines()
        if lines:
            print("\n".join(lines))
        elif X is None:
            print(f"{args.file}: the dataset has no rows to predict; give --csv IN",
                  file=sys.stderr)
    return 0
