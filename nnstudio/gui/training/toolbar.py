"""The training toolbar's widgets: the settings bar (target epochs, learning rate, optimizer,
batch size, loss, minimum step) and the status-bar progress (epoch, loss, epochs per second).

Rules: the settings bar edits only through the document (each change one undo step) and
follows it with signals blocked while it sets its widgets; the status only reads the controller.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSizePolicy,
    QSpinBox,
    QWidget,
)

from nnstudio.core import losses, optimizers
from nnstudio.gui import style
from nnstudio.gui.widgets import FloatEdit

from .controller import TrainingController

if TYPE_CHECKING:
    from nnstudio.gui.document import Document


class TrainingSettingsBar(QWidget):
    """Target epochs, learning rate, optimizer, batch size, loss and the minimum step (stop
    once the steps become tiny; 0 = off): each edit is an undoable
    document settings change; the widgets follow the document (signals blocked while set)."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 4, 0)
        lay.setSpacing(4)

        def add(text: str, widget: QWidget) -> None:
            """``widget`` after a label that shares its tooltip."""
            lb = QLabel(text)
            lb.setToolTip(widget.toolTip())
            lay.addWidget(lb)
            lay.addWidget(widget)

        def choice(table: dict, tip: str, item_tip: str) -> QComboBox:
            """A box of the table's entries: each shows its title, its ``item_tip`` attribute
            as tooltip, and holds its name."""
            box = QComboBox()
            for name, entry in table.items():
                box.addItem(entry.title, name)
                box.setItemData(box.count() - 1, getattr(entry, item_tip), Qt.ToolTipRole)
            box.setToolTip(tip)
            return box

        self.epochs = QSpinBox()
        self.epochs.setRange(1, 100_000_000)
        self.epochs.setToolTip("Target epochs: Play trains until this many epochs are done "
                               "(then, pressed again, this many more)")
        self.epochs.setKeyboardTracking(False)
        add("Epochs", self.epochs)

        self.lr = FloatEdit(lo=0.0, lo_open=True, hi=1000.0, what="learning rate",
                            tip="Learning rate: how big a step the optimizer takes against the "
                                "gradient. Too large and the loss explodes.")
        self.lr.setFixedWidth(84)
        self.lr.setObjectName("learningRate")
        add("Learning rate", self.lr)

        self.optimizer = choice(optimizers.INFO, "Optimizer: how the gradient turns into a "
                                "parameter update", "note")
        add("Optimizer", self.optimizer)

        self.batch = QSpinBox()
        self.batch.setRange(0, 10_000_000)
        self.batch.setSpecialValueText("full")
        self.batch.setKeyboardTracking(False)
        self.batch.setToolTip("Batch size: rows per optimizer step (full = the whole dataset)")
        add("Batch", self.batch)

        self.loss = choice(losses.LOSSES, "Loss: how the error between outputs and targets is "
                           "measured", "formula")
        add("Loss", self.loss)

        self.min_step = FloatEdit(lo=0.0, hi=1000.0, what="minimum step",
                                  tip="Minimum step: training stops by itself once an update "
                                      "changes no weight or bias by this much (0 = off, train "
                                      "to the target epochs)")
        self.min_step.setFixedWidth(64)
        self.min_step.setObjectName("minStep")
        add("Min step", self.min_step)

        self.epochs.valueChanged.connect(lambda v: self._set(epochs=int(v)))
        self.lr.valueCommitted.connect(lambda v: self._set(learning_rate=float(v)))
        self.batch.valueChanged.connect(lambda v: self._set(batch_size=int(v)))
        self.optimizer.currentIndexChanged.connect(
            lambda i: self._set(optimizer=self.optimizer.itemData(i)))
        self.loss.currentIndexChanged.connect(lambda i: self._set(loss=self.loss.itemData(i)))
        self.min_step.valueCommitted.connect(lambda v: self._set(min_step=float(v)))
        self.epochs.setMaximumWidth(110)
        self.batch.setMaximumWidth(80)
        self.setSizePolicy(QSizePolicy.Maximum, QSizePolicy.Fixed)
        document.settingsChanged.connect(self.refresh)
        document.projectReplaced.connect(self.refresh)
        self.refresh()

    def _set(self, **changes) -> None:
        try:
            self.document.set_settings(**changes)
        except ValueError as e:
            self.document.statusMessage.emit(f"Setting refused: {e}", 8000)
            self.refresh()

    def refresh(self) -> None:
        s = self.document.settings
        widgets = (self.epochs, self.lr, self.batch, self.optimizer, self.loss, self.min_step)
        for w in widgets:
            w.blockSignals(True)
        try:
            self.epochs.setValue(int(s.epochs))
            self.lr.set_value(float(s.learning_rate))
            self.batch.setValue(int(s.batch_size))
            self.optimizer.setCurrentIndex(max(0, self.optimizer.findData(s.optimizer)))
            self.loss.setCurrentIndex(max(0, self.loss.findData(s.loss)))
            self.min_step.set_value(float(s.min_step))
        finally:
            for w in widgets:
                w.blockSignals(False)


class TrainingStatus(QWidget):
    """Status bar: a progress bar with the epoch, the loss and epochs per second."""

    def __init__(self, controller: TrainingController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 4, 0)
        lay.setSpacing(8)
        self.bar = QProgressBar()
        self.bar.setObjectName("trainingProgress")
        self.bar.setFixedWidth(180)
        self.bar.setMaximumHeight(16)
        self.bar.setTextVisible(True)
        self.bar.setAlignment(Qt.AlignCenter)
        self.bar.setStyleSheet(
            "QProgressBar { border: 1px solid #B8BEC8; border-radius: 3px; background: #F4F5F7;"
            f" color: {style.TEXT_HEX}; font-size: 8pt; }}"
            "QProgressBar::chunk { background: #A9CDE8; border-radius: 2px; }")
        self.bar.setToolTip("Epochs trained towards the target")
        self.text = QLabel("")
        self.text.setObjectName("trainingStatus")
        self.text.setMinimumWidth(260)
        lay.addWidget(self.bar)
        lay.addWidget(self.text)
        self._last = 0.0
        controller.progressChanged.connect(self.refresh)
        controller.document.evaluationChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        c = self.controller
        epoch = c.epoch
        target = c.run_target if c.is_running() else None
        if target is None:
            target = max(c.target_epochs, math.ceil(epoch))
        target = max(1, int(math.ceil(target)))
        self.bar.setRange(0, target)
        self.bar.setValue(int(min(target, epoch)))
        self.bar.setFormat(f"Epoch {epoch:g} / {target}")
        h = c.history
        if h.n:
            loss = float(h.loss[-1])
        else:
            loss = c.document.loss()
        parts = []
        parts.append("loss " + ("—" if loss is None else f"{loss:.5g}"))
        if h.n and h.has_validation():
            parts.append(f"val {float(h.val_loss[-1]):.5g}")
        if c.is_running():
            parts.append(f"{c.rate:,.0f} epochs/s")
        elif c.last_message.startswith("Training paused:"):
            parts.append("diverged")
        self.text.setText("   ".join(parts))
