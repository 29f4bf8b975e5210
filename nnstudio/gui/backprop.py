"""The step-through backprop player: a dock (and a canvas mode) that walks through one training
iteration of the current document, one operation at a time, with the real numbers.

:class:`BackpropPlayer` is the logic: it holds the walkthrough (:mod:`nnstudio.core.trace`), the
current step, and the "mode" (active or not). While active it draws the current step on the
canvas through the Overlay API (highlighted neurons and connections, value badges for what is
known so far, and in the backward phase arrows for the change each neuron asks for), and it
keeps the network equal to what the completed update steps leave: stepping into an update
step writes that parameter's new value through the document, stepping back restores it. All
those writes in one session merge into ONE undo step, "Backprop step" (a ``set_params`` edit
with a merge key), so leaving the mode leaves the network as the completed steps left it and
Undo takes it back in one go.

:class:`BackpropPanel` is the dock's widget: sample choice, transport controls (previous/next,
play/pause with a speed slider, phase jumps, run to the end, next iteration), the current
step's explanation and formula in large type, the list of all steps, and a gradient-check tab.

``install(window)`` adds the dock, a Backprop menu, "Export Walkthrough…" in the File menu and
the keyboard shortcuts (→ ← Space) on the dock and, while the mode is on, on the canvas.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QFont, QFontMetrics, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView, QButtonGroup, QComboBox, QFileDialog, QFrame, QHBoxLayout, QHeaderView,
    QLabel, QListWidget, QListWidgetItem, QMessageBox, QPushButton, QScrollArea,
    QSlider, QSplitter, QStyle, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout,
    QWidget,
)

from nnstudio.core import trace as tr_mod
from nnstudio.gui import style

UNDO_TEXT = "Backprop step"
PHASE_COLORS = {  # Okabe–Ito, one per phase (text markers in the step list and phase bar)
    "forward": "#0072B2", "loss": "#CC79A7", "backward": "#D55E00", "update": "#009E73",
}
MAX_SAMPLE_CHOICES = 2000
PREVIEW_DELAY_MS = 350      # an inactive (preview) walkthrough is rebuilt this long after the
                            # last change: stepping training repeatedly stays instant

_sessions = itertools.count(1)


def _overlay_class():
    from nnstudio.gui.canvas.overlay import Overlay
    return Overlay


class BackpropPlayer(QObject):
    """Walks through one iteration of the document's network. See the module docstring."""

    stepChanged = Signal(int)
    traceChanged = Signal()
    activeChanged = Signal(bool)
    playingChanged = Signal(bool)
    trainingChanged = Signal(bool)
    message = Signal(str)

    def __init__(self, document, scene=None, parent: QObject | None = None):
        super().__init__(parent if parent is not None else document)
        self.document = document
        self.scene = scene
        self.trace: tr_mod.Trace | None = None
        self.error: str | None = None
        self.index = -1
        self.sample: int | None = None
        self.active = False
        self.iteration = 1
        self.speed = 2.0          # steps per second while playing
        self._key = None
        self.wants_preview = False   # set while the panel is visible: rebuild even when inactive
        self._applying = False
        self._stale = True
        self._training = bool(getattr(document, "training_active", False))
        self._play = QTimer(self)
        self._play.timeout.connect(self._tick)
        self._rebuild_timer = QTimer(self)
        self._rebuild_timer.setSingleShot(True)
        self._rebuild_timer.timeout.connect(self._external_rebuild)
        self._poll = QTimer(self)
        self._poll.setInterval(250)
        self._poll.timeout.connect(self._check_training)
        self._poll.start()
        self._sig = None
        document.networkChanged.connect(self._on_network)
        document.settingsChanged.connect(self._on_model_changed)
        document.datasetChanged.connect(self._on_model_changed)
        document.projectReplaced.connect(self._on_project_replaced)

    # ------------------------------------------------------------------ queries
    @property
    def playing(self) -> bool:
        return self._play.isActive()

    @property
    def training(self) -> bool:
        return bool(getattr(self.document, "training_active", False))

    @property
    def step(self) -> tr_mod.Step | None:
        if self.trace is None or not 0 <= self.index < len(self.trace.steps):
            return None
        return self.trace.steps[self.index]

    @property
    def last(self) -> int:
        return len(self.trace.steps) - 1 if self.trace is not None else -1

    def state(self) -> tr_mod.TraceState | None:
        if self.trace is None:
            return None
        return self.trace.state_at(self.index)

    def set_scene(self, scene) -> None:
        if self.scene is not None and self.scene is not scene:
            self.scene.set_overlay(None)
        self.scene = scene
        self._show()

    # ------------------------------------------------------------------ the trace
    def ensure_trace(self) -> bool:
        """Build the walkthrough if it is missing or stale; False (with ``error``) if the
        document's network cannot be traced."""
        if self.trace is not None and not self._stale:
            return True
        return self._rebuild()

    def _rebuild(self) -> bool:
        doc = self.document
        self._stale = False
        try:
            n = len(doc.dataset) if doc.dataset is not None else 0
            if self.sample is not None and self.sample >= n:
                self.sample = None
            self.trace = tr_mod.from_project(doc.project, self.sample)
            self.error = None
            self._sig = self._signature()
        except (tr_mod.TraceError, ValueError) as e:
            self.trace, self.error = None, str(e)
        self.index = -1
        self.traceChanged.emit()
        return self.trace is not None

    def set_sample(self, sample: int | None) -> None:
        """Trace one sample (a row index) or the whole batch (None); starts again at step 0."""
        if sample is not None:
            tr_mod.check_sample(sample, len(self.document.dataset))
        if sample == self.sample and self.trace is not None and not self._stale:
            return
        was_active = self.active
        self._restore_iteration_start()
        self.sample = sample
        if sample is not None:
            try:
                self.document.set_sample(sample)
            except ValueError:
                pass
        self._rebuild()
        if was_active:
            self._show()
            self.stepChanged.emit(self.index)

    # ------------------------------------------------------------------ the mode
    def start(self) -> bool:
        """Enter step-through mode and show the first step (if not already further on)."""
        if not self.activate():
            return False
        self.ensure_trace()
        if self.index < 0 and self.trace is not None:
            self.go_to(0)
        return True

    def activate(self) -> bool:
        if self.active:
            return True
        if self.training:
            self.message.emit("Training is running: pause it to step through backprop.")
            return False
        if (self._stale or self.trace is None) and not self._rebuild():
            self.message.emit(f"Cannot step through this network: {self.error}")
            return False
        self._key = ("backprop", next(_sessions))
        self.active = True
        self.iteration = 1
        self.index = -1
        self.activeChanged.emit(True)
        self._show()
        self.stepChanged.emit(self.index)
        return True

    def deactivate(self) -> None:
        """Leave the mode: the overlay goes, the network stays as the completed update steps
        left it (already one undo step)."""
        if not self.active:
            return
        self.pause()
        self.active = False
        self._key = None
        self._stale = True
        if self.scene is not None:
            self.scene.set_overlay(None)
        self.activeChanged.emit(False)

    def set_active(self, on: bool) -> None:
        if on:
            self.activate()
        else:
            self.deactivate()

    # ------------------------------------------------------------------ navigation
    def go_to(self, k: int) -> None:
        if not self.activate() or not self.ensure_trace():
            return
        k = max(-1, min(int(k), self.last))
        self.index = k
        self._apply_params()
        self._show()
        self.stepChanged.emit(k)

    def next(self) -> None:
        if not self.active:
            if self.activate() and self.ensure_trace():
                self.go_to(0)
            return
        if self.trace is not None and self.index < self.last:
            self.go_to(self.index + 1)
        elif self.playing:
            self.pause()

    def previous(self) -> None:
        if self.active and self.index > -1:
            self.go_to(self.index - 1)

    def restart(self) -> None:
        self.go_to(0 if self.trace is None or self.last >= 0 else -1)

    def jump(self, phase: str) -> None:
        if phase not in tr_mod.PHASES:
            raise ValueError(f"unknown phase {phase!r}")
        if not self.activate() or not self.ensure_trace():
            return
        self.go_to(self.trace.phase_start(phase))

    def run_to_end(self) -> None:
        if not self.activate() or not self.ensure_trace():
            return
        self.go_to(self.last)

    def next_iteration(self) -> None:
        """Apply the whole update, then start a new walkthrough at the new parameters."""
        if not self.activate() or not self.ensure_trace():
            return
        self.pause()
        self.index = self.last
        self._apply_params()
        self.iteration += 1
        self._rebuild()
        self.go_to(0)
        self.message.emit(f"Iteration {self.iteration}: the forward pass with the new parameters.")

    # ------------------------------------------------------------------ playing
    def play(self) -> None:
        if not self.activate() or not self.ensure_trace():
            return
        if self.index >= self.last:
            self.go_to(0)
        self._play.start(int(1000 / max(self.speed, 0.1)))
        self.playingChanged.emit(True)

    def pause(self) -> None:
        if self._play.isActive():
            self._play.stop()
            self.playingChanged.emit(False)

    def toggle_play(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def set_speed(self, steps_per_second: float) -> None:
        self.speed = max(0.1, float(steps_per_second))
        if self._play.isActive():
            self._play.setInterval(int(1000 / self.speed))

    def _tick(self) -> None:
        if self.trace is None or self.index >= self.last or not self.active:
            self.pause()
            return
        self.go_to(self.index + 1)
        if self.index >= self.last:
            self.pause()

    # ------------------------------------------------------------------ the network
    def _wanted_params(self) -> dict[str, float]:
        tr = self.trace
        vals = tr.params_after(self.index)
        return {p: vals[p] for p in tr.engine.param_ids if tr.trainable[p]}

    def _my_top_command(self):
        stack = self.document.undo_stack
        i = stack.index()
        if self._key is None or i == 0 or i != stack.count():
            return None
        cmd = stack.command(i - 1)
        return cmd if getattr(cmd, "mergeable", None) == self._key else None

    def _apply_params(self) -> None:
        """Make the network hold what the completed update steps leave, as one undo step per
        session (consecutive writes merge)."""
        tr = self.trace
        if tr is None or not self.active:
            return
        want = self._wanted_params()
        net = self.document.network
        try:
            current = {p: net.get_param(p) for p in want}
        except ValueError:
            return
        if current == want:
            return
        self._applying = True
        try:
            top = self._my_top_command()
            if top is not None and dict(top.old) == want:
                self.document.undo_stack.undo()        # back where the session started
            else:
                self.document.set_params(want, text=UNDO_TEXT, merge=self._key)
        finally:
            self._applying = False

    def _restore_iteration_start(self) -> None:
        """Before tracing something else: undo the update steps of an unfinished walkthrough
        so the network is what the new walkthrough starts from (unchanged otherwise)."""
        if self.active and self.trace is not None and self.index >= 0:
            k = self.index
            self.index = -1
            self._apply_params()
            self.index = k

    # ------------------------------------------------------------------ model changes
    def _signature(self):
        """What a walkthrough depends on besides parameter values (positions excluded)."""
        net = self.document.network
        return (id(net), net.structure_version,
                tuple((n.id, n.role, n.label, n.activation, n.slope) for n in net.neurons.values()))

    def _on_network(self, event: str, ids) -> None:
        if event == "neuron_changed" and not self._applying and self._sig is not None \
                and self._signature() == self._sig:
            return          # neurons moved on the canvas: the walkthrough still holds
        self._on_model_changed()

    def _on_model_changed(self, *args) -> None:
        if self._applying:
            return
        if self.training:
            self._stale = True
            self._check_training()
            return
        self._stale = True
        if self.active:
            self._rebuild_timer.start(0)
        elif self.wants_preview:
            # only a preview: coalesce bursts of edits (Step, Step Epoch, dragging a slider)
            # into one rebuild once they stop; a hidden panel rebuilds when it is shown
            self._rebuild_timer.start(PREVIEW_DELAY_MS)

    def _external_rebuild(self) -> None:
        if not self._stale or self.training:
            return
        if not self.active:
            if self.wants_preview:   # keep the panel's step list current
                self._rebuild()
                self.stepChanged.emit(self.index)
            return
        self.pause()
        self._rebuild()
        self._show()
        self.stepChanged.emit(self.index)
        self.message.emit("The network or its data changed: the walkthrough starts again.")

    def _on_project_replaced(self) -> None:
        self.deactivate()
        self.sample = None
        self.trace = None
        self._stale = True
        self.traceChanged.emit()

    def _check_training(self) -> None:
        t = self.training
        if t and self.active:
            self.deactivate()
            self.message.emit("Training started: the backprop player stopped.")
        if t != self._training:
            self._training = t
            self.trainingChanged.emit(t)
            if not t and self._stale and self.wants_preview:
                self._rebuild_timer.start(PREVIEW_DELAY_MS)

    # ------------------------------------------------------------------ the canvas
    def overlay(self):
        """The Overlay for the current step (None when the mode is off)."""
        if not self.active or self.trace is None:
            return None
        Overlay = _overlay_class()
        st = self.trace.state_at(self.index)
        step = st.step
        return Overlay(
            neurons=set(step.neurons) if step else set(),
            connections=set(step.connections) if step else set(),
            neuron_text=st.neuron_text(),
            connection_text=st.connection_text(),
            arrows=st.arrows() if step is not None and step.phase == "backward" else {},
        )

    def _show(self) -> None:
        if self.scene is None:
            return
        self.scene.set_overlay(self.overlay() if self.active else None)


# ---------------------------------------------------------------------- the panel
def _button(text: str, tip: str, slot, *, checkable: bool = False) -> QPushButton:
    b = QPushButton(text)
    b.setToolTip(tip)
    b.setCheckable(checkable)
    b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
    b.clicked.connect(slot)
    return b


class BackpropPanel(QWidget):
    """The Backprop dock's contents: controls, the current step, the step list and the
    gradient check."""

    def __init__(self, document, player: BackpropPlayer | None = None, parent=None):
        super().__init__(parent)
        self.document = document
        self.player = player or BackpropPlayer(document, parent=self)
        self.setObjectName("BackpropPanel")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._build()
        p = self.player
        p.stepChanged.connect(self._on_step)
        p.traceChanged.connect(self._on_trace)
        p.activeChanged.connect(self._on_active)
        p.playingChanged.connect(self._on_playing)
        p.trainingChanged.connect(self._update_enabled)
        document.datasetChanged.connect(self._fill_samples)
        document.projectReplaced.connect(self._fill_samples)
        self.shortcuts = install_shortcuts(self, p)
        self._fill_samples()
        self._on_trace()
        self._update_enabled()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.setStyleSheet(
            "#BackpropPanel QPushButton { padding: 3px 9px; }"
            "#BackpropPanel QPushButton:checked { background: #1F2430; color: white; }"
        )
        self.setFont(style.ui_font(11.0))
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 4, 8, 4)
        outer.setSpacing(4)
        sp = self.style().standardIcon
        P = QStyle.StandardPixmap
        self._icons = {"play": sp(P.SP_MediaPlay), "pause": sp(P.SP_MediaPause)}

        # row 1: the mode, the transport, the speed
        row = QHBoxLayout()
        self.mode_button = _button("Step through", "Start or leave the step-through mode "
                                   "(the canvas shows each step; leaving keeps the updates as "
                                   "one undo step)", self._toggle_mode, checkable=True)
        self.mode_button.setFont(style.ui_font(11.0, bold=True))
        # wide enough for either label, so the buttons after it do not jump when the mode
        # toggles (a second click on "Next" must not land on "Play")
        longest = QFontMetrics(self.mode_button.font()).horizontalAdvance("Leave step-through")
        self.mode_button.setMinimumWidth(longest + 36)   # + the style's frame and padding
        row.addWidget(self.mode_button)
        row.addSpacing(6)
        self.restart_button = _button("", "Back to the first step", self.player.restart)
        self.restart_button.setIcon(sp(P.SP_MediaSkipBackward))
        self.prev_button = _button("Previous", "Previous step (\u2190)", self.player.previous)
        self.prev_button.setIcon(sp(P.SP_MediaSeekBackward))
        self.play_button = _button("Play", "Play / pause (Space)", self.player.toggle_play)
        self.play_button.setIcon(self._icons["play"])
        self.next_button = _button("Next", "Next step (\u2192)", self.player.next)
        self.next_button.setIcon(sp(P.SP_MediaSeekForward))
        self.next_button.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        self.end_button = _button("End", "Run to the end of this iteration (all updates "
                                  "applied)", self.player.run_to_end)
        self.end_button.setIcon(sp(P.SP_MediaSkipForward))
        self.end_button.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        self.iter_button = _button("Next iteration", "Apply the update and start again with the "
                                   "new parameters", self.player.next_iteration)
        self.iter_button.setIcon(sp(P.SP_BrowserReload))
        for b in (self.restart_button, self.prev_button, self.play_button, self.next_button,
                  self.end_button, self.iter_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(QLabel("Speed"))
        self.speed_slider = QSlider(Qt.Orientation.Horizontal)
        self.speed_slider.setRange(1, 20)       # half-steps per second: 0.5 .. 10 steps/s
        self.speed_slider.setValue(int(self.player.speed * 2))
        self.speed_slider.setMaximumWidth(120)
        self.speed_slider.setMinimumWidth(60)
        self.speed_slider.setToolTip("Playback speed (steps per second)")
        self.speed_slider.valueChanged.connect(self._speed_changed)
        row.addWidget(self.speed_slider)
        self.speed_label = QLabel()
        row.addWidget(self.speed_label)
        outer.addLayout(row)

        # row 2: phase jumps and the sample
        row = QHBoxLayout()
        self.phase_group = QButtonGroup(self)
        self.phase_group.setExclusive(True)
        self.phase_buttons: dict[str, QPushButton] = {}
        for phase in tr_mod.PHASES:
            b = _button(tr_mod.PHASE_TITLES[phase], f"Jump to the start of the "
                        f"{tr_mod.PHASE_TITLES[phase].lower()}",
                        lambda _=False, ph=phase: self.player.jump(ph), checkable=True)
            b.setStyleSheet(f"QPushButton {{ border-bottom: 4px solid {PHASE_COLORS[phase]}; }}")
            self.phase_group.addButton(b)
            self.phase_buttons[phase] = b
            row.addWidget(b)
        row.addSpacing(12)
        row.addWidget(QLabel("Sample:"))
        self.sample_combo = QComboBox()
        self.sample_combo.setToolTip("Walk through one sample, or the whole batch (gradients "
                                     "summed over all samples, as gradient descent does)")
        self.sample_combo.setMinimumContentsLength(14)
        self.sample_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.sample_combo.currentIndexChanged.connect(self._sample_chosen)
        row.addWidget(self.sample_combo, 1)
        outer.addLayout(row)

        # the current step: words (left or top) and formula (right or below); the step list
        # and gradient check beside them. Wide, short docks get three columns.
        self.main_split = QSplitter(Qt.Orientation.Horizontal)
        self.text_split = QSplitter(Qt.Orientation.Vertical)
        words = QWidget()
        lv = QVBoxLayout(words)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.setSpacing(2)
        head = QHBoxLayout()
        self.counter_label = QLabel()
        self.counter_label.setFont(style.ui_font(10.5, bold=True))
        head.addWidget(self.counter_label)
        head.addStretch(1)
        self.iteration_label = QLabel("")
        self.iteration_label.setStyleSheet(f"color: {style.MUTED_TEXT_HEX};")
        head.addWidget(self.iteration_label)
        lv.addLayout(head)
        self.title_label = QLabel()
        self.title_label.setFont(style.ui_font(15.0, bold=True))
        self.title_label.setWordWrap(True)
        lv.addWidget(self.title_label)
        self.explanation_label = QLabel()
        self.explanation_label.setFont(style.ui_font(12.0))
        self.explanation_label.setWordWrap(True)
        self.explanation_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.explanation_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        words_scroll = QScrollArea()
        words_scroll.setWidget(self.explanation_label)
        words_scroll.setWidgetResizable(True)
        words_scroll.setFrameShape(QFrame.Shape.NoFrame)
        words_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        lv.addWidget(words_scroll, 1)
        self.text_split.addWidget(words)
        self.formula_label = QLabel()
        self.formula_label.setFont(style.mono_font(16.0))
        self.formula_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.formula_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.formula_label.setStyleSheet(
            f"QLabel {{ background: #FFFFFF; color: {style.TEXT_HEX}; padding: 8px; }}")
        scroll = QScrollArea()
        self.formula_scroll = scroll
        scroll.setWidget(self.formula_label)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setStyleSheet("QScrollArea { border: 1px solid #C9CCD3; "
                             "border-left: 6px solid #1F2430; background: #FFFFFF; }")
        self.text_split.addWidget(scroll)
        self.text_split.setStretchFactor(0, 2)
        self.text_split.setStretchFactor(1, 3)
        self.main_split.addWidget(self.text_split)

        self.tabs = QTabWidget()
        self.step_list = QListWidget()
        self.step_list.setFont(style.ui_font(11.0))
        self.step_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.step_list.itemClicked.connect(self._item_clicked)
        self.step_list.itemActivated.connect(self._item_clicked)
        self.tabs.addTab(self.step_list, "Steps")
        self.check_table = QTableWidget(0, 5)
        self.check_table.setHorizontalHeaderLabels(
            ["Parameter", "Backprop", "Finite difference", "Relative error", "Check"])
        self.check_table.verticalHeader().setVisible(False)
        self.check_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.check_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.check_table.setFont(style.ui_font(10.5))
        gc = QWidget()
        gv = QVBoxLayout(gc)
        gv.setContentsMargins(0, 4, 0, 0)
        self.check_summary = QLabel()
        self.check_summary.setWordWrap(True)
        gh = QHBoxLayout()
        gh.addWidget(self.check_summary, 1)
        self.check_button = _button("Check gradients", "Compare each backprop gradient with a "
                                    "central finite-difference estimate", self.run_gradient_check)
        gh.addWidget(self.check_button)
        gv.addLayout(gh)
        gv.addWidget(self.check_table, 1)
        self.tabs.addTab(gc, "Gradient check")
        self.tabs.currentChanged.connect(self._tab_changed)
        self.main_split.addWidget(self.tabs)
        self.main_split.setStretchFactor(0, 3)
        self.main_split.setStretchFactor(1, 1)
        outer.addWidget(self.main_split, 1)
        self._wide = None
        scroll.viewport().installEventFilter(self)
        self._speed_changed(self.speed_slider.value())

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.Resize and obj is self.formula_scroll.viewport():
            self._fit_formula()
        return False

    def _set_formula(self, text: str) -> None:
        """The formula box shows only when there is a formula (no empty framed box before
        the first step): the explanation gets the room instead."""
        self.formula_label.setText(text)
        self.formula_scroll.setVisible(bool(text))

    # ------------------------------------------------------------------ formula size
    FORMULA_PT = (16.0, 10.0)   # largest and smallest point size of the formula

    def _fit_formula(self) -> None:
        """The formula in the largest size (16 pt down to 10 pt) whose longest line fits the
        box, so it stays readable on a projector and scrolls only when it must."""
        text = self.formula_label.text()
        avail = self.formula_scroll.viewport().width() - 24
        hi, lo = self.FORMULA_PT
        size = hi
        if text and avail > 50:
            longest = max(text.split("\n"), key=len)
            while size > lo:
                fm = QFontMetrics(style.mono_font(size))
                if fm.horizontalAdvance(longest) <= avail:
                    break
                size -= 1.0
        if self.formula_label.font().pointSizeF() != size:
            self.formula_label.setFont(style.mono_font(size))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._arrange()
        QTimer.singleShot(0, self._fit_formula)

    def _arrange(self) -> None:
        """Words beside the formula in a wide, short dock (the bottom of the window); words
        above the formula otherwise."""
        w, h = self.width(), self.height()
        wide = w >= 900 and w >= 2.2 * h
        if wide == self._wide:
            return
        self._wide = wide
        self.text_split.setOrientation(Qt.Orientation.Horizontal if wide
                                       else Qt.Orientation.Vertical)
        if wide:
            self.text_split.setSizes([int(w * 0.30), int(w * 0.50)])
            self.main_split.setSizes([int(w * 0.80), int(w * 0.20)])
        else:
            self.text_split.setSizes([int(h * 0.4), int(h * 0.6)])
            self.main_split.setSizes([int(w * 0.6), int(w * 0.4)])

    # ------------------------------------------------------------------ reactions
    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        self.player.wants_preview = True
        if not self.player.training and (self.player.trace is None or self.player._stale):
            self.player.ensure_trace()

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().hideEvent(event)
        self.player.wants_preview = False

    def _fill_samples(self) -> None:
        ds = self.document.dataset
        blocker = QSignalBlocker(self.sample_combo)
        self.sample_combo.clear()
        n = len(ds) if ds is not None else 0
        self.sample_combo.addItem(f"Whole batch ({n} samples)", None)
        for k in range(min(n, MAX_SAMPLE_CHOICES)):
            ins = ", ".join(f"{name} = {tr_mod.num(v)}" for name, v in zip(ds.input_names, ds.X[k]))
            outs = ", ".join(tr_mod.num(v) for v in ds.Y[k])
            self.sample_combo.addItem(f"Sample {k}: {ins} \u2192 {outs}", k)
        want = self.player.sample
        idx = 0 if want is None else self.sample_combo.findData(want)
        self.sample_combo.setCurrentIndex(max(idx, 0))
        del blocker

    def _sample_chosen(self, i: int) -> None:
        sample = self.sample_combo.itemData(i)
        try:
            self.player.set_sample(sample)
        except ValueError as e:
            self.document.message(str(e))

    def _toggle_mode(self, checked: bool) -> None:
        if checked:
            self.player.start()
        else:
            self.player.deactivate()
        self._on_active(self.player.active)

    def _speed_changed(self, v: int) -> None:
        sps = v / 2.0
        self.player.set_speed(sps)
        self.speed_label.setText(f"{tr_mod.num(sps)}/s")

    def _item_clicked(self, item: QListWidgetItem) -> None:
        k = item.data(Qt.ItemDataRole.UserRole)
        if k is not None:
            self.player.go_to(int(k))

    def _tab_changed(self, i: int) -> None:
        if i == 1 and self.check_table.rowCount() == 0:
            self.run_gradient_check()

    def _on_active(self, on: bool) -> None:
        with QSignalBlocker(self.mode_button):
            self.mode_button.setChecked(on)
        self.mode_button.setText("Leave step-through" if on else "Step through")
        self._update_enabled()
        self._on_step(self.player.index)

    def _on_playing(self, on: bool) -> None:
        self.play_button.setText("Pause" if on else "Play")
        self.play_button.setIcon(self._icons["pause" if on else "play"])

    def _update_enabled(self, *args) -> None:
        training = self.player.training
        ok = not training
        for w in (self.mode_button, self.restart_button, self.prev_button, self.play_button,
                  self.next_button, self.end_button, self.iter_button, self.sample_combo,
                  *self.phase_buttons.values()):
            w.setEnabled(ok)
        if training:
            self.title_label.setText("Training is running")
            self.explanation_label.setText("The backprop player waits until training is paused.")
            self._set_formula("")

    def _on_trace(self) -> None:
        p = self.player
        self.check_table.setRowCount(0)
        self.check_summary.setText("")
        if p.trace is None:
            self.step_list.clear()
            self._list_key = None
            if p.error:
                self.title_label.setText("Cannot step through this network")
                self.explanation_label.setText(p.error[0].upper() + p.error[1:] + ".")
            else:
                self.title_label.setText("Step through one training iteration")
                self.explanation_label.setText(
                    "Press Next (\u2192) or \u201cStep through\u201d to follow the forward pass, "
                    "the loss, the backward pass (the chain rule) and the update, one operation "
                    "at a time, with the real numbers on the canvas.")
            self._set_formula("")
            self.counter_label.setText("")
            return
        self._fill_step_list(p.trace)
        # the gradient check costs two losses per parameter: it runs while its tab is the
        # current one (switching to the tab runs it too)
        if self.tabs.currentIndex() == 1:
            self.run_gradient_check()
        self._on_step(p.index)

    def _fill_step_list(self, trace) -> None:
        """One row per step under its phase heading. The titles depend on the network's
        structure only, so after a parameter change the rows are kept and only their
        tooltips (the formulas with numbers) are renewed."""
        key = tuple((s.phase, s.title) for s in trace.steps)
        if key == getattr(self, "_list_key", None) and self.step_list.count():
            lst = self.step_list
            steps = trace.steps
            for i in range(lst.count()):
                item = lst.item(i)
                k = item.data(Qt.ItemDataRole.UserRole)
                if k is not None:
                    item.setToolTip(steps[k].formula)
            return
        self._list_key = key
        self.step_list.clear()
        current = None
        bold = QFont(self.step_list.font())
        bold.setBold(True)
        for s in trace.steps:
            if s.phase != current:
                current = s.phase
                head = QListWidgetItem(tr_mod.PHASE_TITLES[s.phase].upper())
                head.setFlags(Qt.ItemFlag.NoItemFlags)
                head.setFont(bold)
                head.setForeground(QBrush(QColor(PHASE_COLORS[s.phase])))
                self.step_list.addItem(head)
            item = QListWidgetItem(f"{s.index + 1:>3}.  {s.title}")
            item.setData(Qt.ItemDataRole.UserRole, s.index)
            item.setToolTip(s.formula)
            self.step_list.addItem(item)

    def _item_for(self, k: int) -> QListWidgetItem | None:
        for i in range(self.step_list.count()):
            it = self.step_list.item(i)
            if it.data(Qt.ItemDataRole.UserRole) == k:
                return it
        return None

    def _on_step(self, k: int) -> None:
        p = self.player
        tr = p.trace
        it_text = f"Iteration {p.iteration}" if p.active else ""
        self.iteration_label.setText(it_text)
        if self.player.training:
            return
        if tr is None:
            return
        muted = QColor(style.MUTED_TEXT_HEX)
        normal = QColor(style.TEXT_HEX)
        for i in range(self.step_list.count()):
            item = self.step_list.item(i)
            idx = item.data(Qt.ItemDataRole.UserRole)
            if idx is None:
                continue
            item.setForeground(QBrush(normal if (p.active and idx <= k) else muted))
        step = p.step
        if step is None:
            with QSignalBlocker(self.step_list):
                self.step_list.clearSelection()
            for b in self.phase_buttons.values():
                self.phase_group.setExclusive(False)
                b.setChecked(False)
                self.phase_group.setExclusive(True)
            self.counter_label.setText(f"{len(tr.steps)} steps" if not p.active
                                       else f"Ready \u00b7 {len(tr.steps)} steps")
            self.title_label.setText("Step through one training iteration")
            who = (f"sample {tr.sample}" if tr.sample is not None else
                   f"the whole batch ({tr.n} samples)")
            self.explanation_label.setText(
                f"Walk through forward pass, loss, backward pass and update for {who}. Press "
                f"Next (\u2192) to begin; \u2190 goes back and restores exactly what was shown.")
            self._set_formula("")
            return
        self.phase_buttons[step.phase].setChecked(True)
        self.counter_label.setText(f"Step {step.index + 1} of {len(tr.steps)} \u00b7 "
                                   f"{tr_mod.PHASE_TITLES[step.phase]}")
        self.title_label.setText(step.title)
        self.title_label.setStyleSheet(f"color: {PHASE_COLORS[step.phase]};")
        self.explanation_label.setText(step.explanation)
        self._set_formula(step.formula)
        self._fit_formula()
        item = self._item_for(step.index)
        if item is not None:
            with QSignalBlocker(self.step_list):
                self.step_list.setCurrentItem(item)
            self.step_list.scrollToItem(item, QAbstractItemView.ScrollHint.EnsureVisible)

    # ------------------------------------------------------------------ gradient check
    def run_gradient_check(self) -> list:
        p = self.player
        if not p.ensure_trace():
            self.check_summary.setText(p.error or "")
            return []
        rows = tr_mod.gradient_check_trace(p.trace)
        t = self.check_table
        t.setRowCount(len(rows))
        bad_brush = QBrush(QColor("#FBE3D6"))
        for r, c in enumerate(rows):
            cells = [c.name, f"{c.backprop:.8g}", f"{c.numeric:.8g}", f"{c.rel_error:.1e}",
                     "\u2713 ok" if c.ok and not c.note else
                     ("\u2713 " + c.note if c.ok else "\u2717 MISMATCH")]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text.replace("-", "\u2212") if col in (1, 2, 3) else text)
                if col in (1, 2, 3):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if not c.ok:
                    item.setBackground(bad_brush)
                    item.setForeground(QBrush(QColor(style.REFUSED_HEX)))
                t.setItem(r, col, item)
        t.resizeColumnsToContents()
        t.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        bad = sum(1 for c in rows if not c.ok)
        which = (f"sample {p.trace.sample}" if p.trace.sample is not None else "the whole batch")
        self.check_summary.setText(
            (f"All {len(rows)} gradients agree with the finite-difference estimate "
             f"({which})." if not bad else
             f"{bad} of {len(rows)} gradients disagree with the finite-difference estimate!"))
        self.check_summary.setStyleSheet("" if not bad else f"color: {style.REFUSED_HEX};")
        self.check_rows = rows
        return rows


