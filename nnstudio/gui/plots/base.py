"""The shared frame of every plot pane: a header with a title, a status line and options, a
pyqtgraph plot area, and right-click export as PNG, SVG or CSV; and the scheduler that decides
which dirty pane redraws when.

Panes never keep a second copy of a weight: they read the document (``document.evaluation()``,
``document.engine()``, the network) or the training history when they redraw, and they redraw
lazily: a change marks the pane dirty and the redraw happens once, on the next event-loop turn,
and only while the pane is visible. What a pane shows of training it is given as a
:class:`TrainingFeed` (the training controller is one): the panes never import the training
package (an import-linter contract checks it).
"""

from __future__ import annotations

import csv
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer, Signal, SignalInstance
from PySide6.QtGui import QAction, QColor, QHideEvent, QPainter, QPaintEvent, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from nnstudio.gui import style

if TYPE_CHECKING:
    from nnstudio.gui.document import Document

pg.setConfigOptions(antialias=True, background=style.PANEL_HEX, foreground=style.TEXT_HEX)

POSITIVE = style.POSITIVE_HEX   # blue: positive, class 1
NEGATIVE = style.NEGATIVE_HEX   # orange: negative, class 0
SERIES = list(style.SERIES_HEX)
TRAIN_COLOR = style.POSITIVE_HEX
VAL_COLOR = style.REFUSED_HEX
DERIV_COLOR = style.ACCENT_HEX
MARK_COLOR = style.REFUSED_HEX
MUTED = style.MUTED_TEXT_HEX
WARN_BG = "#FFF4E0"
WARN_FG = "#8A4B00"


MIN_EPOCHS = 10      # epoch axes show at least 0..10: a lone first point sits at the left
BUSY_FRAME_MS = 16   # while training, at most one pane redraws per frame (about 60 per second)
SNAPSHOT_QUIET_S = 0.025  # after a live training snapshot the canvas repaint has a frame alone


class TrainingFeed(Protocol):
    """What a pane is given of the training it shows.

    ``history`` is the per-epoch record the panes draw (views ``x``, ``loss``, ``val_loss``,
    ``grad_x``, ``grad``, ``param_x``, ``params``; ``n``, ``n_depth``, ``param_index(pid)``,
    ``has_validation()``); ``epoch`` is the history x of the network's current parameters.
    ``historyChanged`` fires when the history grew or was cleared, ``runningChanged(bool)`` when
    a run starts or ends, ``diverged(message)`` when a run blew up, and
    ``snapshotApplied(live)`` after a snapshot reached the network (``live``: during a run)."""

    history: Any
    historyChanged: SignalInstance
    runningChanged: SignalInstance
    diverged: SignalInstance
    snapshotApplied: SignalInstance

    @property
    def epoch(self) -> float: ...

    def is_running(self) -> bool: ...


class _Scheduler(QObject):
    """Redraws dirty panes ONE per event-loop turn — while training, one per frame — so a
    window full of plots never paints them all in the same frame (every dock belongs to the
    same window, so their paints would add up in one backing-store flush and stall the GUI).
    The least recently drawn pane goes first. Right after a live training snapshot no pane
    redraws for ``SNAPSHOT_QUIET_S``: the canvas repaints in that frame."""

    def __init__(self) -> None:
        super().__init__()
        self.queue: list[PlotPane] = []
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._run)
        self.quiet_until = 0.0
        self._fed_by: weakref.WeakSet = weakref.WeakSet()

    def follow(self, training: TrainingFeed) -> None:
        """Keep quiet for a moment after each live snapshot of ``training`` (once per feed)."""
        if training not in self._fed_by:
            self._fed_by.add(training)
            training.snapshotApplied.connect(self._after_snapshot)

    def _after_snapshot(self, live: bool) -> None:
        if live:
            self.quiet_until = max(self.quiet_until, time.perf_counter() + SNAPSHOT_QUIET_S)

    def request(self, pane: PlotPane) -> None:
        if pane not in self.queue:
            self.queue.append(pane)
        if not self.timer.isActive():
            self.timer.start(self._interval(pane))

    @staticmethod
    def _interval(pane: PlotPane) -> int:
        try:
            return BUSY_FRAME_MS if pane.busy else 0
        except RuntimeError:
            return 0

    def discard(self, pane: PlotPane) -> None:
        if pane in self.queue:
            self.queue.remove(pane)

    def _run(self) -> None:
        now = time.perf_counter()
        if now < self.quiet_until and self.queue:
            self.timer.start(int((self.quiet_until - now) * 1000) + 1)
            return
        wait = None
        for pane in list(self.queue):
            try:
                due = pane.redraw_due()
            except RuntimeError:  # a pane whose widget is gone
                self.queue.remove(pane)
                continue
            if due is None:
                self.queue.remove(pane)
                continue
            if due <= now:
                self.queue.remove(pane)
                pane.redraw()
                break
            wait = due - now if wait is None else min(wait, due - now)
        if self.queue:
            ms = self._interval(self.queue[0])
            if wait is not None:
                ms = max(ms, int(wait * 1000) + 1)
            self.timer.start(ms)


