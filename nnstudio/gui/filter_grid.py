"""The filter grid editor: one convolution filter as a grid of weights, edited in place.

:class:`FilterGridEditor` shows the chosen filter of a convolution (and, for filters more than
one channel deep, the chosen channel) as a k × k grid of :class:`FilterCell` fields, its bias,
and a lock for the whole filter. Every cell is typed (Enter or leaving it commits; invalid text
is refused in place with the reason, nothing applied) or dragged up and down with the mouse
(one drag is one undo step). Each cell's colour is its weight on the canvas's diverging map, and
its tooltip gives dL/dw over the whole dataset.

Like every panel it edits only through the document: a cell is the parameter
``"<layer>[<f>].w[<c>,<i>,<j>]"`` (``Document.set_param``), the lock ``Document.set_trainable``
on the filter's bias (the model locks a filter as a whole). It follows the model: values are set
with signals blocked, so showing a value never writes it back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QMouseEvent, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from nnstudio.core.network import Convolution, filter_pid
from nnstudio.gui import style
from nnstudio.gui.widgets import ChoiceBox, FloatEdit, format_number, new_merge_key

if TYPE_CHECKING:  # pragma: no cover
    from nnstudio.gui.document import Document

WEIGHT_LIMIT = 1e6      # as the inspector's typed weights
DRAG_STEP = 0.01        # value per pixel of a drag (Shift: a tenth of it)


class FilterCell(FloatEdit):
    """One filter weight: a :class:`FloatEdit` that can also be dragged up (larger) or down
    (smaller): ``dragged(value, merge_key)``, one key per drag."""

    dragged = Signal(float, object)

    def __init__(self, parent: QWidget | None = None, what: str = "weight") -> None:
        super().__init__(parent, lo=-WEIGHT_LIMIT, hi=WEIGHT_LIMIT, what=what)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setFixedWidth(58)
        self._press: QPoint | None = None
        self._start = 0.0
        self._key: tuple | None = None

    def set_value(self, v: object) -> None:
        super().set_value(v)
        pal = self.palette()
        if isinstance(v, float):
            fill = style.diverging_color(v)
            pal.setColor(QPalette.ColorRole.Base, fill)
            pal.setColor(QPalette.ColorRole.Text, style.text_color_on(fill))
        else:
            pal.setColor(QPalette.ColorRole.Base, style.PANEL)
            pal.setColor(QPalette.ColorRole.Text, style.TEXT)
        self.setPalette(pal)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()
            self._start = self.value() or 0.0
            self._key = None
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None or not (event.buttons() & Qt.MouseButton.LeftButton):
            super().mouseMoveEvent(event)
            return
        dy = self._press.y() - event.position().toPoint().y()
        if self._key is None and abs(dy) < QApplication.startDragDistance():
            super().mouseMoveEvent(event)
            return
        if self._key is None:
            self._key = new_merge_key()
            self.setCursor(Qt.CursorShape.SizeVerCursor)
        fine = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        value = round(self._start + dy * DRAG_STEP * (0.1 if fine else 1.0), 6)
        value = max(-WEIGHT_LIMIT, min(WEIGHT_LIMIT, value))
        self.dragged.emit(value, self._key)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._key is not None:
            self.unsetCursor()
            self.clearFocus()
        self._press, self._key = None, None
        super().mouseReleaseEvent(event)


class FilterGridEditor(QWidget):
    """The filters of one convolution (``show_layer``), edited through ``document``;
    ``apply(fn)`` runs an edit and reports a refusal (the inspector's), ``refused(cell,
    reason)`` is told about text that is not a valid number."""

    def __init__(self, document: Document, apply: Callable[[Callable[[], Any]], bool],
                 parent: QWidget | None = None,
                 refused: Callable[[FloatEdit, str], None] | None = None) -> None:
        super().__init__(parent)
        self.doc = document
        self.apply = apply
        self._refused = refused
        self.lid: str | None = None
        self.filter = 0
        self.channel = 0
        self._shape: tuple[int, int, int] = (0, 0, 0)   # (filters, channels, kernel)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        row = QHBoxLayout()
        row.setSpacing(8)
        self.filter_box = ChoiceBox(self, tip="The filter shown in the grid")
        self.filter_box.setObjectName("filter_choice")
        self.filter_box.chosen.connect(self.choose_filter)
        self.channel_box = ChoiceBox(self, tip="The channel of the filter shown in the grid "
                                               "(one k × k grid per input map)")
        self.channel_box.setObjectName("filter_channel")
        self.channel_box.chosen.connect(self.choose_channel)
        self.lock = QCheckBox("locked", self)
        self.lock.setObjectName("filter_lock")
        self.lock.setToolTip("A locked filter (its weights and its bias) keeps its values "
                             "while training")
        self.lock.clicked.connect(self._set_locked)
        row.addWidget(self.filter_box)
        row.addWidget(self.channel_box)
        row.addWidget(self.lock)
        row.addStretch(1)
        lay.addLayout(row)
        self.grid = QGridLayout()
        self.grid.setSpacing(2)
        lay.addLayout(self.grid)
        bias_row = QHBoxLayout()
        head = QLabel("bias b", self)
        head.setToolTip("Added to every dot product of this filter: map = Σ input × weight + b")
        self.bias = FilterCell(self, what="bias")
        self.bias.setObjectName("filter_bias")
        self.bias.valueCommitted.connect(lambda v: self._edit(self._bias_pid(), v, False))
        self.bias.dragged.connect(lambda v, k: self._edit(self._bias_pid(), v, k))
        self._wire_refusal(self.bias)
        bias_row.addWidget(head)
        bias_row.addWidget(self.bias)
        bias_row.addStretch(1)
        lay.addLayout(bias_row)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {style.MUTED_TEXT_HEX};")
        self.note.setText("Type a weight, or drag a cell up or down (Shift: finer); each "
                          "edit is one undo step.")
        lay.addWidget(self.note)
        self.cells: list[list[FilterCell]] = []

    # ------------------------------------------------------------------ which filter
    def show_layer(self, lid: str) -> None:
        if lid != self.lid:
            self.lid, self.filter, self.channel = lid, 0, 0
        self.refresh()

    def _conv(self) -> Convolution | None:
        layer = self.doc.network.image_layers.get(self.lid or "")
        return layer if isinstance(layer, Convolution) else None

    def choose_filter(self, f: object) -> None:
        """Show filter ``f`` in the grid."""
        self.filter = int(str(f))
        self.refresh()

    def choose_channel(self, c: object) -> None:
        """Show channel ``c`` of the filter in the grid."""
        self.channel = int(str(c))
        self.refresh()

    def pid(self, i: int, j: int) -> str:
        """The parameter id of cell (i, j) of the shown filter and channel."""
        return filter_pid(self.lid or "", self.filter, self.channel, i, j)

    def _bias_pid(self) -> str:
        return filter_pid(self.lid or "", self.filter)

    # ------------------------------------------------------------------ edits
    def _edit(self, pid: str, value: float, merge: object) -> None:
        self.apply(lambda: self.doc.set_param(pid, value, merge=merge))

    def _set_locked(self, locked: bool) -> None:
        self.apply(lambda: self.doc.set_trainable([self._bias_pid()], not locked))

    # ------------------------------------------------------------------ following the model
    def _wire_refusal(self, cell: FilterCell) -> None:
        if self._refused is not None:
            refused = self._refused
            cell.refused.connect(lambda msg, cell=cell: refused(cell, msg))

    def _build(self, k: int) -> None:
        for row in self.cells:
            for cell in row:
                self.grid.removeWidget(cell)
                cell.deleteLater()
        self.cells = []
        for i in range(k):
            row = []
            for j in range(k):
                cell = FilterCell(self)
                cell.setObjectName(f"filter_cell_{i}_{j}")
                cell.valueCommitted.connect(lambda v, i=i, j=j: self._edit(self.pid(i, j), v,
                                                                           False))
                cell.dragged.connect(lambda v, key, i=i, j=j: self._edit(self.pid(i, j), v,
                                                                          key))
                self._wire_refusal(cell)
                self.grid.addWidget(cell, i, j)
                row.append(cell)
            self.cells.append(row)

    def refresh(self) -> None:
        conv = self._conv()
        if conv is None:
            return
        net = self.doc.network
        shape = (conv.filters, conv.channels, conv.kernel)
        if shape != self._shape:
            self._shape = shape
            self.filter = min(self.filter, conv.filters - 1)
            self.channel = min(self.channel, conv.channels - 1)
            self.filter_box.set_choices([(f, f"filter {f}") for f in range(conv.filters)])
            self.channel_box.set_choices([(c, f"channel {c}") for c in range(conv.channels)])
            self._build(conv.kernel)
        self.channel_box.setVisible(conv.channels > 1)
        self.filter_box.set_value(self.filter)
        self.channel_box.set_value(self.channel)
        weights, biases = net.filter_values(conv.id)
        k = conv.kernel
        pids = [self.pid(i, j) for i in range(k) for j in range(k)] + [self._bias_pid()]
        grads = self.doc.param_gradients(pids)
        for i in range(k):
            for j in range(k):
                cell = self.cells[i][j]
                cell.set_value(float(weights[self.filter, self.channel, i, j]))
                g = None if grads is None else grads[i * k + j]
                cell.setToolTip(
                    f"weight [{self.channel}][{i}][{j}] of filter {self.filter}"
                    + ("" if g is None or g != g else
                       f"<br>dL/dw = {format_number(float(g))} (whole dataset)")
                    + "<br>Type a number, or drag up or down (Shift: finer)")
        self.bias.set_value(float(biases[self.filter]))
        gb = None if grads is None else grads[-1]
        self.bias.setToolTip(f"bias of filter {self.filter}" + (
            "" if gb is None or gb != gb else f"<br>dL/db = {format_number(float(gb))}"))
        with QSignalBlocker(self.lock):
            self.lock.setChecked(not bool(net.filter_trainable(conv.id)[self.filter]))