# ---------------------------------------------------------------------- shortcuts, export
def install_shortcuts(widget: QWidget, player: BackpropPlayer,
                      space: bool = True) -> list[QShortcut]:
    """→ next, ← previous, Space play/pause while ``widget`` (or a child) has focus."""
    out = []
    keys = [(Qt.Key.Key_Right, player.next), (Qt.Key.Key_Left, player.previous)]
    if space:
        keys.append((Qt.Key.Key_Space, player.toggle_play))
    for key, slot in keys:
        sc = QShortcut(QKeySequence(key), widget)
        sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        sc.activated.connect(slot)
        out.append(sc)
    return out


class _CanvasSpace(QObject):
    """Space on the canvas while the mode is on: a tap (press and release with no mouse
    press in between) plays or pauses; Space + drag still pans."""

    def __init__(self, view, player: BackpropPlayer):
        super().__init__(view)
        self.view, self.player = view, player
        self._clean = False
        view.installEventFilter(self)
        view.viewport().installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        t = event.type()
        if t == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Space \
                and not event.isAutoRepeat():
            self._clean = True
        elif t == QEvent.Type.MouseButtonPress:
            self._clean = False
        elif t == QEvent.Type.KeyRelease and event.key() == Qt.Key.Key_Space \
                and not event.isAutoRepeat():
            if self._clean and self.player.active:
                self.player.toggle_play()
            self._clean = False
        return False


