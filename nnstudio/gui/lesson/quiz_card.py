"""A quiz question in the lesson panel: the learner answers, presses Check, and reads whether it
was right and why.

Rules: the answer and the explanation are not in the widget tree before the first try (absent,
not hidden), so no tooltip or accessibility tool can read them early; a typed number that is not
a number is refused inline with the reason and counts as no try; each try is reported through
``answered(question key, correct)`` so the panel can keep the learner's progress. A malformed
quiz block is a :class:`ProblemBox` instead: the problem, the block's own text, and a button
that takes the author to the line at fault.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QMouseEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from nnstudio.core.lessons.quiz import Problem, Question, Verdict
from nnstudio.gui.style import REFUSED_HEX as ERROR_HEX

from .markdown_view import MarkdownView

RIGHT_HEX = "#2E7D32"
WRONG_HEX = "#C25400"


def _plain(markdown: str) -> str:
    """A choice's Markdown as button text: emphasis marks and code ticks dropped."""
    return markdown.replace("**", "").replace("`", "").replace("\n", " ")


class ChoiceLabel(QLabel):
    """A choice's text, wrapped to the panel's width; clicking it picks the choice."""

    def __init__(self, text: str, button: QAbstractButton, parent: QWidget) -> None:
        super().__init__(text, parent)
        self.button = button
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setMinimumWidth(60)

    def mousePressEvent(self, e: QMouseEvent) -> None:
        if self.button.isEnabled():
            self.button.click()
        e.accept()


