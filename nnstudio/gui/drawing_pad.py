"""The drawing pads: paint the chosen sample's image, or draw one to try the network on.

- :class:`PixelGrid` is a grid of cells on the canvas's diverging colours; the left button
  paints ink (1), the right button erases (0), along the pointer's path. It keeps the pixels
  of the stroke being painted and says when the stroke ends; it edits nothing itself.
- :class:`DrawingPanel` holds two of them for the network's first image input:
  *Sample* shows the chosen sample's pixels; a stroke there is one undoable change of the
  dataset (``dataset_panel.set_pixels``), the canvas and plots following it. *Try it* is a
  drawing of its own (empty, or a copy of the sample): after each change it shows the network's
  prediction for it (``Engine.predict`` on one row: the sample's row with the drawing in the
  image's columns) and never changes the dataset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QProgressBar,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from nnstudio.core.network import ImageInput, NetworkEvent
from nnstudio.gui import style
from nnstudio.gui.actions import make_button
from nnstudio.gui.canvas.image_items import heat_images, image_columns
from nnstudio.gui.dataset_panel import set_pixels

if TYPE_CHECKING:  # pragma: no cover
    from nnstudio.gui.document import Document

INK = 1.0
PAD_SIDE = 64           # the grid's side in pixels (at least)


class PixelGrid(QWidget):
    """One image channel as a grid of square cells to paint on. ``edited`` after every cell
    a stroke changes; ``strokeFinished`` when the button is released."""

    edited = Signal()
    strokeFinished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pixels = np.zeros((6, 6))
        self.painting = False
        self._value = INK
        self._last: tuple[int, int] | None = None
        self._image = heat_images(self.pixels)[0]
        self.setMinimumSize(QSize(PAD_SIDE, PAD_SIDE))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Left button: paint · right button: erase")

    def set_pixels(self, pixels: np.ndarray | None) -> None:
        """Show ``pixels`` (height, width); None: an empty 6 × 6 grid. Ignored while a
        stroke is being painted (the stroke's own pixels stay)."""
        if self.painting:
            return
        self.pixels = np.zeros((6, 6)) if pixels is None else np.array(pixels, dtype=float)
        self._redraw()

    def _redraw(self) -> None:
        self._image = heat_images(self.pixels)[0]
        self.update()

    def grid_rect(self) -> QRectF:
        """Where the cells are: the largest rectangle of square cells that fits, centred."""
        h, w = self.pixels.shape
        cell = max(1.0, min(self.width() / w, self.height() / h))
        return QRectF((self.width() - w * cell) / 2, (self.height() - h * cell) / 2, w * cell,
                      h * cell)

    def cell_at(self, p: QPointF) -> tuple[int, int] | None:
        rect = self.grid_rect()
        if not rect.contains(p):
            return None
        h, w = self.pixels.shape
        r = min(h - 1, int((p.y() - rect.top()) / rect.height() * h))
        c = min(w - 1, int((p.x() - rect.left()) / rect.width() * w))
        return r, c

    # ------------------------------------------------------------------ painting strokes
    def mousePressEvent(self, event: QMouseEvent) -> None:
        button = event.button()
        if button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return
        self.painting = True
        self._value = INK if button == Qt.MouseButton.LeftButton else 0.0
        self._last = None
        self._paint_to(event.position())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self.painting:
            self._paint_to(event.position())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.painting:
            self.painting = False
            self._last = None
            self.strokeFinished.emit()

    def _paint_to(self, p: QPointF) -> None:
        """Paint every cell on the way from the last painted cell to the one under ``p``."""
        cell = self.cell_at(p)
        if cell is None:
            self._last = None
            return
        start = self._last or cell
        n = max(abs(cell[0] - start[0]), abs(cell[1] - start[1]), 1)
        rows = np.rint(np.linspace(start[0], cell[0], n + 1)).astype(int)
        cols = np.rint(np.linspace(start[1], cell[1], n + 1)).astype(int)
        self._last = cell
        if np.all(self.pixels[rows, cols] == self._value):
            return
        self.pixels[rows, cols] = self._value
        self._redraw()
        self.edited.emit()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        rect = self.grid_rect()
        p.drawImage(rect, self._image)
        h, w = self.pixels.shape
        if rect.width() / w >= 6:
            p.setPen(QPen(style.GRID_MAJOR, 0))
            for r in range(1, h):
                y = rect.top() + r * rect.height() / h
                p.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            for c in range(1, w):
                x = rect.left() + c * rect.width() / w
                p.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
        p.setPen(QPen(style.NEURON_BORDER, 1))
        p.drawRect(rect)
        p.end()


class DrawingPanel(QWidget):
    """``DrawingPanel(document)``: the Sample pad (edits the dataset, one undo step per stroke)
    and the Try it pad (a drawing of its own, with the prediction live)."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = document
        self.setObjectName("drawing")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {style.MUTED_TEXT_HEX};")
        lay.addWidget(self.note)
        # two columns (the sample's pad, the Try it pad and its prediction), each as narrow
        # as a plot pane allows: the titles wrap, the buttons stack
        pads = QGridLayout()
        pads.setHorizontalSpacing(8)
        lay.addLayout(pads, 1)
        self.sample_title = QLabel(self)
        self.sample_title.setWordWrap(True)
        pads.addWidget(self.sample_title, 0, 0)
        self.sample_pad = PixelGrid(self)
        self.sample_pad.setObjectName("drawing_sample")
        self.sample_pad.setToolTip("The chosen sample's image: left button paints, right "
                                   "button erases; each stroke is one undo step")
        self.sample_pad.strokeFinished.connect(self._stroke_on_sample)
        pads.addWidget(self.sample_pad, 1, 0)
        try_title = QLabel("<b>Try it</b>: the prediction, live", self)
        try_title.setWordWrap(True)
        try_title.setToolTip("Draw here to see what the network predicts; the dataset does not "
                             "change")
        pads.addWidget(try_title, 0, 1)
        self.try_pad = PixelGrid(self)
        self.try_pad.setObjectName("drawing_try")
        self.try_pad.setToolTip("Draw anything: the network's prediction for it shows below, "
                                "live; the dataset does not change")
        self.try_pad.edited.connect(self.predict_soon)
        pads.addWidget(self.try_pad, 1, 1)
        pads.setRowStretch(1, 1)
        buttons = QVBoxLayout()
        buttons.setSpacing(2)
        buttons.addWidget(make_button("Clear", "Empty the Try it pad", self.clear_try))
        buttons.addWidget(make_button("Copy sample", "Start the Try it pad from the chosen "
                                      "sample's image", self.copy_sample))
        pads.addLayout(buttons, 2, 0)
        self.bars_box = QWidget(self)
        self.bars = QGridLayout(self.bars_box)
        self.bars.setContentsMargins(0, 0, 0, 0)
        self.bars.setVerticalSpacing(2)
        self.verdict = QLabel(self)
        self.verdict.setObjectName("drawing_verdict")
        self.verdict.setWordWrap(True)
        prediction = QVBoxLayout()
        prediction.setSpacing(2)
        prediction.addWidget(self.bars_box)
        prediction.addWidget(self.verdict)
        pads.addLayout(prediction, 2, 1)
        self.bar_widgets: list[tuple[QLabel, QProgressBar, QLabel]] = []
        self.prediction: np.ndarray | None = None
        self._predict_pending = False
        self._shape_key: tuple | None = None
        d = document
        d.sampleChanged.connect(lambda _: self.refresh())
        d.datasetChanged.connect(self.refresh)
        d.projectReplaced.connect(self.refresh)
        d.networkChanged.connect(self._on_network)
        self.refresh()

    # ------------------------------------------------------------------ what is drawn on
    def image_input(self) -> tuple[ImageInput, slice] | None:
        """The network's first image input and its columns in a data row."""
        net = self.doc.network
        for lid, cols in image_columns(net).items():
            layer = net.image_layers[lid]
            assert isinstance(layer, ImageInput)
            return layer, cols
        return None

    def _sample_row(self) -> np.ndarray | None:
        ds = self.doc.dataset
        if ds is None or not len(ds):
            return None
        s = min(max(self.doc.sample_index, 0), len(ds) - 1)
        return np.asarray(ds.X[s], dtype=float)

    def sample_pixels(self) -> np.ndarray | None:
        """The chosen sample's pixels of the first channel (height, width), or None."""
        found = self.image_input()
        row = self._sample_row()
        if found is None or row is None or len(row) < found[1].stop:
            return None
        layer, cols = found
        return row[cols].reshape(layer.shape)[0]

    def _on_network(self, event: NetworkEvent, ids: tuple) -> None:
        if event is NetworkEvent.PARAMS_CHANGED:
            self.predict_soon()
        elif event in (NetworkEvent.LAYER_ADDED, NetworkEvent.LAYER_REMOVED,
                       NetworkEvent.LAYER_CHANGED, NetworkEvent.NEURON_ADDED,
                       NetworkEvent.NEURON_REMOVED, NetworkEvent.ROLE_CHANGED,
                       NetworkEvent.NEURON_RENAMED):
            self.refresh()

    def refresh(self) -> None:
        found = self.image_input()
        pixels = self.sample_pixels()
        if found is None:
            self.note.setText("Add an Image input (palette) to draw its pixels here.")
        elif pixels is None:
            self.note.setText("The dataset has no image columns for "
                              f"{found[0].title}; generate or import images first.")
        else:
            layer = found[0]
            extra = f" (channel 0 of {layer.shape[0]})" if layer.shape[0] > 1 else ""
            self.note.setText(f"Paint the sample's pixels{extra} with the left button, erase "
                              f"with the right; each stroke is one undo step.")
        self.sample_title.setText(f"<b>Sample {self.doc.sample_index}</b>"
                                  + (f" — {found[0].label}" if found is not None else ""))
        self.sample_pad.set_pixels(pixels)
        key = None if found is None else found[0].shape
        if key != self._shape_key:
            self._shape_key = key
            self.try_pad.set_pixels(None if pixels is None else np.zeros_like(pixels))
        self._rebuild_bars()
        self.predict_soon()

    # ------------------------------------------------------------------ edits
    def _stroke_on_sample(self) -> None:
        found = self.image_input()
        row = self._sample_row()
        if found is None or row is None:
            return
        layer, cols = found
        c, h, w = layer.shape
        image = row[cols].reshape(c, h, w).copy()
        image[0] = self.sample_pad.pixels
        s = self.doc.sample_index
        try:
            set_pixels(self.doc, s, cols.start, image.ravel(),
                       text=f"Draw on sample {s} ({layer.label})")
        except ValueError as e:
            self.doc.message(f"Not applied: {e}", 6000)
            self.refresh()

    def clear_try(self) -> None:
        self.try_pad.set_pixels(np.zeros_like(self.try_pad.pixels))
        self.predict_soon()

    def copy_sample(self) -> None:
        pixels = self.sample_pixels()
        if pixels is not None:
            self.try_pad.set_pixels(pixels)
            self.predict_soon()

    # ------------------------------------------------------------------ prediction
    def predict_soon(self) -> None:
        if not self._predict_pending:
            self._predict_pending = True
            QTimer.singleShot(0, self, self.predict)

    def _rebuild_bars(self) -> None:
        outs = self.doc.network.outputs
        if len(outs) == len(self.bar_widgets) and all(
                lab.text() == n.label for n, (lab, _, _) in zip(outs, self.bar_widgets,
                                                               strict=True)):
            return
        for widgets in self.bar_widgets:
            for wdg in widgets:
                self.bars.removeWidget(wdg)
                wdg.deleteLater()
        self.bar_widgets = []
        for k, n in enumerate(outs):
            lab = QLabel(n.label, self.bars_box)
            bar = QProgressBar(self.bars_box)
            bar.setMinimumWidth(24)
            bar.setRange(0, 1000)
            bar.setTextVisible(False)
            bar.setMaximumHeight(12)
            val = QLabel("—", self.bars_box)
            val.setFont(style.mono_font(8.5))
            self.bars.addWidget(lab, k, 0)
            self.bars.addWidget(bar, k, 1)
            self.bars.addWidget(val, k, 2)
            self.bar_widgets.append((lab, bar, val))

    def predict(self) -> np.ndarray | None:
        """The network's outputs for the Try it drawing (one row: the chosen sample's with the
        drawing in the first image's first channel); shown as bars. None if it cannot run."""
        self._predict_pending = False
        found = self.image_input()
        row = self._sample_row()
        self.prediction = None
        if found is None or row is None or len(row) < found[1].stop:
            self._show_prediction(None, "")
            return None
        layer, cols = found
        x = row.copy()
        image = x[cols].reshape(layer.shape)
        image[0] = self.try_pad.pixels
        x[cols] = image.ravel()
        try:
            out = self.doc.engine().predict(x[None, :])[0]
        except (ValueError, FloatingPointError) as e:
            self._show_prediction(None, f"No prediction: {e}")
            return None
        self.prediction = out
        self._show_prediction(out, "")
        return out

    def _show_prediction(self, out: np.ndarray | None, message: str) -> None:
        outs = self.doc.network.outputs
        for k, (_, bar, val) in enumerate(self.bar_widgets):
            v = None if out is None or k >= len(out) else float(out[k])
            bar.setValue(0 if v is None else int(round(max(0.0, min(1.0, v)) * 1000)))
            val.setText("—" if v is None else f"{v:.3f}")
        if out is None:
            self.verdict.setText(message)
        elif len(out) > 1:
            best = int(np.argmax(out))
            self.verdict.setText(f"The network says: <b>{outs[best].label}</b>")
        else:
            self.verdict.setText(f"Output: <b>{float(out[0]):.3f}</b>")
