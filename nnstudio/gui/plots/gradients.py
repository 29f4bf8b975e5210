"""Pane 3: the mean |gradient| of each layer (depth level) over the epochs, on a log scale, so
vanishing (curves sinking towards 1e-6 and below) and exploding gradients show. Below the plot,
plain-language warnings: a layer whose gradient fell below 1e-6, and ReLU neurons that are dead
on every sample.

The curves come from the training history (the last optimizer step of each epoch); the dots at
the right end are the full-dataset gradient at the current parameters (``document.evaluation()``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg

from .base import PlotPane, pen, series_color

if TYPE_CHECKING:
    from nnstudio.core.engine import Engine, Evaluation

VANISHING = 1e-6
EXPLODING = 1e3


def layer_names(engine: Engine) -> list[str]:
    """One name per entry of ``engine.layer_grad_means``: a convolution by its id, a dense
    block by its depth (or "output") and size."""
    names = []
    for pl in engine.param_layers:
        if pl.kind == "convolution":
            names.append(f"convolution {pl.name}")
            continue
        kind = "output" if all(i in engine.output_ids for i in pl.ids) else f"depth {pl.depth}"
        names.append(f"{kind} ({len(pl.ids)} neuron{'s' if len(pl.ids) != 1 else ''})")
    return names


def _positive(a: np.ndarray) -> np.ndarray:
    """Zeros cannot sit on a log axis: show them as gaps (the warning says it in words)."""
    a = np.asarray(a, dtype=np.float64)
    return np.where(a > 0, a, np.nan)


class DecadeAxis(pg.AxisItem):
    """A log axis labelled at whole decades only (1e-4, 0.001, 0.01 …) whenever at least one
    is in view: pyqtgraph otherwise labels every minor tick (0.004, 0.005, …), which piles
    up in a short pane."""

    def logTickValues(self, minVal: float, maxVal: float, size: float,
                      stdTicks: list) -> list[tuple[float, list[float]]]:
        decades = [float(v) for v in range(int(np.ceil(minVal)), int(np.floor(maxVal)) + 1)]
        if decades:
            step = max(1, int(np.ceil(len(decades) / max(size / 28.0, 1.0))))
            return [(float(step), decades[::step])]
        return super().logTickValues(minVal, maxVal, size, stdTicks)


class GradientsPane(PlotPane):
    title = "Gradients"
    object_name = "gradients"

    def _build(self) -> None:
        p = self.plot = self.add_plot(row=1, axisItems={"left": DecadeAxis("left")})
        p.setLabel("bottom", "epoch")
        p.setLabel("left", "mean |dL/dp|")
        p.setLogMode(x=False, y=True)
        self.legend = self.add_legend(p, row=0)
        self.curves: list[pg.PlotDataItem] = []
        self.now = self.add_few(p, [], [], pen=None, symbol="o", symbolSize=9)
        self.vanish_line = pg.InfiniteLine(np.log10(VANISHING), angle=0,
                                           pen=pg.mkPen("#B0B0B0", width=1,
                                                        style=pg.QtCore.Qt.DashLine),
                                           label="1e-6", labelOpts={"position": 0.04,
                                                                    "color": "#888888"})
        p.addItem(self.vanish_line, ignoreBounds=True)
        if self.training is not None:
            self.training.historyChanged.connect(self.mark_dirty)
        self.names: list[str] = []
        self.current: np.ndarray = np.zeros(0)

    def _ensure_curves(self, names: list[str]) -> None:
        if names == self.names:
            return
        for c in self.curves:
            self.plot.removeItem(c)
            self.legend.removeItem(c)
        self.curves = []
        for k, name in enumerate(names):
            c = self.plot.plot([], [], pen=pen(series_color(k), 2), name=name,
                               clipToView=True, autoDownsample=True, downsampleMethod="peak")
            self.curves.append(c)
        self.names = list(names)

    def refresh(self) -> None:
        doc = self.document
        ev = doc.evaluation()
        if ev is None:
            self._ensure_curves([])
            self.now.setData([], [])
            self.current = np.zeros(0)
            self.set_info(f"Cannot evaluate: {doc.evaluation_error()}")
            self.set_warning("")
            return
        eng = doc.engine()
        names = layer_names(eng)
        self._ensure_curves(names)
        h = self.training.history if self.training is not None else None
        n_hist = 0
        if h is not None and h.n_depth == len(names) and h.g_n:
            gx, g = h.grad_x, h.grad
            n_hist = h.g_n
            for k, c in enumerate(self.curves):
                c.setData(gx, _positive(g[:, k]))
        else:
            for c in self.curves:
                c.setData([], [])
        self.current = eng.layer_grad_means(ev.grad)
        x_now = self.training.epoch if self.training is not None else 0.0
        self.fit_epochs(self.plot, float(x_now))
        y = _positive(self.current)
        ok = np.isfinite(y)
        if not n_hist and ok.any():
            # before training: a fixed range a decade around the current means (a range that
            # hugs the points labels every minor tick of the log axis: 0.004, 0.005, ...)
            lo, hi = np.log10(np.min(y[ok])), np.log10(np.max(y[ok]))
            key = (round(lo, 1), round(hi, 1))
            if getattr(self, "_y_fixed", None) != key:
                self.plot.setYRange(lo - 1.0, hi + 0.5, padding=0)
                self._y_fixed = key
        elif getattr(self, "_y_fixed", None) is not None:
            self.plot.enableAutoRange(axis="y")
            self._y_fixed = None
        self.now.setData(np.full(int(ok.sum()), x_now), y[ok],
                         symbolBrush=[pg.mkBrush(series_color(k)) for k in np.flatnonzero(ok)],
                         symbolPen=[pg.mkPen("w") for _ in range(int(ok.sum()))])
        parts = [f"{nm.split(' (')[0]}: {v:.3g}" for nm, v in zip(names, self.current, strict=True)]
        self.set_info("now  " + "   ".join(parts) + ("" if n_hist else "   — press Play to train"))
        self.set_warning("\n".join(self.warnings(ev, eng, names)))

    def warnings(self, ev: Evaluation, eng: Engine, names: list[str]) -> list[str]:
        out = []
        net = self.document.network
        small_loss = abs(float(ev.loss)) < 1e-8
        for name, v in zip(names, self.current, strict=True):
            layer = name.split(" (")[0]
            if v < VANISHING:
                why = ("the loss is already near 0, so training has converged" if small_loss
                       else "its weights have practically stopped learning (a vanishing "
                       "gradient; try ReLU, a different init or fewer layers)")
                out.append(f"The {layer} layer's mean |gradient| is {v:.2g}, below 1e-6: {why}.")
            elif v > EXPLODING:
                out.append(f"The {layer} layer's mean |gradient| is {v:.3g}: the gradient is "
                           "exploding; lower the learning rate.")
        dead = []
        for nid in eng.neuron_ids:
            n = net.neurons.get(nid)
            if n is None or n.role == "input" or n.activation != "relu":
                continue
            if np.all(ev.z[:, eng.index[nid]] <= 0):
                dead.append(n.label)
        if dead:
            lst = ", ".join(dead[:8]) + (f" and {len(dead) - 8} more" if len(dead) > 8 else "")
            one = len(dead) == 1
            out.append(f"ReLU neuron{'' if one else 's'} {lst} {'is' if one else 'are'} dead: "
                       f"z ≤ 0 on every sample, so {'it outputs' if one else 'they output'} 0 "
                       "and get no gradient.")
        return out

    def csv_table(self) -> tuple[list[str], list[list[float]]]:
        h = self.training.history
        header = ["epoch"] + [f"mean_abs_grad {n}" for n in self.names]
        if h.n_depth != len(self.names) or not h.g_n:
            return header, []
        cols = [h.grad_x] + [h.grad[:, k] for k in range(h.n_depth)]
        return header, [list(r) for r in zip(*cols, strict=True)]