class QuizCard(QFrame):
    """One question: choices (radio buttons, or check boxes for "pick all") or a number box,
    a Check button, then the verdict and the explanation."""

    answered = Signal(str, bool)     # (question key, correct)

    def __init__(self, question: Question, parent: QWidget | None = None,
                 answered_before: bool = False) -> None:
        super().__init__(parent)
        self.question = question
        self.setObjectName("quiz_card")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("#quiz_card { background: #F6F8FB; border: 1px solid #C9D2DE;"
                           " border-radius: 6px; }")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 8)
        lay.setSpacing(4)
        head = QLabel("Question" + (" ✓ answered before" if answered_before else ""))
        head.setStyleSheet("color: #5B6675; font-size: 8pt; font-weight: 600;")
        lay.addWidget(head)
        lay.addWidget(MarkdownView(question.text, self))
        self.buttons: list[QAbstractButton] = []
        self.number: QLineEdit | None = None
        self.input_error = QLabel("")
        self.input_error.setStyleSheet(f"color: {ERROR_HEX};")
        self.input_error.setWordWrap(True)
        self.input_error.hide()
        if question.kind == "number":
            self.number = QLineEdit(self)
            self.number.setObjectName("quiz_number")
            self.number.setPlaceholderText("Type a number (1/2 works too)")
            self.number.returnPressed.connect(self.check)
            self.number.textEdited.connect(lambda _t: self._clear_input_error())
            lay.addWidget(self.number)
            lay.addWidget(self.input_error)
        else:
            group = QButtonGroup(self)
            group.setExclusive(not question.multiple)
            for i, choice in enumerate(question.choices):
                b: QAbstractButton = (QCheckBox if question.multiple else QRadioButton)(self)
                b.setObjectName(f"quiz_choice_{i}")
                b.setAccessibleName(_plain(choice.text))
                group.addButton(b, i)
                row = QHBoxLayout()
                row.setSpacing(4)
                row.addWidget(b, 0, Qt.AlignmentFlag.AlignTop)
                row.addWidget(ChoiceLabel(_plain(choice.text), b, self), 1)
                lay.addLayout(row)
                self.buttons.append(b)
            if question.multiple:
                hint = QLabel("Pick every answer that applies.")
                hint.setStyleSheet("color: #5B6675; font-size: 8pt;")
                lay.addWidget(hint)
            lay.addWidget(self.input_error)
        row = QHBoxLayout()
        self.check_button = QPushButton("Check", self)
        self.check_button.setObjectName("quiz_check")
        self.check_button.setToolTip("Check your answer")
        self.check_button.clicked.connect(self.check)
        self.retry_button = QPushButton("Try again", self)
        self.retry_button.clicked.connect(self.try_again)
        self.retry_button.hide()
        self.reveal_button = QPushButton("Show the answer", self)
        self.reveal_button.clicked.connect(self.show_answer)
        self.reveal_button.hide()
        for b in (self.check_button, self.retry_button, self.reveal_button):
            row.addWidget(b)
        row.addStretch(1)
        lay.addLayout(row)
        self._lay = lay
        self.verdict: QLabel | None = None         # created at the first try
        self.explanation: MarkdownView | None = None
        self.answer: QLabel | None = None
        self.tries = 0

    # ------------------------------------------------------------------ trying
    def picked(self) -> list[int]:
        return [i for i, b in enumerate(self.buttons) if b.isChecked()]

    def check(self) -> Verdict | None:
        """Check the answer given; returns the verdict, or None when there is nothing to check
        (no choice picked, or text that is not a number: said inline)."""
        q = self.question
        if self.number is not None:
            try:
                verdict = q.check_text(self.number.text())
            except ValueError as e:
                self._show_input_error(str(e))
                return None
        else:
            if not self.picked():
                self._show_input_error("Pick an answer first.")
                return None
            verdict = q.check_choices(self.picked())
        self._clear_input_error()
        self.tries += 1
        self._show_verdict(verdict)
        self.answered.emit(q.key, verdict.correct)
        return verdict

    def _show_verdict(self, verdict: Verdict) -> None:
        if self.verdict is None:
            self.verdict = QLabel(self)
            self.verdict.setObjectName("quiz_verdict")
            self.verdict.setWordWrap(True)
            self._lay.addWidget(self.verdict)
        if self.explanation is None:
            self.explanation = MarkdownView(self.question.explanation, self)
            self.explanation.setObjectName("quiz_explanation")
            self._lay.addWidget(self.explanation)
        colour = RIGHT_HEX if verdict.correct else WRONG_HEX
        self.verdict.setStyleSheet(f"color: {colour}; font-weight: 600;")
        self.verdict.setText(verdict.message)
        self.verdict.show()
        self.explanation.show()
        self._set_inputs_enabled(False)
        self.check_button.hide()
        self.retry_button.setVisible(not verdict.correct)
        self.reveal_button.setVisible(not verdict.correct and self.answer is None)

    def try_again(self) -> None:
        for w in (self.verdict, self.explanation):
            if w is not None:
                w.hide()
        self._set_inputs_enabled(True)
        self.check_button.show()
        self.retry_button.hide()
        self.reveal_button.hide()

    def show_answer(self) -> None:
        """After a wrong try: say the right answer."""
        q = self.question
        if self.answer is None:
            if q.kind == "number":
                tol = f" ± {q.tolerance:g}" if q.tolerance else ""
                text = f"The answer: {q.answer:g}{tol}"
            else:
                right = [_plain(c.text) for c in q.choices if c.correct]
                text = "The answer: " + "; ".join(right)
            self.answer = QLabel(text, self)
            self.answer.setObjectName("quiz_answer")
            self.answer.setWordWrap(True)
            self.answer.setStyleSheet(f"color: {RIGHT_HEX};")
            self._lay.addWidget(self.answer)
        self.reveal_button.hide()

    def _set_inputs_enabled(self, on: bool) -> None:
        for b in self.buttons:
            b.setEnabled(on)
        if self.number is not None:
            self.number.setEnabled(on)

    def _show_input_error(self, text: str) -> None:
        self.input_error.setText(text)
        self.input_error.show()
        if self.number is not None:
            self.number.setStyleSheet(f"border: 1px solid {ERROR_HEX};")

    def _clear_input_error(self) -> None:
        self.input_error.hide()
        if self.number is not None:
            self.number.setStyleSheet("")


class ProblemBox(QFrame):
    """A malformed quiz block: what is wrong and where, and the block as written."""

    edit = Signal(int)       # the line at fault, for the editor

    def __init__(self, problem: Problem, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.problem = problem
        self.setObjectName("quiz_problem")
        self.setStyleSheet(f"#quiz_problem {{ border: 1px solid {ERROR_HEX};"
                           " border-radius: 6px; background: #FFF6F5; }")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 8)
        msg = QLabel(f"This quiz block cannot be shown: {problem}")
        msg.setObjectName("quiz_problem_message")
        msg.setWordWrap(True)
        msg.setStyleSheet(f"color: {ERROR_HEX}; font-weight: 600;")
        lay.addWidget(msg)
        src = QLabel(problem.source)
        f = QFont("monospace")
        f.setStyleHint(QFont.StyleHint.TypeWriter)
        src.setFont(f)
        src.setWordWrap(True)
        src.setTextFormat(Qt.TextFormat.PlainText)
        lay.addWidget(src)
        button = QPushButton("Edit this block", self)
        button.setToolTip(f"Open the lesson editor at line {problem.at}")
        button.clicked.connect(lambda: self.edit.emit(problem.at))
        row = QHBoxLayout()
        row.addWidget(button)
        row.addStretch(1)
        lay.addLayout(row)
