"""The training toolbar's widgets: the settings bar (target epochs, learning rate, optimizer,
batch size, loss, regularization and its rate) and the status-bar progress (epoch, loss,
epochs per second). The bar fits a 1024-pixel window; the rarer settings (seed,
initialisation, validation split, minimum step) are in the inspector's training settings.

Rules: the settings bar edits only through the document (each change one undo step) and
follows it with signals blocked while it sets its widgets; the status only reads the controller.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSizePolicy,
    QSpinBox,
    QWidget,
)

from nnstudio.core import losses, optimizers, regularization
from nnstudio.core.trace.formatting import LOSS_LABELS, nice
from nnstudio.gui import style
from nnstudio.gui.widgets import ALL_ROWS, CompactCombo, FloatEdit

from .controller import TrainingController

if TYPE_CHECKING:
    from nnstudio.gui.document import Document

DEFAULT_RATE = 0.001   # the rate a penalty starts with when chosen at rate 0 (as Playground)



class TrainingSettingsBar(QWidget):
    """Target epochs, learning rate, optimizer, batch size, loss and regularization: each edit
    is an undoable document settings change (consecutive changes of one spin box merge into
    one step); the widgets follow the document (signals blocked while set). The choices show
    short names (Adam, MSE, L2) so that the bar fits a 1024-pixel window; their lists and
    tooltips give the full titles."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 4, 0)
        lay.setSpacing(4)
        #: label + control pairs, in order: a toolbar takes them one by one (so that in a
        #: window narrower than the bar the last ones move to its overflow menu)
        self.chunks: list[QWidget] = []

        def add(text: str, widget: QWidget, gap: bool = True) -> QLabel:
            """``widget`` after a label that shares its tooltip, as one chunk."""
            chunk = QWidget(self)
            # (fixed: a chunk never takes the toolbar's spare width, which would push its
            # control away from its label)
            chunk.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            row = QHBoxLayout(chunk)
            row.setContentsMargins(6 if gap and self.chunks else 0, 0, 0, 0)
            row.setSpacing(4)
            lb = QLabel(text)
            lb.setToolTip(widget.toolTip())
            lb.setBuddy(widget)
            row.addWidget(lb)
            row.addWidget(widget)
            lay.addWidget(chunk)
            self.chunks.append(chunk)
            return lb

        def choice(entries: list[tuple[str, str, str, str]], tip: str) -> CompactCombo:
            """A box of (value, short name, title, tooltip) entries."""
            box = CompactCombo()
            for value, short, title, item_tip in entries:
                box.add_choice(value, short, title, item_tip)
            box.setToolTip(tip)
            return box

        self.epochs = QSpinBox()
        self.epochs.setRange(1, 100_000_000)
        self.epochs.setToolTip("Target epochs: Train runs until this many epochs are done "
                               "(then, pressed again, this many more)")
        self.epochs.setKeyboardTracking(False)
        self.epochs.setAccelerated(True)
        add("Epochs", self.epochs)

        self.lr = FloatEdit(lo=0.0, lo_open=True, hi=1000.0, what="learning rate",
                            tip="Learning rate: how big a step the optimizer takes against the "
                                "gradient. Too large and the loss explodes.")
        self.lr.setFixedWidth(64)
        self.lr.setObjectName("learningRate")
        add("Learning rate", self.lr)

        self.optimizer = choice(
            [(name, i.label, i.title, i.note) for name, i in optimizers.INFO.items()],
            "Optimizer: how the gradient turns into a parameter update")
        add("Optimizer", self.optimizer)

        self.batch = QSpinBox()
        self.batch.setRange(0, 10_000_000)
        self.batch.setSpecialValueText(ALL_ROWS)
        self.batch.setKeyboardTracking(False)
        self.batch.setToolTip(f"Batch size: rows per optimizer step ({ALL_ROWS} = the whole "
                              "dataset in every step)")
        add("Batch", self.batch)

        self.loss = choice([(name, LOSS_LABELS[name], lf.title, nice(lf.formula))
                            for name, lf in losses.LOSSES.items()],
                           "Loss: how the error between outputs and targets is measured")
        add("Loss", self.loss)

        self.regularization = choice(
            [(name, k.title, k.title if name == "none" else f"{k.title}: {nice(k.formula)}",
              k.note) for name, k in regularization.KINDS.items()],
            "Regularization: a penalty on the size of the weights, added to the loss "
            "(biases are not penalised)")
        self.regularization.setObjectName("regularization")
        add("Regularization", self.regularization)
        self.rate = FloatEdit(lo=0.0, hi=regularization.MAX_RATE, what="regularization rate",
                              tip="Regularization rate \u03bb: how much the penalty counts "
                                  "against the loss (L1: \u03bb \u00d7 \u03a3 |w|, "
                                  "L2: \u03bb \u00d7 \u03a3 w\u00b2)")
        self.rate.setFixedWidth(56)
        self.rate.setObjectName("regularizationRate")
        add("\u03bb", self.rate, gap=False)

        self.epochs.valueChanged.connect(
            lambda v: self._set(_merge=("spin", "epochs"), epochs=int(v)))
        self.lr.valueCommitted.connect(lambda v: self._set(learning_rate=float(v)))
        self.batch.valueChanged.connect(
            lambda v: self._set(_merge=("spin", "batch_size"), batch_size=int(v)))
        self.optimizer.currentIndexChanged.connect(
            lambda i: self._set(optimizer=self.optimizer.itemData(i)))
        self.loss.currentIndexChanged.connect(lambda i: self._set(loss=self.loss.itemData(i)))
        self.regularization.currentIndexChanged.connect(
            lambda i: self._set_regularization(self.regularization.itemData(i)))
        self.rate.valueCommitted.connect(lambda v: self._set(regularization_rate=float(v)))
        self.epochs.setMaximumWidth(84)
        self.batch.setMaximumWidth(72)
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

    def _set_regularization(self, kind: str) -> None:
        """Choosing L1 or L2 while the rate is 0 also sets a small rate, in the same undo step
        (a penalty of rate 0 would change nothing)."""
        changes: dict = {"regularization": kind}
        if kind != "none" and self.document.settings.regularization_rate == 0:
            changes["regularization_rate"] = DEFAULT_RATE
        self._set(**changes)

    def refresh(self) -> None:
        s = self.document.settings
        widgets = (self.epochs, self.lr, self.batch, self.optimizer, self.loss,
                   self.regularization, self.rate)
        for w in widgets:
            w.blockSignals(True)
        try:
            self.epochs.setValue(int(s.epochs))
            self.lr.set_value(float(s.learning_rate))
            self.batch.setValue(int(s.batch_size))
            self.optimizer.setCurrentIndex(max(0, self.optimizer.findData(s.optimizer)))
            self.loss.setCurrentIndex(max(0, self.loss.findData(s.loss)))
            self.regularization.setCurrentIndex(
                max(0, self.regularization.findData(s.regularization)))
            self.rate.set_value(float(s.regularization_rate))
            self.rate.setEnabled(s.regularization != "none")
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
        h = c.history
        running = c.is_running()
        edited = bool(h.n) and not running and not c.shows_trained_params
        # after an undo, an edit or new data the trained epoch and its loss no longer describe
        # the network: say so, and show the loss of the parameters and data as they are
        self.bar.setFormat(f"Edited after epoch {epoch:g}" if edited else
                           f"Epoch {epoch:g} / {target}")
        loss = float(h.loss[-1]) if h.n and not edited else c.document.loss()
        parts = []
        parts.append("loss " + ("—" if loss is None else f"{loss:.5g}"))
        if h.n and h.has_validation() and not edited:
            parts.append(f"val {float(h.val_loss[-1]):.5g}")
        if c.is_running():
            parts.append(f"{c.rate:,.0f} epochs/s")
        elif c.last_message.startswith("Training paused:"):
            parts.append("diverged")
        self.text.setText("   ".join(parts))
