"""Pane 1: loss against epoch — training loss, plus validation loss when a split is set, and
the regularization penalty when training has one (the loss is the loss function's value; the
penalty is drawn beside it, and training minimises their sum).

Stays fast with millions of points: the history lives in preallocated float64 arrays
(:class:`~nnstudio.gui.training.TrainingHistory`), the two curves are created once and only
``setData`` runs per tick, with ``clipToView`` and peak downsampling so only what is visible is
drawn, at about one point per pixel.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QCheckBox, QMenu

from .base import MUTED, TRAIN_COLOR, VAL_COLOR, PlotPane, pen


class LossPane(PlotPane):
    title = "Loss"
    object_name = "loss"
    busy_interval = 0.25

    def _build(self) -> None:
        self.log_box = self.add_option(QCheckBox("Log scale"))
        self.log_box.setToolTip("Show the loss on a logarithmic axis: slow progress late in "
                                "training stays visible")
        self.log_box.toggled.connect(self.set_log)
        p = self.plot = self.add_plot(row=1)
        p.setLabel("bottom", "epoch")
        p.setLabel("left", "loss")
        self.legend = self.add_legend(p, row=0)
        kw = {"clipToView": True, "autoDownsample": True, "downsampleMethod": "peak",
              "skipFiniteCheck": False}
        self.train_curve = p.plot([], [], pen=pen(TRAIN_COLOR, 2), name="training", **kw)
        self.val_curve = p.plot([], [], pen=pen(VAL_COLOR, 2, Qt.DashLine), **kw)
        self.penalty_curve = p.plot([], [], pen=pen(MUTED, 1.6, Qt.DotLine), **kw)
        # a PlotDataItem (not a bare scatter) so the marker follows the log mode too
        self.current = self.add_few(p, [], [], pen=None, symbol="o", symbolSize=9,
                              symbolBrush=pg.mkBrush(TRAIN_COLOR), symbolPen=pg.mkPen("w"))
        self.diverged_text = ""
        self._y_fixed = False
        if self.training is not None:
            self.training.historyChanged.connect(self.mark_dirty)
            self.training.diverged.connect(self._on_diverged)
            self.training.runningChanged.connect(
                lambda running: self._on_diverged("") if running else None)

    def _on_diverged(self, text: str) -> None:
        """Divergence (NaN/inf) pauses training: say why right under the curve."""
        self.diverged_text = text
        self.set_warning(text)

    def set_log(self, on: bool) -> None:
        self.log_box.blockSignals(True)
        self.log_box.setChecked(on)
        self.log_box.blockSignals(False)
        self.plot.setLogMode(x=False, y=on)
        self.mark_dirty()

    @property
    def log_scale(self) -> bool:
        return self.log_box.isChecked()

    def extra_menu_actions(self, menu: QMenu) -> None:
        a = QAction("Log scale", menu)
        a.setCheckable(True)
        a.setChecked(self.log_scale)
        a.toggled.connect(self.set_log)
        menu.addAction(a)

    def refresh(self) -> None:
        h = self.training.history if self.training is not None else None
        if h is None or h.n == 0:
            self.diverged_text = ""
            self.set_warning("")
            self.train_curve.setData([], [])
            self.val_curve.setData([], [])
            loss = self.document.loss()
            self.fit_epochs(self.plot, 0.0)
            if loss is not None:
                self.current.setData([0.0], [self._y(loss)])
                self._initial_y_range(float(loss))
                self.set_info(f"loss {loss:.6g} before training",
                              f"loss {loss:.6g} at the current parameters (epoch 0): "
                              "press Play to train")
            else:
                self.current.setData([], [])
                err = self.document.evaluation_error() or ""
                self.set_info(f"no loss: {err}" if err else "")
            self.val_curve.setVisible(False)
            self.penalty_curve.setData([], [])
            self.penalty_curve.setVisible(False)
            self._show_in_legend(self.val_curve, None)
            self._show_in_legend(self.penalty_curve, None)
            return
        x, y = h.x, h.loss
        if self._y_fixed:
            self.plot.enableAutoRange(axis="y")
            self._y_fixed = False
        self.fit_epochs(self.plot, float(x[-1]))
        self.train_curve.setData(x, y)
        has_val = h.has_validation()
        self.val_curve.setVisible(has_val)
        self._show_in_legend(self.val_curve, "validation" if has_val else None)
        if has_val:
            self.val_curve.setData(x, h.val_loss)
        has_pen = h.has_penalty()
        self.penalty_curve.setVisible(has_pen)
        st = self.document.settings
        kind = st.regularization.upper() if st.regularization != "none" else "regularization"
        self._show_in_legend(self.penalty_curve, f"{kind} penalty" if has_pen else None)
        if has_pen:
            self.penalty_curve.setData(x, h.penalty)
        self.current.setData([x[-1]], [self._y(y[-1])])
        info = f"epoch {x[-1]:g} · loss {y[-1]:.6g}"
        if has_val:
            info += f" · validation {h.val_loss[-1]:.6g}"
        tip = info
        if has_pen:
            info += f" · penalty {h.penalty[-1]:.4g}"
            tip = (info + f"\nTraining minimises loss + penalty = "
                   f"{y[-1] + h.penalty[-1]:.6g}; the dotted curve is the penalty alone")
        self.set_info(info, tip + f"  ({h.n:,} points)")

    def _initial_y_range(self, loss: float) -> None:
        """One point, before training: a range from 0 (or a decade below, on a log axis) to a
        little above it, instead of a range centred on the point (negative losses)."""
        if not np.isfinite(loss):
            return
        if self.log_scale:
            if loss <= 0:
                return
            top = np.log10(loss)
            self.plot.setYRange(top - 1.0, top + 0.15, padding=0)
        else:
            self.plot.setYRange(0.0, max(loss * 1.25, 1e-12), padding=0)
        self._y_fixed = True

    def _y(self, v: float) -> float:
        # the scatter marker is a plain item: it follows the log mode through its own data
        return float(v)

    def _show_in_legend(self, curve: pg.PlotDataItem, name: str | None) -> None:
        """List ``curve`` in the legend under ``name`` (None: not listed)."""
        lg = self.legend
        entry = next((label for sample, label in lg.items if sample.item is curve), None)
        if entry is not None and (name is None or entry.text != name):
            lg.removeItem(curve)
            entry = None
        if name is not None and entry is None:
            lg.addItem(curve, name)

    def csv_table(self) -> tuple[list[str], list[list[float]]]:
        h = self.training.history
        header = ["epoch", "training_loss"]
        cols = [h.x, h.loss]
        if h.has_validation():
            header.append("validation_loss")
            cols.append(h.val_loss)
        if h.has_penalty():
            header.append("penalty")
            cols.append(h.penalty)
        return header, [list(r) for r in zip(*cols, strict=True)]
