"""``nnstudio validate FILE``: check a project file and summarise it on one line."""

from __future__ import annotations

import argparse
import math

from .common import checked_engine, load_project


def add_parser(sub: argparse._SubParsersAction) -> None:
    v = sub.add_parser("validate", help="check a project file and summarise it",
                       exit_on_error=False)
    v.add_argument("file", help="a .nnproj project file")


def run(args: argparse.Namespace) -> int:
    proj = load_project(args.file)
    eng = checked_engine(proj)
    net, ds, st = proj.network, proj.dataset, proj.settings
    n_hidden = len(net.by_role("hidden"))
    n_train = int(eng.trainable.sum())
    if len(ds):
        loss = eng.loss(ds.X, ds.Y, st.loss)
        shown = f"{loss:.6g}" if math.isfinite(loss) else f"{loss} (it overflows at these values)"
        fit = f"; {st.loss} loss {shown}"
    else:
        fit = "; the dataset has no rows, so there is nothing to train on"
    kind = f", {len(ds.class_names)} classes" if ds.class_names is not None else ""
    pen = st.penalty
    reg = (f" + {pen.info.title} penalty {eng.penalty(pen):.6g} (rate {pen.rate:g})"
           if pen is not None else "")
    print(f"{args.file}: OK: {proj.name!r}: {len(net.neurons)} neurons ({len(net.inputs)} input, "
          f"{n_hidden} hidden, {len(net.outputs)} output), {len(net.connections)} connections, "
          f"{eng.n_params} parameters ({n_train} trainable), {len(ds)} rows{kind}{fit}{reg}; "
          f"{st.optimizer}, learning rate {st.learning_rate:g}, "
          f"{st.epochs} epochs")
    return 0
