"""``nnstudio validate FILE``: check a project file and summarise it on one line (its image
layers, if any, in order, then the neurons, connections and parameters; a flatten's nodes are
counted in its layer, not as neurons)."""

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
    layers = (" \u2192 ".join(net.image_summary()) + "; ") if net.image_layers else ""
    n_neurons = len(net.neurons) - sum(len(net.feature_neurons(lid)) for lid in net.image_layers
                                       if net.image_layers[lid].kind == "flatten")
    print(f"{args.file}: OK: {proj.name!r}: {layers}{n_neurons} neurons ({len(net.inputs)} input, "
          f"{n_hidden} hidden, {len(net.outputs)} output), {len(net.connections)} connections, "
          f"{eng.n_params} parameters ({n_train} trainable), {len(ds)} rows{kind}{fit}{reg}; "
          f"{st.optimizer}, learning rate {st.learning_rate:g}, "
          f"{st.epochs} epochs")
    return 0
