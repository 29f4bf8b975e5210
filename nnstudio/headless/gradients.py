"""``nnstudio gradients FILE``: the loss and dL/dp of every parameter at the file's values,
over the whole dataset, as a table or (``--json``) one JSON object. With the project's
regularization, the penalty is shown beside the loss and the gradients are those of loss +
penalty (what training follows). A loss or gradient that overflows at the file's values is
refused once, plainly (exit code 2), in either form."""

from __future__ import annotations

import argparse
import json
import math

import numpy as np

from nnstudio.core import losses

from .common import InputError, checked_engine, load_project, require_rows


def add_parser(sub: argparse._SubParsersAction) -> None:
    g = sub.add_parser("gradients", help="the loss and every parameter's gradient",
                       exit_on_error=False)
    g.add_argument("file", help="a .nnproj project file")
    g.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def run(args: argparse.Namespace) -> int:
    proj = load_project(args.file)
    require_rows(proj, args.file, "compute gradients over")
    eng = checked_engine(proj)
    ds, st = proj.dataset, proj.settings
    value, grad = eng.gradient(ds.X, ds.Y, st.loss, penalty=st.penalty)
    penalty = eng.penalty(st.penalty)
    net = proj.network
    if not math.isfinite(value):
        raise InputError(f"{args.file}: the {st.loss} loss overflows at these parameter "
                         f"values (it is {value} over the {len(ds)} row(s)), so it has no "
                         "gradient")
    if not math.isfinite(penalty):
        raise InputError(f"{args.file}: the {st.regularization} penalty overflows at these "
                         f"parameter values (it is {penalty})")
    if not np.all(np.isfinite(grad)):
        i = int(np.argmax(~np.isfinite(grad)))
        raise InputError(f"{args.file}: the gradient of {eng.describe_param(net, i)} overflows "
                         f"at these parameter values (it is {grad[i]})")
    by_id = dict(zip(eng.param_ids, grad.tolist(), strict=True))
    ids = net.param_ids()
    if args.json:
        print(json.dumps({
            "file": args.file,
            "loss_function": st.loss,
            "loss": value,
            "regularization": st.regularization,
            "regularization_rate": st.regularization_rate,
            "penalty": penalty,
            "rows": len(ds),
            "gradients": {pid: by_id[pid] for pid in ids},
            "params": {pid: net.get_param(pid) for pid in ids},
            "trainable": {pid: bool(net.store.trainable[net.param_slot(pid)]) for pid in ids},
        }, allow_nan=False))
        return 0
    from nnstudio.core.trace import param_name  # on use: a big module only the table needs

    title = losses.LOSSES[st.loss].title
    print(f"{title} ({st.loss}) over all {len(ds)} row(s): {value:.10g}")
    if st.penalty is not None:
        print(f"{st.penalty.info.title} penalty (rate {st.penalty.rate:g}): {penalty:.10g}; "
              f"the gradients are those of loss + penalty")
    rows = [(pid, param_name(net, pid), f"{net.get_param(pid):.6g}",
             f"{by_id[pid]:.10g}", "" if net.store.trainable[net.param_slot(pid)] else "locked")
            for pid in ids]
    headers = ("id", "parameter", "value", "dL/dp", "")
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    print("  ".join("-" * w for w in widths[:-1]))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0
