"""Pane 2: the selected neuron's activation function and its derivative over z, with every
sample's current z marked on both curves — dead ReLUs (every mark on the flat part) and saturated
sigmoids (marks out on the tails, where the slope is ~0) show at a glance.

For a neuron with exactly one incoming connection a second plot shows seed 001's "effect of
weight and bias": z = w·x + b against the input x (a straight line: w is its steepness, b shifts
it) and the activation applied to it.

A selected convolution shows its activation the same way, with every value of its feature maps
marked (every sample, map and position; an even subsample of at most ``MAX_MAP_MARKS``), the
chosen sample's values ringed, and a filter whose map is dead (a ReLU map that is 0 everywhere)
named.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from nnstudio.core import activations as acts
from nnstudio.core.network import Convolution

from .base import DERIV_COLOR, MARK_COLOR, MUTED, TRAIN_COLOR, PlotPane, pen

if TYPE_CHECKING:
    from nnstudio.gui.document import Document

SATURATION_SLOPE = 0.02   # da/dz below this counts as saturated
MAX_MAP_MARKS = 20_000    # a convolution's map values marked at most (an even subsample)
MAX_SAMPLE_MARKS = 2_000  # of them, the chosen sample's ringed at most


def chosen_neuron(document: Document) -> str | None:
    """The neuron the activation pane shows: the first selected non-input neuron (or the
    target of a selected connection), else the first output neuron."""
    net = document.network
    for i in document.selection:
        if i in net.neurons and net.neurons[i].role != "input":
            return i
        if i in net.connections:
            return net.connections[i].target
    outs = net.outputs
    return outs[0].id if outs else None


def chosen_convolution(document: Document) -> str | None:
    """The convolution the pane shows instead of a neuron: the first selected one."""
    layers = document.network.image_layers
    for i in document.selection:
        if isinstance(layers.get(i), Convolution):
            return i
    return None


def _every(n: int, most: int) -> slice:
    """An even subsample of ``n`` items: at most ``most`` of them."""
    return slice(None, None, max(1, -(-n // most)))


class ActivationPane(PlotPane):
    title = "Activation"
    object_name = "activation"

    def _build(self) -> None:
        p = self.plot = self.add_plot(row=1, col=0)
        p.setLabel("bottom", "z (weighted sum + bias)")
        p.setLabel("left", "a, da/dz")
        self.add_legend(p, row=0)
        self.f_curve = p.plot([], [], pen=pen(TRAIN_COLOR, 2.5), name="a = f(z)")
        self.d_curve = p.plot([], [], pen=pen(DERIV_COLOR, 2, Qt.DashLine), name="da/dz")
        self.d_marks = pg.ScatterPlotItem(size=6, pen=pg.mkPen(DERIV_COLOR),
                                          brush=pg.mkBrush(255, 255, 255, 230))
        self.marks = pg.ScatterPlotItem(size=9, pen=pg.mkPen("w", width=1.2),
                                        brush=pg.mkBrush(MARK_COLOR))
        self.sample_mark = pg.ScatterPlotItem(size=15, pen=pg.mkPen(MARK_COLOR, width=2),
                                              brush=pg.mkBrush(0, 0, 0, 0))
        p.addItem(self.d_marks)
        p.addItem(self.marks)
        p.addItem(self.sample_mark)
        self.zero_line = pg.InfiniteLine(0, angle=90, pen=pg.mkPen(MUTED, width=1,
                                                                    style=Qt.DotLine))
        p.addItem(self.zero_line, ignoreBounds=True)
        q = self.wx_plot = self.add_plot(row=3, col=0)
        q.setLabel("bottom", "input x")
        q.setLabel("left", "output")
        self.wx_legend = self.add_legend(q, row=2)
        self.z_line = q.plot([], [], pen=pen(MUTED, 2, Qt.DashLine), name="z = w·x + b")
        self.a_line = q.plot([], [], pen=pen(TRAIN_COLOR, 2.5), name="a = f(w·x + b)")
        self.wx_marks = pg.ScatterPlotItem(size=8, pen=pg.mkPen("w", width=1.2),
                                           brush=pg.mkBrush(MARK_COLOR))
        q.addItem(self.wx_marks)
        self.layout_widget.ci.layout.setRowStretchFactor(1, 3)
        self.layout_widget.ci.layout.setRowStretchFactor(3, 2)
        self.document.sampleChanged.connect(lambda *_: self.mark_dirty())
        self.neuron: str | None = None
        self.table: dict[str, np.ndarray] = {}

    def _show_wx(self, on: bool) -> None:
        """The second plot (one input feeding the neuron) leaves the layout when hidden, so
        the activation curve gets the whole pane instead of sharing it with a blank row."""
        ci = self.layout_widget.ci
        inside = self.wx_plot in ci.items
        if on and not inside:
            ci.addItem(self.wx_legend, row=2, col=0)
            ci.addItem(self.wx_plot, row=3, col=0)
            ci.layout.setRowStretchFactor(3, 2)
        elif not on and inside:
            ci.removeItem(self.wx_legend)
            ci.removeItem(self.wx_plot)
            ci.layout.setRowStretchFactor(3, 0)
        self.wx_plot.setVisible(on)
        self.wx_legend.setVisible(on)

    def _clear(self, info: str) -> None:
        for c in (self.f_curve, self.d_curve, self.z_line, self.a_line):
            c.setData([], [])
        for s in (self.marks, self.d_marks, self.sample_mark, self.wx_marks):
            s.setData([], [])
        self._show_wx(False)
        self.set_info(info)
        self.set_warning("")
        self.table = {}

    def refresh(self) -> None:
        doc = self.document
        net = doc.network
        lid = chosen_convolution(doc)
        if lid is not None:
            self._show_convolution(lid)
            return
        nid = self.neuron = chosen_neuron(doc)
        if nid is None:
            self._clear("The network has no output neuron yet")
            return
        ev = doc.evaluation()
        if ev is None:
            self._clear(f"Cannot evaluate: {doc.evaluation_error()}")
            return
        eng = doc.engine()
        i = eng.index[nid]
        neuron = net.neurons[nid]
        act = acts.ACTIVATIONS[neuron.activation]
        slope = neuron.slope
        z = ev.z[:, i]
        a = ev.a[:, i]
        self.table = {"sample": np.arange(len(z), dtype=float), "z": z, "a": a}
        lo, hi = float(np.min(z)), float(np.max(z))
        lo, hi = min(lo, -4.0), max(hi, 4.0)
        pad = 0.08 * (hi - lo)
        grid = np.linspace(lo - pad, hi + pad, 400)
        s = int(min(max(doc.sample_index, 0), len(z) - 1))
        who = f"{neuron.label} ({neuron.role})"
        if not act.elementwise:  # softmax: a depends on every output neuron
            self.f_curve.setData([], [])
            self.d_curve.setData([], [])
            self.d_marks.setData([], [])
            self.marks.setData(z, a)
            self.sample_mark.setData([z[s]], [a[s]])
            self.set_info(f"{who} · {act.title}: {act.formula} — each mark is a sample's (z, a); "
                          "a also depends on the other softmax outputs")
            self.set_warning("")
            self._show_wx(False)
            return
        fa = act.f(grid, slope)
        fd = act.df(grid, fa, slope)
        d = act.df(z, a, slope)
        self.table["da_dz"] = d
        self.f_curve.setData(grid, fa)
        self.d_curve.setData(grid, fd)
        self.marks.setData(z, a)
        self.d_marks.setData(z, d)
        self.sample_mark.setData([z[s]], [a[s]])
        n = len(z)
        info = f"{who} · {act.title}: {act.formula};  {act.derivative_formula}"
        self.set_info(info)
        self.set_warning(self._diagnose(neuron, act, z, d, n))
        self._one_input(neuron, act, slope, ev, eng, z, a)

    def _show_convolution(self, lid: str) -> None:
        """A convolution's activation, with its maps' values marked."""
        doc = self.document
        conv = doc.network.image_layers[lid]
        assert isinstance(conv, Convolution)
        self.neuron = None
        ev = doc.evaluation()
        maps = ev.maps.get(lid) if ev is not None else None
        if maps is None:
            self._clear(f"Cannot evaluate: {doc.evaluation_error() or 'not connected'}")
            return
        act = acts.ACTIVATIONS[conv.activation]
        slope = conv.slope
        z_all, a_all = maps.z, maps.a                   # (samples, maps, height, width)
        take = _every(z_all.size, MAX_MAP_MARKS)
        z, a = z_all.ravel()[take], a_all.ravel()[take]
        d = act.df(z, a, slope)
        s = int(min(max(doc.sample_index, 0), len(z_all) - 1))
        zs, as_ = z_all[s].ravel(), a_all[s].ravel()
        ring = _every(zs.size, MAX_SAMPLE_MARKS)
        lo, hi = min(float(np.min(z)), -4.0), max(float(np.max(z)), 4.0)
        pad = 0.08 * (hi - lo)
        grid = np.linspace(lo - pad, hi + pad, 400)
        fa = act.f(grid, slope)
        self.f_curve.setData(grid, fa)
        self.d_curve.setData(grid, act.df(grid, fa, slope))
        self.marks.setData(z, a)
        self.d_marks.setData(z, d)
        self.sample_mark.setData(zs[ring], as_[ring])
        idx = np.indices(z_all.shape).reshape(4, -1)[:, take]
        self.table = {"sample": idx[0].astype(float), "map": idx[1].astype(float),
                      "row": idx[2].astype(float), "col": idx[3].astype(float), "z": z, "a": a,
                      "da_dz": d}
        shown = "" if take.step == 1 else f" (every {take.step}th of {z_all.size:,})"
        self.set_info(f"{conv.label} (convolution) · {act.title}: {act.formula};  "
                      f"{act.derivative_formula} — each mark is one value of a feature map"
                      f"{shown}; ringed: sample {s}")
        dead = [f for f in range(z_all.shape[1]) if np.all(z_all[:, f] <= 0)]
        warning = ""
        if conv.activation == "relu" and dead:
            names = ", ".join(map(str, dead))
            warning = (f"The map of filter{'s' if len(dead) > 1 else ''} {names} is dead: z ≤ 0 "
                       f"at every position of every sample, so it gives 0 and its filter "
                       f"cannot learn. Try another seed or leaky ReLU.")
        self.set_warning(warning)
        self._show_wx(False)

    def _diagnose(self, neuron, act, z, d, n) -> str:
        if neuron.activation == "relu" and np.all(z <= 0):
            return (f"{neuron.label} is a dead ReLU: z ≤ 0 on all {n} samples, so its output and "
                    "its gradient are 0 and it cannot learn. Try a different seed, a smaller "
                    "learning rate or leaky ReLU.")
        if neuron.activation == "binary_step":
            return "A binary step has gradient 0 everywhere: gradient descent cannot train it."
        fused = (neuron.role == "output" and self.document.settings.loss in ("bce", "cross_entropy")
                 and neuron.activation == "sigmoid")
        if neuron.activation in ("sigmoid", "tanh", "softplus") and not fused:
            # (a sigmoid output under cross-entropy loss is fused with it: dL/dz = a - y, so a
            # confident, saturated output does not stop learning)
            flat = np.abs(d) < SATURATION_SLOPE
            if neuron.activation == "softplus":
                flat = z < -4
            k = int(flat.sum())
            if k == n:
                return (f"{neuron.label} is saturated on all {n} samples (da/dz < "
                        f"{SATURATION_SLOPE}): its gradient has almost vanished.")
            if k:
                return (f"{neuron.label} is saturated on {k} of {n} samples (da/dz < "
                        f"{SATURATION_SLOPE}); those samples barely train it.")
        if neuron.activation == "relu":
            k = int(np.sum(z <= 0))
            if k:
                return ""  # partly inactive ReLUs are normal
        return ""

    def _one_input(self, neuron, act, slope, ev, eng, z, a) -> None:
        net = self.document.network
        inc = net.incoming(neuron.id)
        if len(inc) != 1:
            self._show_wx(False)
            return
        c = inc[0]
        w, b = c.weight, neuron.bias
        x = ev.a[:, eng.index[c.source]]
        self.table["x"] = x
        lo, hi = float(np.min(x)), float(np.max(x))
        if hi - lo < 1e-9:
            lo, hi = lo - 1.0, hi + 1.0
        pad = 0.15 * (hi - lo)
        xs = np.linspace(lo - pad, hi + pad, 200)
        zs = w * xs + b
        self.z_line.setData(xs, zs)
        self.a_line.setData(xs, act.f(zs, slope))
        self.wx_marks.setData(x, a)
        src = net.neurons[c.source].label
        self.set_label(self.wx_plot, "bottom", f"input x = {src}")
        self.set_info(self.info.text() + f";  z = {w:.4g}·x + {b:.4g}")
        self.set_title(self.wx_plot, "effect of weight and bias: z = w·x + b",
                              size="9pt", color=MUTED)
        self._show_wx(True)

    def csv_table(self) -> tuple[list[str], list[list[float]]]:
        t = self.table
        header = [k for k in ("sample", "map", "row", "col", "x", "z", "a", "da_dz") if k in t]
        cols = [t[k] for k in header]
        return header, [list(r) for r in zip(*cols, strict=True)]