def walkthrough_markdown(document, sample: int | None) -> str:
    """Exactly what ``nnstudio trace FILE --format markdown [--sample K]`` prints."""
    return tr_mod.worksheet(document.project, sample, "markdown")


def export_walkthrough(document, path, sample: int | None) -> Path:
    """Write the walkthrough as Markdown (atomically)."""
    from nnstudio.core.files import atomic_write

    text = walkthrough_markdown(document, sample)
    path = Path(path)
    data = text if text.endswith("\n") else text + "\n"
    atomic_write(path, data.encode("utf-8"))
    return path


class BackpropUI(QObject):
    """What ``install`` creates: the player, the panel, its dock and actions."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        doc = window.document
        view = getattr(window, "canvas_view", None)
        scene = view.scene() if view is not None else None
        self.player = BackpropPlayer(doc, scene, parent=self)
        self.panel = BackpropPanel(doc, self.player)
        self.dock = window.add_dock("backprop", self.panel,
                                    Qt.DockWidgetArea.BottomDockWidgetArea, "Backprop")
        self.dock.visibilityChanged.connect(self._dock_visibility)
        self.player.message.connect(lambda text: doc.message(text, 5000))
        # keyboard on the canvas while the mode is on: → and ← as shortcuts; Space through an
        # event filter, because holding Space and dragging pans the canvas
        self.canvas_shortcuts = install_shortcuts(view, self.player, space=False) \
            if view is not None else []
        for sc in self.canvas_shortcuts:
            sc.setEnabled(False)
        self.canvas_keys = _CanvasSpace(view, self.player) if view is not None else None
        self.player.activeChanged.connect(self._mode_changed)
        # actions
        self.mode_action = QAction("Step Through Backprop", self)
        self.mode_action.setCheckable(True)
        self.mode_action.setShortcut(QKeySequence("Ctrl+B"))
        self.mode_action.setToolTip("Step through one training iteration on the canvas "
                                    "(forward, loss, backward, update)")
        self.mode_action.toggled.connect(self._mode_toggled)
        self.export_action = QAction("Export Walkthrough\u2026", self)
        self.export_action.setToolTip("Save the step-through walkthrough as a Markdown "
                                       "worksheet (the same as `nnstudio trace --format markdown`)")
        self.export_action.triggered.connect(self.export_dialog)
        menu = _menu(window, "Backprop")
        if menu is not None:
            menu.addAction(self.mode_action)
            menu.addAction(self.dock.toggleViewAction())
            menu.addSeparator()
            for text, slot, key in (("Next Step", self.player.next, None),
                                    ("Previous Step", self.player.previous, None),
                                    ("Run to End of Iteration", self.player.run_to_end, None),
                                    ("Next Iteration", self.player.next_iteration, None)):
                a = QAction(text, self)
                a.triggered.connect(slot)
                menu.addAction(a)
            menu.addSeparator()
            menu.addAction(self.export_action)
        file_menu = _menu(window, "File")
        if file_menu is not None:
            _insert_before_quit(file_menu, self.export_action)
        toolbar = getattr(window, "toolbar", None)
        if toolbar is not None:
            toolbar.addAction(self.mode_action)

    def _mode_toggled(self, on: bool) -> None:
        if on:
            self.dock.show()
            self.dock.raise_()
            self.player.start()
        else:
            self.player.deactivate()
        with QSignalBlocker(self.mode_action):
            self.mode_action.setChecked(self.player.active)

    def _mode_changed(self, on: bool) -> None:
        with QSignalBlocker(self.mode_action):
            self.mode_action.setChecked(on)
        if on:
            self.dock.show()
            self.dock.raise_()
        for sc in self.canvas_shortcuts:
            sc.setEnabled(on)

    def _dock_visibility(self, visible: bool) -> None:
        # closing the dock leaves the mode (tabbing it away keeps it: the dock is only hidden
        # behind another tab, which also reports not visible, so check isHidden)
        if not visible and self.dock.isHidden():
            self.player.deactivate()

    def export_dialog(self) -> Path | None:
        doc = self.window.document
        base = doc.path.with_suffix("") if getattr(doc, "path", None) else Path.home() / "walkthrough"
        default = str(base) + "-walkthrough.md"
        path, _ = QFileDialog.getSaveFileName(self.window, "Export Walkthrough", default,
                                              "Markdown (*.md);;All files (*)")
        if not path:
            return None
        try:
            out = export_walkthrough(doc, path, self.player.sample)
        except (OSError, ValueError) as e:
            QMessageBox.warning(self.window, "Export Walkthrough",
                                f"Could not write the walkthrough to {path}: {e}")
            return None
        doc.message(f"Walkthrough written to {out}", 5000)
        return out


def _menu(window, name: str):
    fn = getattr(window, "menu", None)
    if fn is None:
        return None
    try:
        return fn(name)
    except (KeyError, ValueError):
        mb = window.menuBar()
        return mb.addMenu(f"&{name}")


def _insert_before_quit(menu, action: QAction) -> None:
    acts = menu.actions()
    quit_ = next((a for a in acts if a.text().replace("&", "").lower().startswith(("quit", "exit"))), None)
    if quit_ is not None:
        idx = acts.index(quit_)
        before = acts[idx - 1] if idx > 0 and acts[idx - 1].isSeparator() else quit_
        menu.insertAction(before, action)
    else:
        menu.addAction(action)


def install(window) -> BackpropUI:
    """Add the Backprop dock, menu, "Export Walkthrough…" action and shortcuts to the main
    window. Returns the object holding them (also stored as ``window.backprop``)."""
    ui = BackpropUI(window)
    window.backprop = ui
    return ui


__all__ = ["BackpropPlayer", "BackpropPanel", "BackpropUI", "install", "export_walkthrough",
           "walkthrough_markdown", "install_shortcuts", "UNDO_TEXT"]
