"""Pane 6: the loss landscape around the current parameters.

* one parameter selected (a connection's weight or a neuron's bias): the loss as a function of
  that parameter with every other parameter fixed — seed 001's U-shaped SSR curve for b3 — with
  the current value marked, the gradient's tangent drawn through it, and where one plain
  gradient-descent step (value − learning rate × slope) would land;
* two parameters selected: a contour map of the loss over both, the current point marked and an
  arrow pointing downhill (along −gradient).

The grid is evaluated with the engine itself (a private compiled copy, so the document's engine
is never disturbed); its centre value equals ``document.evaluation().loss`` and the tangent's
slope is ``evaluation.grad`` for that parameter.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer

from nnstudio.core.engine import Engine
from nnstudio.gui import style

from .base import MARK_COLOR, MUTED, TRAIN_COLOR, PlotPane, pen, sequential_colormap
from .history import param_name, selected_params

N_1D = 161
N_2D = 41
N_2D_BUSY = 21           # while training
BUSY_INTERVAL_1D = 0.5   # while training, the curve is recomputed at most this often (s) ...
BUSY_INTERVAL_2D = 1.5   # ... and the contour map this often; the current point moves live
N_1D_BUSY = 81
JOB_SLICE_S = 0.004      # the grid is computed in slices this long between event-loop turns
ARROW_PX = 38            # length of the downhill arrow on the contour map
CHUNK = 8                # loss evaluations between two checks of the clock


def loss_curve(engine: Engine, X: np.ndarray, Y: np.ndarray, loss: str, index: int,
               values: np.ndarray) -> np.ndarray:
    """Loss with parameter ``index`` set to each of ``values`` (others as in ``engine``).
    The engine's parameter is restored afterwards."""
    p = engine.params
    keep = p[index]
    out = np.empty(len(values))
    try:
        for k, v in enumerate(values):
            p[index] = v
            out[k] = engine.loss(X, Y, loss)
    finally:
        p[index] = keep
    return out


def loss_grid(engine: Engine, X: np.ndarray, Y: np.ndarray, loss: str, i: int, j: int,
              vi: np.ndarray, vj: np.ndarray) -> np.ndarray:
    """Loss over the grid vi x vj of parameters i and j; result[a, b] = L(vi[a], vj[b])."""
    p = engine.params
    ki, kj = p[i], p[j]
    out = np.empty((len(vi), len(vj)))
    try:
        for a, x in enumerate(vi):
            p[i] = x
            for b, y in enumerate(vj):
                p[j] = y
                out[a, b] = engine.loss(X, Y, loss)
    finally:
        p[i], p[j] = ki, kj
    return out


