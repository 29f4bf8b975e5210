"""The challenge checklist: one row per goal of the lesson, ticked live as the learner meets it.

Rules: it only reads the document. It re-checks after every change that can move a result
(``evaluationChanged``: parameter and structural edits, data, settings, and each training
snapshot the window applies), coalescing a burst of notices into one check through a
single-shot timer: at once when idle, at most every :data:`TRAINING_INTERVAL_MS` while training
runs, so the check never slows training (benchmarks/responsiveness.py). It passes the window's
engine to the checker so a structural edit compiles one engine, not two. A goal that becomes
met flashes its row and is reported through ``goalMet``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from nnstudio.core.lessons.checker import Checker, GoalResult
from nnstudio.core.lessons.goals import Challenges

from .quiz_card import RIGHT_HEX

if TYPE_CHECKING:  # pragma: no cover
    from nnstudio.gui.document import Document

TRAINING_INTERVAL_MS = 100
FLASH_MS = 900
MET, NOT_MET = "\u2714", "\u25cb"       # ✔ ○


class GoalRow:
    """The widgets of one goal: its tick, its text and the reason under it."""

    def __init__(self, grid: QGridLayout, row: int, text: str, parent: QWidget) -> None:
        self.tick = QLabel(NOT_MET, parent)
        self.tick.setObjectName("goal_tick")
        self.text = QLabel(text, parent)
        self.text.setWordWrap(True)
        self.reason = QLabel("", parent)
        self.reason.setObjectName("goal_reason")
        self.reason.setWordWrap(True)
        self.reason.setStyleSheet("color: #6B7480; font-size: 8pt;")
        grid.addWidget(self.tick, 2 * row, 0)
        grid.addWidget(self.text, 2 * row, 1)
        grid.addWidget(self.reason, 2 * row + 1, 1)
        self.met: bool | None = None

    def show(self, result: GoalResult) -> None:
        self.met = result.passed
        self.tick.setText(MET if result.passed else NOT_MET)
        self.tick.setStyleSheet(f"color: {RIGHT_HEX if result.passed else '#9AA2AD'};"
                                " font-size: 12pt; font-weight: 700;")
        self.reason.setText(result.reason)

    def flash(self, on: bool) -> None:
        self.text.setStyleSheet("background: #DFF3E0; font-weight: 600;" if on else "")


class Checklist(QFrame):
    """The lesson's goals as a checklist, hidden when the project has none."""

    goalMet = Signal(str, str, bool)     # (goal id, text, newly met by an edit): on each change
                                         # to met, including goals met when the lesson opens

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = document
        self.setObjectName("challenge_checklist")
        self.setStyleSheet("#challenge_checklist { background: #F3F7F2; border: 1px solid "
                           "#C7D6C5; border-radius: 6px; }")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 8)
        lay.setSpacing(4)
        self.title = QLabel("Challenges", self)
        self.title.setStyleSheet("font-weight: 700; color: #33502F;")
        lay.addWidget(self.title)
        self._grid_host = QWidget(self)
        lay.addWidget(self._grid_host)
        self.rows: list[GoalRow] = []
        self.results: list[GoalResult] = []
        self.checks = 0                    # checks run (the tests and benchmarks read it)
        self._checker: Checker | None = None
        self._challenges: Challenges | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.check_now)
        document.evaluationChanged.connect(self.schedule)
        document.challengesChanged.connect(self.rebuild)
        document.projectReplaced.connect(self.rebuild)
        self.rebuild()

    def rebuild(self) -> None:
        """New rows for the project's challenges (a new project, or edited goals)."""
        ch = self.doc.challenges
        self._challenges = ch
        self._checker = Checker(ch) if ch is not None else None
        old = self._grid_host
        self._grid_host = QWidget(self)
        grid = QGridLayout(self._grid_host)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(1)
        grid.setColumnStretch(1, 1)
        lay = self.layout()
        lay.replaceWidget(old, self._grid_host)
        old.hide()           # gone at once, deleted when control returns to the event loop
        old.deleteLater()
        self.rows = [GoalRow(grid, i, g.text, self._grid_host)
                     for i, g in enumerate(ch.goals)] if ch is not None else []
        self.results = []
        self.setVisible(ch is not None)
        if ch is not None:
            self.check_now(announce=False)

    def schedule(self) -> None:
        """Check soon: one check for a burst of notices, throttled while training runs."""
        if self._checker is None or self._timer.isActive():
            return
        self._timer.start(TRAINING_INTERVAL_MS if self.doc.training_active else 0)

    def check_now(self, announce: bool = True) -> list[GoalResult]:
        if self._checker is None or self.doc.challenges is not self._challenges:
            return []
        try:
            engine = self.doc.engine()
        except ValueError:           # a network that does not compile: the goals say why
            engine = None
        results = self._checker.check(self.doc.project, engine)
        self.checks += 1
        met = 0
        for row, res in zip(self.rows, results, strict=True):
            was = row.met
            row.show(res)
            met += res.passed
            if res.passed and not was:
                news = announce and was is False
                if news:
                    self._flash(row)
                self.goalMet.emit(res.goal.id, res.goal.text, news)
        self.title.setText(f"Challenges: {met} of {len(results)} met")
        self.results = results
        return results

    def _flash(self, row: GoalRow) -> None:
        row.flash(True)
        QTimer.singleShot(FLASH_MS, self, lambda: row.flash(False))