_scheduler: _Scheduler | None = None


def scheduler() -> _Scheduler:
    global _scheduler
    if _scheduler is None:
        _scheduler = _Scheduler()
    return _scheduler


def series_color(i: int) -> str:
    return SERIES[i % len(SERIES)]


def diverging_colormap() -> pg.ColorMap:
    """Orange (low) - white - blue (high): the canvas's activation fill (style.DIVERGING_LUT)."""
    lut = style.DIVERGING_LUT
    return pg.ColorMap(np.linspace(0.0, 1.0, len(lut)), lut)


def sequential_colormap() -> pg.ColorMap:
    """Low loss dark blue -> high loss pale yellow (for the loss landscape)."""
    return pg.ColorMap([0.0, 0.35, 0.7, 1.0],
                       [QColor("#08306B"), QColor("#2171B5"), QColor("#9ECAE1"), QColor("#FFF7BC")])


def pen(color: str, width: float = 2.0, style: Qt.PenStyle = Qt.SolidLine) -> pg.QtGui.QPen:
    p = pg.mkPen(color=color, width=width, style=style)
    p.setCosmetic(True)
    return p


class RowLegend(pg.LegendItem):
    """A legend that is a row of a plot pane's layout (:meth:`PlotPane.add_legend`): entries
    side by side, no frame, and its place and size left to the layout (pyqtgraph's own legend
    floats over the plot and moves itself to its parent's corner whenever it grows)."""

    def __init__(self) -> None:
        super().__init__(colCount=4, labelTextColor=style.TEXT_HEX, labelTextSize="8pt",
                         horSpacing=12, verSpacing=-6, frame=False)
        self.layout.setContentsMargins(24, 0, 4, 0)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def updateSize(self) -> None:
        self.layout.invalidate()
        self.updateGeometry()


class ElidedLabel(QLabel):
    """A one-line label that ends in "…" when it does not fit (the full text is its tooltip),
    instead of being cut off mid-word at the edge of a narrow dock."""

    def __init__(self, text: str = "", color: str = MUTED) -> None:
        super().__init__(text)
        self._color = QColor(color)
        self.setTextFormat(Qt.PlainText)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)

    def is_elided(self) -> bool:
        return self.fontMetrics().horizontalAdvance(self.text()) > self.contentsRect().width()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(self._color)
        r = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.ElideRight, r.width())
        painter.drawText(r, int(Qt.AlignLeft | Qt.AlignVCenter), text)


