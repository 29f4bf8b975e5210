"""The lesson panel: the challenge checklist, the lesson's Markdown with its quizzes as questions
to answer, and the editor for the text and the challenges (each apply one undo step).

Rules: the panel changes the project only through the document (``set_description``,
``set_challenges``). The read view is rebuilt from :func:`~nnstudio.core.lessons.parse_lesson`
only when the text or the project changes; a malformed quiz block is shown as a problem in
place and never refused. Edited challenges are checked exactly as a file's are
(``project.parse`` then ``validate_challenges``); a refused edit shows the reason under the
editor and changes nothing. The learner's answers and met goals are recorded in the settings
(:class:`~nnstudio.gui.settings.Settings`, key :func:`lesson_key`) when the panel has them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nnstudio import paths
from nnstudio.core.lessons.goals import Challenges, Original
from nnstudio.core.lessons.quiz import Lesson, Problem, Question, parse_lesson
from nnstudio.core.project import ProjectError, parse
from nnstudio.core.project.challenges_section import validate_challenges
from nnstudio.gui.style import REFUSED_HEX

from .checklist import Checklist
from .markdown_view import MarkdownView
from .quiz_card import ProblemBox, QuizCard

if TYPE_CHECKING:  # pragma: no cover  (the document never imports the panel)
    from nnstudio.gui.document import Document
    from nnstudio.gui.settings import Settings

EMPTY_LESSON = "*This project has no lesson text yet. Press Edit to write one.*"


def lesson_key(document: Document) -> str | None:
    """Whose progress this is: a shipped lesson by its name (opened as a copy or from the
    samples folder), another saved project by its absolute path, an untitled one: nobody's."""
    if document.source_sample is not None:
        return document.source_sample.stem
    if document.path is None:
        return None
    path = Path(document.path).resolve()
    if path.parent == paths.SAMPLES.resolve():
        return path.stem
    return str(path)


def challenges_text(ch: Challenges | None) -> str:
    """The section as the editor shows it: one goal per line, like the saved file."""
    if ch is None:
        return ""
    d = ch.to_dict()
    goals = ",\n    ".join(json.dumps(g, ensure_ascii=False) for g in d["goals"])
    text = '{\n  "goals": [\n    ' + goals + "\n  ]"
    if "original" in d:
        text += ',\n  "original": ' + json.dumps(d["original"], ensure_ascii=False)
    return text + "\n}\n"