class LandscapePane(PlotPane):
    title = "Loss landscape"
    object_name = "landscape"

    def _build(self) -> None:
        p = self.plot = self.add_plot(row=1)
        self.legend = self.add_legend(p, row=0)
        self.curve = self.add_few(p, [], [], pen=pen(TRAIN_COLOR, 2.5), name="loss")
        self.tangent = self.add_few(p, [], [], pen=pen(MARK_COLOR, 2, Qt.DashLine),
                                    name="tangent (slope)")
        self.step_line = self.add_few(p, [], [], pen=pen(MUTED, 1.2, Qt.DotLine))
        self.step_mark = self.add_few(p, [], [], pen=None, symbol="o", symbolSize=9,
                                symbolBrush=pg.mkBrush(255, 255, 255), symbolPen=pen(MARK_COLOR, 2),
                                name="after one GD step")
        self.current = self.add_few(p, [], [], pen=None, symbol="o", symbolSize=11,
                              symbolBrush=pg.mkBrush(MARK_COLOR), symbolPen=pg.mkPen("w"),
                              name="current value")
        self.image = pg.ImageItem()
        self.image.setZValue(-10)
        self.image.setLookupTable(sequential_colormap().getLookupTable(nPts=256))
        p.addItem(self.image)
        self.isos: list[pg.IsocurveItem] = []
        for _ in range(9):
            iso = pg.IsocurveItem(level=0.0, pen=pg.mkPen((255, 255, 255, 170), width=1))
            iso.setParentItem(self.image)
            self.isos.append(iso)
        self.arrow = pg.ArrowItem(angle=0, headLen=12, tailLen=ARROW_PX - 12, tailWidth=3,
                                  brush=pg.mkBrush(MARK_COLOR), pen=pg.mkPen("w"))
        p.addItem(self.arrow)
        self.label = pg.TextItem(color="#333333", anchor=(0, 1))
        self._engine: Engine | None = None
        self._job = None
        self._job_network: tuple[int, int] | None = None
        self._again = False
        self._sync = False
        self._job_timer = QTimer(self)
        self._job_timer.setSingleShot(True)
        self._job_timer.setInterval(0)
        self._job_timer.timeout.connect(self._run_job)
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.timeout.connect(self.mark_dirty)
        self._range: dict = {}
        self._last_grid = 0.0
        self.mode = ""
        self.values: np.ndarray = np.zeros(0)
        self.losses: np.ndarray = np.zeros(0)
        self.grid: dict = {}
        self.pids: list[str] = []
        self.slope = float("nan")
        self.current_loss = float("nan")

    @property
    def computing(self) -> bool:
        """A curve or map is being computed, in slices between event-loop turns."""
        return self._job is not None

    def _network_key(self) -> tuple[int, int]:
        net = self.document.network
        return id(net), net.structure_version

    def _engine_copy(self) -> Engine:
        net = self.document.network
        eng = self._engine
        if eng is None or eng.structure_version != net.structure_version or \
                getattr(eng, "_net_id", None) != id(net):
            eng = self._engine = Engine.compile(net)
        else:
            eng.load_params(net)
        return eng

    def _span(self, pid: str, v: float, g: float) -> tuple[float, float]:
        lo_hi = self._range.get(pid)
        if lo_hi is not None:
            lo, hi = lo_hi
            w = hi - lo
            if lo + 0.2 * w <= v <= hi - 0.2 * w:
                return lo, hi
        lr = float(self.document.settings.learning_rate)
        r = max(1.0, 1.5 * abs(v), 3.0 * abs(lr * g) if np.isfinite(g) else 0.0)
        r = min(r, 1e6)
        self._range[pid] = (v - r, v + r)
        return v - r, v + r

    def _hide(self, info: str) -> None:
        for c in (self.curve, self.tangent, self.step_line, self.step_mark, self.current):
            c.setData([], [])
        self.image.setVisible(False)
        self.arrow.setVisible(False)
        for iso in self.isos:
            iso.setVisible(False)
        self.set_info(info)

    def default_params(self) -> list[str]:
        net = self.document.network
        outs = net.outputs
        if outs and outs[-1].bias_trainable is not None:
            return [outs[-1].id]
        return []

    def refresh(self) -> None:
        doc = self.document
        ev = doc.evaluation()
        if self._job is not None and not self._sync:
            self._again = True   # a computation is under way: start over when it ends
            return
        if ev is None:
            self.mode = ""
            self._hide(f"Cannot evaluate: {doc.evaluation_error()}")
            return
        sel = selected_params(doc)
        chosen = bool(sel)
        pids = sel[:2] if sel else self.default_params()
        if not pids:
            self.mode = ""
            self._hide("Select a weight or a neuron (its bias) to see the loss landscape")
            return
        if not self._sync and pids == self.pids and self.mode == ("1d" if len(pids) == 1 else "2d"):
            busy = self.busy
            interval = BUSY_INTERVAL_1D if len(pids) == 1 else BUSY_INTERVAL_2D
            wait = interval - (time.perf_counter() - self._last_grid)
            if busy and wait > 0:
                # while training the curve / map is recomputed every so often; in between only
                # the current point (and tangent / arrow) moves: the engine's loss and gradient
                self._mark_only(pids, ev)
                if not self._later.isActive():
                    self._later.start(int(wait * 1000) + 1)
                return
        self._last_grid = time.perf_counter()
        self.pids = pids
        job = self._one(pids[0], ev, chosen) if len(pids) == 1 else self._two(pids, ev)
        self._job = job
        self._job_network = self._network_key()
        if self._sync:
            for _ in job:
                pass
            self._job = None
        else:
            self._run_job()

    def _run_job(self) -> None:
        """Advance the computation for at most JOB_SLICE_S, then yield to the event loop, so
        the window stays smooth however large the grid."""
        job = self._job
        if job is None:
            return
        if self._network_key() != self._job_network:
            # the network changed shape between two slices (a neuron removed, say): what the
            # job would draw no longer exists; start over on the network as it is now
            job.close()
            self._job = None
            self._again = False
            self.mark_dirty()
            return
        end = time.perf_counter() + JOB_SLICE_S
        try:
            next(job)   # at least one step a turn, however short the slice (never a spin)
            while time.perf_counter() < end:
                next(job)
        except StopIteration:
            self._job = None
            if self._again:
                self._again = False
                self.mark_dirty()
            return
        self._job_timer.start()

    def refresh_now(self) -> None:
        """Compute and draw at once (tests, exports)."""
        if self._job is not None:
            self._job.close()
            self._job = None
        self._again = False
        self._sync = True
        try:
            super().refresh_now()
        finally:
            self._sync = False

    def _place_arrow(self, vi: float, vj: float, gi: float, gj: float) -> None:
        """An arrow from the current point, downhill (along −gradient), ARROW_PX long."""
        gn = float(np.hypot(gi, gj))
        if not (gn > 0 and np.isfinite(gn)):
            self.arrow.setVisible(False)
            return
        pw, ph = self.plot.getViewBox().viewPixelSize()
        pw, ph = max(pw, 1e-300), max(ph, 1e-300)
        sx, sy = -gi / pw, gj / ph            # the downhill direction on screen (y grows down)
        norm = float(np.hypot(sx, sy)) or 1.0
        ux, uy = sx / norm, sy / norm
        # ArrowItem: angle 0 points left, the tip sits at its position, angles turn clockwise
        self.arrow.setStyle(angle=float(np.degrees(np.arctan2(-uy, -ux))))
        self.arrow.setPos(vi + ux * ARROW_PX * pw, vj - uy * ARROW_PX * ph)
        self.arrow.setVisible(True)

    def _mark_only(self, pids: list[str], ev) -> None:
        """Move the current point (and tangent / arrow) without recomputing the grid."""
        eng = self.document.engine()
        idx = [eng.param_index(p) for p in pids]
        v = [float(eng.params[i]) for i in idx]
        g = [float(ev.grad[i]) for i in idx]
        L0 = float(ev.loss)
        if len(pids) == 1:
            self.slope, self.current_loss = g[0], L0
            self.current.setData([v[0]], [L0])
            lo, hi = self._range.get(pids[0], (v[0] - 1, v[0] + 1))
            half = (hi - lo) / 6
            tx = np.array([v[0] - half, v[0] + half])
            self.tangent.setData(tx, L0 + g[0] * (tx - v[0]))
            self.step_mark.setData([], [])
            self.step_line.setData([], [])
        else:
            self.current_loss = L0
            self.current.setData([v[0]], [v[1]])
            self._place_arrow(v[0], v[1], g[0], g[1])

    def _one(self, pid: str, ev, chosen: bool) -> None:
        doc = self.document
        net = doc.network
        self.mode = "1d"
        self.legend.setVisible(True)
        eng_doc = doc.engine()
        idx = eng_doc.param_index(pid)
        v = float(eng_doc.params[idx])
        g = float(ev.grad[idx])
        L0 = float(ev.loss)
        eng = self._engine_copy()
        X, Y = np.asarray(doc.dataset.X, float), np.asarray(doc.dataset.Y, float)
        lo, hi = self._span(pid, v, g)
        n = N_1D_BUSY if self.busy else N_1D
        xs = np.linspace(lo, hi, n)
        loss = doc.settings.loss
        ys = np.empty(n)
        for a in range(0, n, CHUNK):
            ys[a:a + CHUNK] = loss_curve(eng, X, Y, loss, idx, xs[a:a + CHUNK])
            yield
        self.values, self.losses = xs, ys
        self.slope, self.current_loss = g, L0
        self.image.setVisible(False)
        self.arrow.setVisible(False)
        for iso in self.isos:
            iso.setVisible(False)
        self.curve.setData(xs, ys)
        half = (hi - lo) / 6
        tx = np.array([v - half, v + half])
        self.tangent.setData(tx, L0 + g * (tx - v))
        lr = float(doc.settings.learning_rate)
        v1 = v - lr * g
        if np.isfinite(v1) and lo <= v1 <= hi:
            L1 = float(loss_curve(eng, X, Y, doc.settings.loss, idx, np.array([v1]))[0])
            self.step_mark.setData([v1], [L1])
            self.step_line.setData([v, v1], [L0, L0])
        else:
            self.step_mark.setData([], [])
            self.step_line.setData([], [])
        self.current.setData([v], [L0])
        # a fixed range that holds the curve and the current point (after a contour view the
        # plot's range was the two parameters': never keep it, never a negative loss axis)
        seen = np.concatenate([ys[np.isfinite(ys)], [L0] if np.isfinite(L0) else []])
        y0, y1 = (float(seen.min()), float(seen.max())) if seen.size else (0.0, 1.0)
        pad = 0.08 * max(y1 - y0, abs(y1) * 1e-6, 1e-12)
        self.set_range(self.plot, lo, hi, max(y0 - pad, 0.0) if y0 >= 0 else y0 - pad,
                       y1 + pad)
        name = param_name(net, pid)
        self.set_label(self.plot, "bottom", name)
        self.set_label(self.plot, "left", f"loss ({doc.settings.loss})")
        hint = "" if chosen else "   (select a weight or neuron to choose)"
        f = lambda u: style.format_value(u, 3)  # noqa: E731 (the seeds' 3 significant digits)
        self.set_info(f"{name} = {f(v)}   loss {f(L0)}   slope {f(g)}   step size = "
                      f"{lr:g} × {f(g)} = {f(lr * g)}   new value = {f(v)} − ({f(lr * g)}) = "
                      f"{f(v1)}{hint}")

    def _two(self, pids: list[str], ev) -> None:
        doc = self.document
        net = doc.network
        self.mode = "2d"
        self.legend.setVisible(False)
        eng_doc = doc.engine()
        i, j = eng_doc.param_index(pids[0]), eng_doc.param_index(pids[1])
        vi, vj = float(eng_doc.params[i]), float(eng_doc.params[j])
        gi, gj = float(ev.grad[i]), float(ev.grad[j])
        eng = self._engine_copy()
        X, Y = np.asarray(doc.dataset.X, float), np.asarray(doc.dataset.Y, float)
        lo_i, hi_i = self._span(pids[0], vi, gi)
        lo_j, hi_j = self._span(pids[1], vj, gj)
        busy = self.busy
        n = N_2D_BUSY if busy else N_2D
        ai = np.linspace(lo_i, hi_i, n)
        aj = np.linspace(lo_j, hi_j, n)
        loss = doc.settings.loss
        L = np.empty((n, n))
        for a in range(n):
            for b in range(0, n, CHUNK):
                L[a:a + 1, b:b + CHUNK] = loss_grid(eng, X, Y, loss, i, j, ai[a:a + 1],
                                                    aj[b:b + CHUNK])
                yield
        self.grid = {"p1": ai, "p2": aj, "loss": L}
        self.slope, self.current_loss = float("nan"), float(ev.loss)
        for c in (self.curve, self.tangent, self.step_line, self.step_mark):
            c.setData([], [])
        finite = L[np.isfinite(L)]
        show = np.log10(np.maximum(L, 1e-300)) if finite.size and finite.min() > 0 and \
            finite.max() / max(finite.min(), 1e-300) > 50 else L
        lo, hi = (float(np.nanmin(show)), float(np.nanmax(show))) if finite.size else (0.0, 1.0)
        if hi <= lo:
            hi = lo + 1e-12
        self.image.setImage(show, levels=(lo, hi), autoLevels=False)
        self.image.setRect(QRectF(lo_i, lo_j, hi_i - lo_i, hi_j - lo_j))
        self.image.setVisible(True)
        for k, iso in enumerate(self.isos):
            if busy:   # contour lines are traced in Python: drawn when training pauses
                iso.setVisible(False)
                continue
            iso.setData(show, level=lo + (hi - lo) * (k + 1) / (len(self.isos) + 1))
            iso.setVisible(True)
        self.current.setData([vi], [vj])
        self.set_range(self.plot, lo_i, hi_i, lo_j, hi_j)
        self._place_arrow(vi, vj, gi, gj)
        self.set_range(self.plot, lo_i, hi_i, lo_j, hi_j)
        n1, n2 = param_name(net, pids[0]), param_name(net, pids[1])
        self.set_label(self.plot, "bottom", n1)
        self.set_label(self.plot, "left", n2)
        scale = "log10 loss" if show is not L else "loss"
        self.set_info(f"{scale} over {n1} × {n2}; dot = now (loss {ev.loss:.5g}), arrow = "
                      f"downhill: −gradient = ({-gi:.3g}, {-gj:.3g})")

    def csv_table(self) -> tuple[list[str], list[list[float]]]:
        net = self.document.network
        if self.mode == "1d":
            return [param_name(net, self.pids[0]), "loss"], \
                [[a, b] for a, b in zip(self.values, self.losses, strict=True)]
        if self.mode == "2d":
            g = self.grid
            rows = [[a, b, g["loss"][ia, ib]] for ia, a in enumerate(g["p1"])
                    for ib, b in enumerate(g["p2"])]
            return [param_name(net, self.pids[0]), param_name(net, self.pids[1]), "loss"], rows
        return ["value", "loss"], []