class PlotPane(QWidget):
    """Base pane: header (title, status text, option widgets) + a pyqtgraph layout.

    Subclasses build their items once in ``_build()`` and update them in ``refresh()`` with
    ``setData`` / ``setImage`` (never clear() + plot()). ``csv_table()`` returns the data behind
    the pane as (header, rows) for CSV export.
    """

    title = "Plot"
    object_name = "plot"
    busy_interval = 0.8   # while training, redraw at most this often (s)
    info_below = False    # a pane with wide options shows its status line under them, wrapped
    exported = Signal(str)

    def __init__(self, document: Document, training: TrainingFeed | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.training = training
        self.setObjectName(f"{self.object_name}Pane")
        self._dirty = True
        self.force_refresh = False
        self._last_refresh = 0.0
        self._labels: dict = {}

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 4)
        lay.setSpacing(2)
        self.header = QHBoxLayout()
        self.header.setContentsMargins(2, 0, 2, 0)
        self.header.setSpacing(6)
        if self.info_below:   # its own row: wrapped onto a second line, never cut off
            self.info = QLabel("")
            self.info.setWordWrap(True)
            self.info.setTextFormat(Qt.PlainText)
            self.info.setStyleSheet(f"color: {MUTED};")
            self.info.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        else:
            self.info = ElidedLabel("")
        self.info.setObjectName("paneInfo")
        self.header.addWidget(self.info, 1)
        lay.addLayout(self.header)
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.layout_widget.ci.setContentsMargins(2, 2, 6, 2)
        self.layout_widget.setMinimumSize(160, 90)   # (a 700-pixel window's right column)
        lay.addWidget(self.layout_widget, 1)
        self.warning = QLabel("")
        self.warning.setObjectName("paneWarning")
        self.warning.setWordWrap(True)
        self.warning.setTextFormat(Qt.PlainText)
        self.warning.setStyleSheet(
            f"background: {WARN_BG}; color: {WARN_FG}; border: 1px solid #F0C987;"
            "border-radius: 3px; padding: 3px 5px;")
        self.warning.hide()
        lay.addWidget(self.warning)
        self.plots: list[pg.PlotItem] = []
        self._build()
        if self.info_below:
            self.header.removeWidget(self.info)
            self.header.addStretch(1)
            lay.insertWidget(1, self.info)
        for p in self.plots:
            self._install_menu(p)
        if training is not None:
            training.runningChanged.connect(self._on_running)
            scheduler().follow(training)
        doc = document
        doc.evaluationChanged.connect(self.mark_dirty)
        doc.projectReplaced.connect(self.mark_dirty)
        doc.selectionChanged.connect(lambda *_: self.mark_dirty())

    # ------------------------------------------------------------------ subclass API
    def _build(self) -> None:
        raise NotImplementedError

    def refresh(self) -> None:
        raise NotImplementedError

    def csv_table(self) -> tuple[list[str], list[list[float]]]:
        raise NotImplementedError

    def _on_running(self, running: bool) -> None:
        """Antialiased drawing costs several milliseconds per frame: while training the panes
        draw plain (smooth animation matters more), and smooth again once training pauses."""
        self.set_antialias(not running)
        self.mark_dirty()

    def set_antialias(self, on: bool) -> None:
        self.layout_widget.setAntialiasing(on)
        for p in self.plots:
            for item in p.items:
                for it in (item, getattr(item, "curve", None), getattr(item, "scatter", None)):
                    opts = getattr(it, "opts", None)
                    if isinstance(opts, dict) and "antialias" in opts:
                        opts["antialias"] = on
                        if hasattr(it, "invalidate"):
                            it.invalidate()   # scatter symbols are cached per antialias mode
                        it.update()

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def add_few(plot: pg.PlotItem, *args: Any, **kw: Any) -> pg.PlotDataItem:
        """A curve or markers of a few points (a current value, a tangent, a diagonal, a
        short curve), drawn whole: never clipped to the view nor downsampled, which the plot
        sets for long histories (:meth:`add_plot`). Clipping would drop points but not their
        per-point symbol pens ("Number of pens does not match number of points"), and peak
        downsampling over a tiny range asks NumPy for an absurd array ("Maximum allowed
        dimension exceeded")."""
        item = plot.plot(*args, **kw)
        item.setClipToView(False)
        item.setDownsampling(ds=1, auto=False)
        return item

    def add_plot(self, row: int = 0, col: int = 0, **kw) -> pg.PlotItem:
        p = self.layout_widget.addPlot(row=row, col=col, **kw)
        p.showGrid(x=True, y=True, alpha=0.18)
        # long histories: draw only what is in view, at about one point per pixel (the plot's
        # own settings override any per-curve ones, so they are set here)
        p.setClipToView(True)
        p.setDownsampling(auto=True, mode="peak")
        for ax in ("left", "bottom"):
            p.getAxis(ax).enableAutoSIPrefix(False)
        p.setMenuEnabled(False)  # our own context menu (export) replaces pyqtgraph's
        p.getViewBox().setMenuEnabled(False)
        p.hideButtons()
        self.plots.append(p)
        return p

    def add_legend(self, plot: pg.PlotItem, row: int, col: int = 0) -> pg.LegendItem:
        """The legend of ``plot`` in its own row of the layout (``row``, above the plot), laid
        out across, so that it never covers the data. Curves made with ``plot.plot(name=…)``
        join it, as with pyqtgraph's own ``addLegend``."""
        lg = RowLegend()
        self.layout_widget.addItem(lg, row=row, col=col)
        self.layout_widget.ci.layout.setRowStretchFactor(row, 0)
        plot.legend = lg
        return lg

    def set_label(self, plot: pg.PlotItem, side: str, text: str) -> None:
        """Set an axis label only when it changes (a label change re-lays-out the plot)."""
        key = (id(plot), side)
        if self._labels.get(key) != text:
            self._labels[key] = text
            plot.setLabel(side, text)

    def set_title(self, plot: pg.PlotItem, text: str, **kw) -> None:
        key = (id(plot), "title")
        if self._labels.get(key) != text:
            self._labels[key] = text
            plot.setTitle(text, **kw)

    def set_range(self, plot: pg.PlotItem, x0: float, x1: float, y0: float, y1: float) -> None:
        """Fix the view range only when it changes."""
        key = (id(plot), "range")
        r = (x0, x1, y0, y1)
        if self._labels.get(key) != r:
            self._labels[key] = r
            plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    def fit_epochs(self, plot: pg.PlotItem, last: float) -> None:
        """Epoch axes start at 0 and span at least ``MIN_EPOCHS``: before training (one point
        at epoch 0) or after a few steps the range is 0..10, not a centred -0.5..0.5; after
        that the axis follows the data (auto range)."""
        key = (id(plot), "epochs")
        if not np.isfinite(last) or last < MIN_EPOCHS:
            if self._labels.get(key) != "fixed":
                plot.setXRange(0, MIN_EPOCHS, padding=0.02)   # also turns x auto range off
                self._labels[key] = "fixed"
        elif self._labels.get(key) != "auto":
            plot.enableAutoRange(axis="x")
            self._labels[key] = "auto"

    def add_option(self, widget: QWidget) -> QWidget:
        self.header.addWidget(widget)
        return widget

    def set_info(self, text: str, tip: str | None = None) -> None:
        """The status line over the plot (elided with "…" when the dock is narrow); ``tip``
        is the tooltip (default: the full text)."""
        if self.info.text() != text:
            self.info.setText(text)
        tip = text if tip is None else tip
        if self.info.toolTip() != tip:
            self.info.setToolTip(tip)

    def set_warning(self, text: str) -> None:
        if text:
            if self.warning.text() != text:
                self.warning.setText(text)
            self.warning.show()
        else:
            self.warning.hide()
            self.warning.setText("")

    @property
    def busy(self) -> bool:
        """Training is running: the pane redraws at capped rates, in plain drawing."""
        return self.training is not None and self.training.is_running()

    def mark_dirty(self, *_args: object) -> None:
        self._dirty = True
        if self.isVisible() or self.force_refresh:
            scheduler().request(self)
        # a hidden pane redraws when it is shown (showEvent)

    def redraw_due(self) -> float | None:
        """When (``time.perf_counter()``) the scheduler may redraw the pane: at once, or while
        training ``busy_interval`` after its last redraw; None if it has nothing to redraw or
        is not shown."""
        if not (self._dirty and (self.isVisible() or self.force_refresh)):
            return None
        return self._last_refresh + (self.busy_interval if self.busy else 0.0)

    def redraw(self) -> None:
        """Redraw if dirty (the scheduler's call)."""
        self._last_refresh = time.perf_counter()
        if self._dirty:
            self._dirty = False
            self.refresh()

    def refresh_now(self) -> None:
        """Redraw at once (tests and exports call this)."""
        self._dirty = False
        self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty:
            self.mark_dirty()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        scheduler().discard(self)

    # ------------------------------------------------------------------ export
    def _install_menu(self, plot: pg.PlotItem) -> None:
        """Right-click opens our menu (export, reset zoom). pyqtgraph's own menu is disabled,
        and a disabled ViewBox menu also ignores the right click, so the click is taken here."""
        vb = plot.getViewBox()
        vb.menu = None
        vb.raiseContextMenu = lambda ev, _p=plot: self._context_menu(ev)

        def click(ev: Any, _vb: pg.ViewBox = vb) -> None:
            if ev.button() == Qt.MouseButton.RightButton:
                ev.accept()
                self._context_menu(ev)

        vb.mouseClickEvent = click

    def extra_menu_actions(self, menu: QMenu) -> None:
        """Subclasses add their own actions (e.g. the log-scale toggle)."""

    def _context_menu(self, ev) -> None:
        menu = QMenu(self)
        self.extra_menu_actions(menu)
        if not menu.isEmpty():
            menu.addSeparator()
        for text, fmt in (("Export as PNG…", "png"), ("Export as SVG…", "svg"),
                          ("Export data as CSV…", "csv")):
            act = QAction(text, menu)
            act.triggered.connect(lambda _=False, f=fmt: self.export_dialog(f))
            menu.addAction(act)
        menu.addSeparator()
        act = QAction("Reset zoom", menu)
        act.triggered.connect(self.autorange)
        menu.addAction(act)
        pos = ev.screenPos().toPoint()
        self.last_menu = menu
        menu.popup(pos)
        ev.accept()

    def autorange(self) -> None:
        for p in self.plots:
            p.enableAutoRange()

    def export_dialog(self, fmt: str) -> None:
        filters = {"png": "PNG image (*.png)", "svg": "SVG image (*.svg)",
                   "csv": "CSV data (*.csv)"}
        name = f"{self.object_name}.{fmt}"
        path, _ = QFileDialog.getSaveFileName(self, f"Export {self.title}", name, filters[fmt])
        if not path:
            return
        if not path.lower().endswith("." + fmt):
            path += "." + fmt
        try:
            self.export(path)
        except (OSError, ValueError) as e:
            self.document.statusMessage.emit(f"Could not export {self.title}: {e}", 8000)
            return
        self.document.statusMessage.emit(f"Exported {self.title} to {path}", 5000)

    def export(self, path: str | Path) -> Path:
        """Write the pane as PNG or SVG (by suffix) or its data as CSV."""
        path = Path(path)
        suffix = path.suffix.lower()
        self.refresh_now()
        if suffix == ".csv":
            header, rows = self.csv_table()
            with open(path, "w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                w.writerow(header)
                for r in rows:
                    w.writerow([_fmt(v) for v in r])
        elif suffix == ".png":
            from pyqtgraph import exporters
            exp = exporters.ImageExporter(self.layout_widget.ci)
            exp.parameters()["width"] = max(800, 2 * int(self.layout_widget.width()))
            exp.export(str(path))
        elif suffix == ".svg":
            # vector output through Qt's SVG generator (pyqtgraph's SVG exporter cannot parse
            # the paths Qt 6 writes)
            from PySide6.QtCore import QRect, QRectF
            from PySide6.QtGui import QPainter
            from PySide6.QtSvg import QSvgGenerator
            ci = self.layout_widget.ci
            src = ci.sceneBoundingRect()
            w, h = max(1, int(src.width())), max(1, int(src.height()))
            gen = QSvgGenerator()
            gen.setFileName(str(path))
            gen.setSize(pg.QtCore.QSize(w, h))
            gen.setViewBox(QRect(0, 0, w, h))
            gen.setTitle(f"NN Studio — {self.title}")
            painter = QPainter()
            if not painter.begin(gen):
                raise OSError(f"cannot write {path}")
            try:
                painter.fillRect(QRectF(0, 0, w, h), QColor(style.PANEL_HEX))
                self.layout_widget.scene().render(painter, QRectF(0, 0, w, h), src)
            finally:
                painter.end()
            if not path.exists():
                raise OSError(f"cannot write {path}")
        else:
            raise ValueError(f"unknown export format {path.suffix!r}: use .png, .svg or .csv")
        self.exported.emit(str(path))
        return path


def _fmt(v) -> str:
    if isinstance(v, str):
        return v
    if v is None:
        return ""
    v = float(v)
    if np.isnan(v):
        return ""
    return repr(v)


def columns_to_rows(cols: list[np.ndarray]) -> list[list[float]]:
    """Equal-or-unequal length columns to CSV rows (short columns padded with blanks)."""
    n = max((len(c) for c in cols), default=0)
    rows = []
    for i in range(n):
        rows.append([c[i] if i < len(c) else None for c in cols])
    return rows


def connect_lazy(signal: SignalInstance, fn: Callable) -> None:
    signal.connect(lambda *a: fn())
