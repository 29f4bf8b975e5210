"""The walkthrough as a teacher's hand-out, in plain text or Markdown.

:func:`worksheet` is what ``nnstudio trace`` prints and the GUI's "Export Walkthrough…" writes:
the network and the data, the forward table, every step of the loss, the backward chain rule
and the update, a summary of gradients and new values, and the gradient check.
"""

from __future__ import annotations

import textwrap

from .. import activations as acts
from .. import losses as losses_mod
from .. import optimizers
from ..conv import Conv2D, Pool2D
from ..network.image_layers import KIND_TITLES
from .builder import ProjectLike, from_project
from .formatting import MAX_ROWS, MAX_TERMS, MINUS, TIMES, grid, nice, num
from .gradcheck import gradient_check_trace
from .image import is_feature
from .steps import PHASES, Trace, TraceError


def worksheet(project: ProjectLike, sample: int | None = None, fmt: str = "markdown") -> str:
    """The walkthrough as a teacher's hand-out: title, network summary, the data row(s), the
    forward table, the loss, the backward chain rule, the update and the gradient check."""
    if fmt not in ("text", "markdown"):
        raise TraceError(f"unknown format {fmt!r} (use text or markdown)")
    tr = from_project(project, sample)
    return render(tr, fmt, title=getattr(project, "name", "") or "Untitled")


def _md_escape(s: str) -> str:
    return s.replace("|", "\\|")


def _table(headers: list[str], rows: list[list[str]], md: bool) -> list[str]:
    if md:
        out = ["| " + " | ".join(_md_escape(h) for h in headers) + " |",
               "|" + "|".join("---" for _ in headers) + "|"]
        out += ["| " + " | ".join(_md_escape(c) for c in r) + " |" for r in rows]
        return out
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return out


def _layer_rows(tr: Trace) -> list[list[str]]:
    """One row per image layer the engine computes: kind, source, output, parameters."""
    net, eng = tr.network, tr.engine
    rows = []
    for ib in eng.image_blocks:
        layer = net.image_layers[ib.id]
        shape = ib.shape
        if isinstance(shape, tuple):
            takes, kind = "the data's pixels", "image input"
        else:
            takes = net.image_layers[eng.image_blocks[ib.source].id].label
            kind = KIND_TITLES[layer.kind]
        if isinstance(shape, Conv2D):
            k = shape.kernel
            kind += (f", {shape.filters} filters {k} {TIMES} {k}, stride {shape.stride}, "
                     f"{shape.padding}, {getattr(layer, 'activation', '')}")
        elif isinstance(shape, Pool2D):
            kind = (f"{'max' if shape.mode == 'max' else 'average'} {kind}, window "
                    f"{shape.window}, stride {shape.step}")
        c, h, w = ib.out_maps
        gives = (f"{c * h * w} nodes" if ib.kind == "flatten"
                 else f"{c} {TIMES} {h} {TIMES} {w}")
        rows.append([layer.label, kind, takes, gives, str(ib.n_params)])
    return rows


