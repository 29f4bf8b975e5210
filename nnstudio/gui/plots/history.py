"""Pane 5: the selected weights and biases over the epochs.

Select connections (weights) or neurons (their biases) on the canvas; with nothing selected the
first few parameters are shown. The history keeps every parameter for every epoch until its
budget is full, then every other row (the stride doubles), so a long run stays visible whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyqtgraph as pg

from nnstudio.core.network import PASS_THROUGH_ROLES, slope_neuron

from .base import PlotPane, pen, series_color

if TYPE_CHECKING:
    from nnstudio.core.network import Network
    from nnstudio.gui.document import Document

MAX_DEFAULT = 6
MAX_CURVES = 24


def param_name(net: Network, pid: str) -> str:
    """A parameter's short name in a legend: "w x1→h1", "b h1", "slope h1" (a trainable
    leaky slope), or a filter parameter's name."""
    if pid in net.connections:
        c = net.connections[pid]
        return f"w {net.neurons[c.source].label}→{net.neurons[c.target].label}"
    nid = slope_neuron(pid)
    if nid is not None and nid in net.neurons:
        return f"slope {net.neurons[nid].label}"
    if pid in net.neurons:
        return f"b {net.neurons[pid].label}"
    return net.filter_param_name(pid) or pid


def selected_params(document: Document) -> list[str]:
    """Weights of the selected connections and biases of the selected non-input neurons."""
    net = document.network
    out = []
    for i in document.selection:
        if i in net.connections:
            out.append(i)
        elif i in net.neurons and net.neurons[i].role not in PASS_THROUGH_ROLES:
            out.append(i)
    return out


class ParamHistoryPane(PlotPane):
    title = "Parameter history"
    object_name = "params"

    def _build(self) -> None:
        p = self.plot = self.add_plot(row=1)
        p.setLabel("bottom", "epoch")
        p.setLabel("left", "value")
        self.legend = self.add_legend(p, row=0)
        self.zero = pg.InfiniteLine(0, angle=0, pen=pg.mkPen("#C8C8C8", width=1))
        p.addItem(self.zero, ignoreBounds=True)
        self.now = self.add_few(p, [], [], pen=None, symbol="o", symbolSize=8)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.pids: list[str] = []
        if self.training is not None:
            self.training.historyChanged.connect(self.mark_dirty)

    def shown_params(self) -> tuple[list[str], bool]:
        net = self.document.network
        sel = selected_params(self.document)
        if sel:
            return sel[:MAX_CURVES], True
        return net.param_ids()[:MAX_DEFAULT], False

    def _ensure(self, pids: list[str]) -> None:
        net = self.document.network
        names = [param_name(net, p) for p in pids]
        key = list(zip(pids, names, strict=True))
        if key == getattr(self, "_key", None):
            return
        for c in self.curves.values():
            self.plot.removeItem(c)
            self.legend.removeItem(c)
        self.curves = {}
        for k, (pid, name) in enumerate(key):
            self.curves[pid] = self.plot.plot([], [], pen=pen(series_color(k), 2), name=name,
                                              clipToView=True, autoDownsample=True,
                                              downsampleMethod="peak")
        self._key = key
        self.pids = list(pids)

    def refresh(self) -> None:
        net = self.document.network
        pids, chosen = self.shown_params()
        self._ensure(pids)
        h = self.training.history if self.training is not None else None
        n = 0
        for pid, c in self.curves.items():
            j = h.param_index(pid) if h is not None and h.p_n else None
            if j is None:
                c.setData([], [])
            else:
                c.setData(h.param_x, h.params[:, j])
                n = h.p_n
        x_now = self.training.epoch if self.training is not None else 0.0
        self.fit_epochs(self.plot, float(x_now))
        vals = [net.get_param(p) for p in pids]
        self.now.setData([x_now] * len(vals), vals,
                         symbolBrush=[pg.mkBrush(series_color(k)) for k in range(len(vals))],
                         symbolPen=[pg.mkPen("w") for _ in vals])
        if not pids:
            self.set_info("The network has no weights or biases yet")
        elif chosen:
            self.set_info("   ".join(f"{param_name(net, p)} = {v:.4g}"
                                     for p, v in zip(pids, vals, strict=True)))
        else:
            self.set_info("Select connections or neurons on the canvas to follow their weights "
                          "and biases")
        if h is not None and h.param_stride > 1 and n:
            self.set_info(self.info.text() + f"   (1 point per {h.param_stride} epochs)")

    def csv_table(self) -> tuple[list[str], list[list[float]]]:
        h = self.training.history
        net = self.document.network
        header = ["epoch"] + [param_name(net, p) for p in self.pids]
        idx = [h.param_index(p) for p in self.pids]
        if not h.p_n or any(j is None for j in idx):
            return header, []
        cols = [h.param_x] + [h.params[:, j] for j in idx]
        return header, [list(r) for r in zip(*cols, strict=True)]
