"""The Backprop dock's widget: sample choice, transport controls (previous/next, play/pause with
a speed slider, phase jumps, run to the end, next iteration), the current step's explanation
and formula in large type, the list of all steps, and a gradient-check tab. An image layer's
step (summarised per map) gets a position row: the row and column (and channel) to open it
at, as a click on that canvas cell does, and the way back to the summary.

The panel only shows the :class:`~nnstudio.gui.backprop.player.BackpropPlayer` and forwards
the user's clicks to it; it never edits the document itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QHideEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QSplitter,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nnstudio.core import trace as tr_mod
from nnstudio.gui import style
from nnstudio.gui.actions import make_button
from nnstudio.gui.backprop import image_view
from nnstudio.gui.backprop.keys import install_shortcuts
from nnstudio.gui.backprop.player import BackpropPlayer

if TYPE_CHECKING:
    from nnstudio.gui.document import Document

PHASE_COLORS = {  # Okabe–Ito, one per phase (text markers in the step list and phase bar)
    "forward": "#0072B2", "loss": "#CC79A7", "backward": "#D55E00", "update": "#009E73",
}
MAX_SAMPLE_CHOICES = 2000


class BackpropPanel(QWidget):
    """The Backprop dock's contents: controls, the current step, the step list and the
    gradient check."""

    def __init__(self, document: Document, player: BackpropPlayer | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.player = player or BackpropPlayer(document, parent=self)
        self.setObjectName("BackpropPanel")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._list_key: tuple | None = None   # the step list's (phase, title) rows
        self._build()
        p = self.player
        p.stepChanged.connect(self._on_step)
        p.positionChanged.connect(lambda: self._on_step(p.index))
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
        self.mode_button = make_button("Step through", "Start or leave the step-through mode "
                                       "(the canvas shows each step; leaving keeps the updates "
                                       "as one undo step)", self._toggle_mode, checkable=True)
        self.mode_button.setFont(style.ui_font(11.0, bold=True))
        # wide enough for either label, so the buttons after it do not jump when the mode
        # toggles (a second click on "Next" must not land on "Play")
        longest = QFontMetrics(self.mode_button.font()).horizontalAdvance("Leave step-through")
        self.mode_button.setMinimumWidth(longest + 36)   # + the style's frame and padding
        row.addWidget(self.mode_button)
        row.addSpacing(6)
        self.restart_button = make_button("", "Back to the first step", self.player.restart)
        self.restart_button.setIcon(sp(P.SP_MediaSkipBackward))
        self.prev_button = make_button("Previous", "Previous step (\u2190)", self.player.previous)
        self.prev_button.setIcon(sp(P.SP_MediaSeekBackward))
        self.play_button = make_button("Play", "Play / pause (Space)", self.player.toggle_play)
        self.play_button.setIcon(self._icons["play"])
        self.next_button = make_button("Next", "Next step (\u2192)", self.player.next)
        self.next_button.setIcon(sp(P.SP_MediaSeekForward))
        self.next_button.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        self.end_button = make_button("End", "Run to the end of this iteration (all updates "
                                      "applied)", self.player.run_to_end)
        self.end_button.setIcon(sp(P.SP_MediaSkipForward))
        self.end_button.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        self.iter_button = make_button("Next iteration", "Apply the update and start again "
                                       "with the new parameters", self.player.next_iteration)
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
        self.speed_slider.setMinimumWidth(48)
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
            b = make_button(tr_mod.PHASE_TITLES[phase], f"Jump to the start of the "
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
        lv.addWidget(self._build_position_row())
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
        self.check_button = make_button("Check gradients", "Compare each backprop gradient "
                                        "with a central finite-difference estimate",
                                        self.run_gradient_check)
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

    def _build_position_row(self) -> QWidget:
        """Row, column (and channel) of the position to open an image step at."""
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.position_label = QLabel("Position")
        row.addWidget(self.position_label)
        self.position_spins: dict[str, QSpinBox] = {}
        for name in ("row", "column", "channel"):
            spin = QSpinBox()
            spin.setPrefix(f"{name} ")
            spin.setToolTip(f"The {name} of the position to open")
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(self._position_chosen)
            self.position_spins[name] = spin
            row.addWidget(spin)
        self.summary_button = make_button("Summary", "Back to the whole map",
                                          self.player.close_position)
        row.addWidget(self.summary_button)
        self.position_hint = QLabel()
        self.position_hint.setStyleSheet(f"color: {style.MUTED_TEXT_HEX};")
        self.position_hint.setWordWrap(True)
        row.addWidget(self.position_hint, 1)
        self.position_row = box
        box.setVisible(False)
        return box

    def _position_chosen(self, *args: object) -> None:
        sp = self.position_spins
        self.player.open_position(sp["row"].value(), sp["column"].value(),
                                  sp["channel"].value())

    def _show_position_row(self) -> None:
        """The position row for a step with positions (its ranges, the open position)."""
        p = self.player
        step, tr = p.step, p.trace
        show = p.active and tr is not None and image_view.has_positions(step)
        self.position_row.setVisible(show)
        if not show or tr is None or step is None:
            return
        rows, cols, channels = image_view.position_limits(tr, step)
        at = p.position or image_view.Position(0, 0, 0)
        what = image_view.POSITION_KINDS[step.kind]
        for name, n, v in (("row", rows, at.row), ("column", cols, at.col),
                           ("channel", channels, at.channel)):
            spin = self.position_spins[name]
            with QSignalBlocker(spin):
                spin.setRange(0, max(n - 1, 0))
                spin.setValue(v)
            spin.setVisible(name != "channel" or channels > 1)
        self.position_label.setText(f"Open a {what}:")
        self.summary_button.setEnabled(p.position is not None)
        where = "filter" if step.kind == "filter_grad" else "map"
        self.position_hint.setText("or click it on the canvas")
        self.position_hint.setToolTip(f"A click on a cell of {where} {step.map} on the canvas "
                                      f"opens that position")

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
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

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange()
        QTimer.singleShot(0, self._fit_formula)

    def _arrange(self) -> None:
        """Words beside the formula in a wide, short dock (the bottom of the window: 780
        pixels and more, as at 1400 x 900); words above the formula otherwise."""
        w, h = self.width(), self.height()
        wide = w >= 780 and w >= 2.2 * h
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
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.player.wants_preview = True
        if not self.player.training:
            self.player.ensure_trace()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.player.wants_preview = False

    def _fill_samples(self) -> None:
        ds = self.document.dataset
        blocker = QSignalBlocker(self.sample_combo)
        self.sample_combo.clear()
        n = len(ds) if ds is not None else 0
        self.sample_combo.addItem(f"Whole batch ({n} samples)", None)
        # an image is named by its shape, not by its pixels one by one
        images = [f"{img.name} " + " \u00d7 ".join(map(str, img.shape)) for img in ds.images] \
            if ds is not None else []
        first = ds.image_columns if ds is not None else 0
        for k in range(min(n, MAX_SAMPLE_CHOICES)):
            ins = ", ".join([*images, *(f"{name} = {tr_mod.num(v)}" for name, v in
                                        zip(ds.named_inputs, ds.X[k, first:], strict=True))])
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

    def _update_enabled(self, *args: object) -> None:
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

    def _fill_step_list(self, trace: tr_mod.Trace) -> None:
        """One row per step under its phase heading. The titles depend on the network's
        structure only, so after a parameter change the rows are kept and only their
        tooltips (the formulas with numbers) are renewed."""
        key = tuple((s.phase, s.title) for s in trace.steps)
        if key == self._list_key and self.step_list.count():
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

    def item_for_step(self, k: int) -> QListWidgetItem | None:
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
        self._show_position_row()
        step = p.shown_step
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
        item = self.item_for_step(step.index)
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
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if not c.ok:
                    item.setBackground(bad_brush)
                    item.setForeground(QBrush(QColor(style.REFUSED_HEX)))
                t.setItem(r, col, item)
        t.resizeColumnsToContents()
        t.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        bad = sum(1 for c in rows if not c.ok)
        which = (f"sample {p.trace.sample}" if p.trace.sample is not None else "the whole batch")
        self.check_summary.setText(
            f"All {len(rows)} gradients agree with the finite-difference estimate "
             f"({which})." if not bad else
             f"{bad} of {len(rows)} gradients disagree with the finite-difference estimate!")
        self.check_summary.setStyleSheet("" if not bad else f"color: {style.REFUSED_HEX};")
        self.check_rows = rows
        return rows