def render(tr: Trace, fmt: str = "markdown", title: str = "Untitled") -> str:
    md = fmt == "markdown"
    net, eng = tr.network, tr.engine
    out: list[str] = []

    def h1(text: str) -> None:
        out.extend([f"# {text}", ""] if md else [text, "=" * len(text), ""])

    def h2(text: str) -> None:
        out.extend([f"## {text}", ""] if md else [text, "-" * len(text), ""])

    h1(f"Backpropagation worksheet: {title}")
    n_hidden = sum(1 for n in net.neurons.values() if n.role == "hidden")
    n_train = sum(tr.trainable.values())
    which = (f"sample {tr.sample} (one row of the data)" if tr.sample is not None
             else f"the whole batch ({tr.n} samples)")
    lf = losses_mod.get(tr.loss)
    intro = (f"One training iteration worked through by hand, on {which}. Every number below "
             f"is rounded to {tr.digits} significant digits; the computer keeps full precision.")
    features = {nid for nid in eng.neuron_ids if is_feature(tr, nid)}
    out += [
        *( [intro] if md else textwrap.wrap(intro, 94)), "",
        *([f"- Image layers: {' → '.join(net.image_summary())}; a flatten's nodes feed the "
           f"neurons."] if net.image_layers else []),
        f"- Network: {len(eng.input_ids)} input, {n_hidden} hidden and {len(eng.output_ids)} "
        f"output neuron(s); {len(net.connections)} connection(s); {eng.n_params} parameters "
        f"({n_train} trainable).",
        f"- Loss: {lf.title} ({nice(lf.formula)}).",
        *([f"- Regularization: {tr.penalty.info.title}, rate {num(tr.penalty.rate)} "
           f"({nice(tr.penalty.info.formula).replace('lambda', chr(0x3bb))}, over the "
           f"weights; biases are not penalised). Every gradient below is that of loss + "
           f"penalty."] if tr.penalty is not None else []),
        f"- Learning rate: {num(tr.learning_rate)}; optimizer for training: "
        f"{optimizers.INFO[tr.optimizer].title} (the update below is one plain "
        f"gradient-descent step).", "",
    ]
    h2("The network")
    rows = []
    for nid in eng.neuron_ids:
        if nid in features:
            continue   # the flatten's nodes: in the image layers' table
        n = net.neurons[nid]
        incoming = net.incoming(nid)
        inc = ", ".join(f"{net.neurons[c.source].label} {TIMES} {num(tr.params_before[c.id])}"
                        for c in incoming[:MAX_TERMS]) or "\u2014"
        if len(incoming) > MAX_TERMS:   # a flatten of 338 nodes would make one huge cell
            inc += f", \u2026 ({len(incoming) - MAX_TERMS} more)"
        rows.append([n.label, n.role, acts.ACTIVATIONS[n.activation].title if n.role != "input"
                     else "\u2014", num(tr.params_before[nid]) if n.role != "input" else "\u2014",
                     inc])
    out += _table(["Neuron", "Role", "Activation", "Bias", "Incoming (source × weight)"], rows, md)
    out.append("")
    if eng.image_blocks:
        out += _table(["Image layer", "Kind", "Takes", "Gives", "Parameters"],
                      _layer_rows(tr), md)
        out.append("")
    h2("The data")
    pixels = eng.image_columns   # an image's pixels are drawn as grids, not table columns
    heads = (["Sample"] + list(tr.input_names)[pixels:]
             + [f"target {t}" for t in tr.target_names])
    shown = list(range(min(tr.n, 20)))
    rows = [[str(tr.samples[s])] + [num(v) for v in tr.X[s, pixels:]]
            + [num(v) for v in tr.Y[s]] for s in shown]
    out += _table(heads, rows, md)
    if tr.n > len(shown):
        out += ["", f"({tr.n - len(shown)} more rows not shown.)"]
    out.append("")
    for ib in eng.image_blocks:
        if not isinstance(ib.shape, tuple):
            continue
        for row in range(min(tr.n, MAX_ROWS)):
            out.append(f"Image {net.image_layers[ib.id].label!r} of sample {tr.samples[row]}:")
            for channel in range(ib.shape[0]):
                out += ["```" if md else "",
                        *grid(tr.evaluation.maps[ib.id].a[row, channel]),
                        "```" if md else ""]
        if tr.n > MAX_ROWS:
            out.append(f"({tr.n - MAX_ROWS} more images not shown.)")
        out.append("")
    # forward table
    h2("1. Forward pass")
    heads = ["Neuron"] + [f"z (sample {tr.samples[s]})" for s in range(min(tr.n, MAX_ROWS))] \
        + [f"a (sample {tr.samples[s]})" for s in range(min(tr.n, MAX_ROWS))]
    rows = []
    for nid in eng.neuron_ids:
        if nid in features:
            continue   # the flatten step lists its nodes' values
        j = eng.index[nid]
        is_in = net.neurons[nid].role == "input"
        rows.append([net.neurons[nid].label]
                    + [("\u2014" if is_in else num(tr.evaluation.z[s, j]))
                       for s in range(min(tr.n, MAX_ROWS))]
                    + [num(tr.evaluation.a[s, j]) for s in range(min(tr.n, MAX_ROWS))])
    out += _table(heads, rows, md)
    out.append("")
    counter = 0
    for phase in PHASES:
        if phase != "forward":
            h2({"loss": "2. Loss", "backward": "3. Backward pass: the chain rule",
                "update": "4. Update: one gradient-descent step"}[phase])
        for s in tr.steps:
            if s.phase != phase:
                continue
            counter += 1
            if md:
                out += [f"**Step {counter}. {s.title}.** {s.explanation}", "", "```",
                        s.formula, "```", ""]
            else:
                out += [f"Step {counter}. {s.title}"]
                out += textwrap.wrap(s.explanation, 92, initial_indent="  ",
                                     subsequent_indent="  ")
                out += [f"    {line}" for line in s.formula.split("\n")]
                out.append("")
    # summary of gradients and updates
    h2("Summary: gradients and new values")
    rows = []
    for pid in eng.param_ids:
        new = tr.new_params.get(pid)
        rows.append([tr.param_name(pid), num(tr.params_before[pid]), num(tr.grads[pid]),
                     num(tr.learning_rate * tr.grads[pid]) if new is not None else "locked",
                     num(new) if new is not None else num(tr.params_before[pid])])
    out += _table(["Parameter", "Old value", "Gradient dL/dp", "Step (lr × gradient)",
                   "New value"], rows, md)
    out.append("")
    h2("Gradient check")
    out += ["Each backprop gradient next to a finite-difference estimate "
            "(L(p + h) − L(p − h)) / 2h" + (", where L is the loss plus the penalty"
                                              if tr.penalty is not None else "")
            + ". They should agree to many digits.", ""]
    rows = []
    checks = gradient_check_trace(tr)
    for c in checks:
        rows.append([c.name, f"{c.backprop:.6g}".replace("-", MINUS),
                     f"{c.numeric:.6g}".replace("-", MINUS),
                     f"{c.rel_error:.1e}".replace("-", MINUS),
                     "ok" if c.ok and not c.note else (c.note or "ok")])
    out += _table(["Parameter", "Backprop", "Finite difference", "Relative error", "Check"],
                  rows, md)
    bad = sum(1 for c in checks if not c.ok)
    out += ["", "All gradients agree." if not bad else f"{bad} gradient(s) disagree!"]
    return "\n".join(out) + "\n"