class LessonPanel(QWidget):
    def __init__(self, document: Document, parent: QWidget | None = None,
                 settings: Settings | None = None) -> None:
        super().__init__(parent)
        self.doc = document
        self.settings = settings
        self.setObjectName("lesson")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(6)

        bar = QHBoxLayout()
        self.heading = QLabel(self)
        self.heading.setObjectName("lesson_heading")
        self.heading.setStyleSheet("font-weight: 600; color: #3A4150;")
        self.heading.setToolTip("The project's name")
        # a long lesson title wraps onto a second line instead of being cut off by the button
        self.heading.setWordWrap(True)
        self.heading.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar.addWidget(self.heading, 1)
        st = self.style()
        self.edit_button = QPushButton(
            st.standardIcon(QStyle.StandardPixmap.SP_FileDialogDetailedView), "Edit", self)
        self.edit_button.setToolTip("Edit the lesson text (Markdown) and its challenges; "
                                    "applying them is one undo step")
        self.apply_button = QPushButton(st.standardIcon(QStyle.StandardPixmap.SP_DialogApplyButton),
                                        "Apply", self)
        self.apply_button.setToolTip("Apply the edited text or challenges (Ctrl+Enter)")
        self.cancel_button = QPushButton(
            st.standardIcon(QStyle.StandardPixmap.SP_DialogCancelButton), "Cancel", self)
        self.cancel_button.setToolTip("Throw away the edits (Escape)")
        for b in (self.edit_button, self.apply_button, self.cancel_button):
            bar.addWidget(b)
        lay.addLayout(bar)

        self.stack = QStackedWidget(self)
        # the read view: the checklist, then the lesson's parts in order
        self.scroll = QScrollArea(self)
        self.scroll.setObjectName("lesson_read")
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.page = QWidget()
        self.page.setObjectName("lesson_page")
        self.page_lay = QVBoxLayout(self.page)
        self.page_lay.setContentsMargins(2, 2, 2, 2)
        self.page_lay.setSpacing(8)
        self.checklist = Checklist(document, self.page)
        self.checklist.goalMet.connect(self._goal_met)
        self.page_lay.addWidget(self.checklist)
        self.parts_host = QWidget(self.page)
        self.page_lay.addWidget(self.parts_host)
        self.page_lay.addStretch(1)
        self.scroll.setWidget(self.page)
        # the editor: the Markdown, and the challenges as JSON
        self.tabs = QTabWidget(self)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.TypeWriter)
        self.editor = QPlainTextEdit(self)
        self.editor.setObjectName("lesson_editor")
        self.editor.setFont(mono)
        self.editor.setPlaceholderText("# Title\n\nWrite the lesson in Markdown…")
        self.tabs.addTab(self.editor, "Text")
        goals_page = QWidget(self)
        gl = QVBoxLayout(goals_page)
        gl.setContentsMargins(0, 4, 0, 0)
        self.challenges_editor = QPlainTextEdit(goals_page)
        self.challenges_editor.setObjectName("challenges_editor")
        self.challenges_editor.setFont(mono)
        self.challenges_editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.challenges_editor.setPlaceholderText(
            '{"goals": [{"id": "small", "require": [{"kind": "loss", "loss": "mse", '
            '"below": 0.01}]}]}\n\n(the format is in docs/file-format.md; empty: no challenges)')
        self.challenges_error = QLabel("", goals_page)
        self.challenges_error.setObjectName("challenges_error")
        self.challenges_error.setWordWrap(True)
        self.challenges_error.setStyleSheet(f"color: {REFUSED_HEX};")
        self.challenges_error.hide()
        self.use_network_button = QPushButton("Use this network as the lesson's start",
                                              goals_page)
        self.use_network_button.setToolTip(
            "Store the network as it is now as the lesson's original, which 'changed only' "
            "goals compare with (one undo step)")
        self.use_network_button.clicked.connect(self.use_network_as_original)
        gl.addWidget(self.challenges_editor, 1)
        gl.addWidget(self.challenges_error)
        gl.addWidget(self.use_network_button)
        self.tabs.addTab(goals_page, "Challenges")
        self.stack.addWidget(self.scroll)
        self.stack.addWidget(self.tabs)
        lay.addWidget(self.stack, 1)

        for target in (self.editor, self.challenges_editor):
            for keys, slot in (("Ctrl+Return", self.apply_edit), ("Ctrl+Enter", self.apply_edit),
                               ("Escape", self.cancel_edit)):
                sc = QShortcut(QKeySequence(keys), target)
                sc.setContext(Qt.ShortcutContext.WidgetShortcut)
                sc.activated.connect(slot)
        self.edit_button.clicked.connect(self.start_edit)
        self.apply_button.clicked.connect(self.apply_edit)
        self.cancel_button.clicked.connect(self.cancel_edit)
        document.descriptionChanged.connect(self.refresh)
        document.projectReplaced.connect(self._replaced)
        self.lesson: Lesson = parse_lesson("")
        self.cards: list[QuizCard] = []
        self.problem_boxes: list[ProblemBox] = []
        self.texts: list[MarkdownView] = []
        self._show_mode(False)
        self.refresh()

    # ------------------------------------------------------------------ modes
    def _show_mode(self, editing: bool) -> None:
        self.stack.setCurrentIndex(1 if editing else 0)
        self.edit_button.setVisible(not editing)
        self.apply_button.setVisible(editing)
        self.cancel_button.setVisible(editing)

    @property
    def editing(self) -> bool:
        return self.stack.currentIndex() == 1

    # ------------------------------------------------------------------ the read view
    def refresh(self) -> None:
        name = getattr(self.doc.project, "name", "") or "Untitled"
        self.heading.setText(name)
        self.heading.setToolTip(f"The project's name: {name}")
        bar = self.scroll.verticalScrollBar().value()
        self._build_parts(self.doc.description or EMPTY_LESSON)
        self.scroll.verticalScrollBar().setValue(bar)

    def _build_parts(self, text: str) -> None:
        """One widget per part of the lesson: Markdown, a question, or a problem."""
        self.lesson = parse_lesson(text)
        old = self.parts_host
        host = QWidget(self.page)
        host.setObjectName("lesson_parts")
        pl = QVBoxLayout(host)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.setSpacing(8)
        self.cards, self.problem_boxes, self.texts = [], [], []
        answered = self._progress()["questions"]
        seen: set[str] = set()
        for part in self.lesson.parts:
            if isinstance(part, Question):
                card = QuizCard(part, host, answered_before=answered.get(part.key) == "right")
                card.answered.connect(self._answered)
                self.cards.append(card)
                pl.addWidget(card)
            elif isinstance(part, Problem):
                box = ProblemBox(part, host)
                box.edit.connect(self.edit_at_line)
                self.problem_boxes.append(box)
                pl.addWidget(box)
            elif part.text.strip():
                view = MarkdownView(part.text, host, glossary_seen=seen)
                self.texts.append(view)
                pl.addWidget(view)
        self.page_lay.replaceWidget(old, host)
        old.hide()
        old.deleteLater()
        self.parts_host = host

    def read_text(self) -> str:
        """The read view's text as shown (Markdown parts, questions and problems in order)."""
        out = []
        for w in self.parts_host.findChildren(QWidget):
            if isinstance(w, MarkdownView) and w.parent() is self.parts_host:
                out.append(w.toPlainText())
        return "\n".join(out)

    def _replaced(self) -> None:
        self._show_mode(False)
        self.refresh()
        self.scroll.verticalScrollBar().setValue(0)

    # ------------------------------------------------------------------ progress
    def _progress(self) -> dict[str, dict[str, str]]:
        key = lesson_key(self.doc)
        if self.settings is None or key is None:
            return {"questions": {}, "goals": {}}
        return self.settings.lesson_progress(key)

    def _answered(self, question_key: str, correct: bool) -> None:
        key = lesson_key(self.doc)
        if self.settings is not None and key is not None:
            self.settings.record_answer(key, question_key, correct)

    def _goal_met(self, goal_id: str, text: str, news: bool) -> None:
        key = lesson_key(self.doc)
        if self.settings is not None and key is not None:
            self.settings.record_goal(key, goal_id)
        if news:
            self.doc.message(f"Goal met: {text}", 6000)

    # ------------------------------------------------------------------ editing
    def start_edit(self) -> None:
        self.editor.setPlainText(self.doc.description)
        self.challenges_editor.setPlainText(challenges_text(self.doc.challenges))
        self.challenges_error.hide()
        self._show_mode(True)
        self.tabs.setCurrentIndex(0)
        self.editor.setFocus()

    def edit_at_line(self, line: int) -> None:
        """Open the text editor with the cursor on ``line`` (1-based): a problem's place."""
        self.start_edit()
        block = self.editor.document().findBlockByLineNumber(max(0, line - 1))
        cur = QTextCursor(block)
        self.editor.setTextCursor(cur)
        self.editor.centerCursor()

    def apply_edit(self) -> None:
        """Apply the text, and the challenges if they changed; a refused edit changes
        nothing and says why."""
        try:
            challenges = self._edited_challenges()
        except ProjectError as e:
            self.tabs.setCurrentIndex(1)
            self.challenges_error.setText(f"Not applied: {e}")
            self.challenges_error.show()
            return
        text = self.editor.toPlainText()
        both = text != self.doc.description and challenges != self.doc.challenges
        stack = self.doc.undo_stack
        if both:
            stack.beginMacro("Edit lesson text and challenges")
        try:
            self.doc.set_description(text)
            self.doc.set_challenges(challenges)
        except ValueError as e:
            self.doc.message(f"Not applied: {e}", 6000)
            return
        finally:
            if both:
                stack.endMacro()
        self._show_mode(False)
        self.refresh()

    def _edited_challenges(self) -> Challenges | None:
        text = self.challenges_editor.toPlainText()
        if text == challenges_text(self.doc.challenges):
            return self.doc.challenges
        if not text.strip():
            return None
        return validate_challenges(parse(text))

    def use_network_as_original(self) -> None:
        """The network as it is now becomes the lesson's start (``original``)."""
        try:
            current = self._edited_challenges()
        except ProjectError as e:
            self.challenges_error.setText(f"Fix the challenges first: {e}")
            self.challenges_error.show()
            return
        if current is None:
            self.challenges_error.setText("Write a goal first: the lesson has no challenges.")
            self.challenges_error.show()
            return
        doc = current.to_dict()
        doc["original"] = Original.of(self.doc.network).to_dict()
        self.challenges_editor.setPlainText(challenges_text(validate_challenges(doc)))
        self.challenges_error.hide()

    def cancel_edit(self) -> None:
        self._show_mode(False)
