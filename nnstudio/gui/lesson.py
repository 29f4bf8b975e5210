"""The lesson panel: the project's Markdown description, rendered, and editable (undoably)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import (
    QFont,
    QKeySequence,
    QShortcut,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:  # pragma: no cover  (the document never imports the panel)
    from nnstudio.gui.document import Document

LESSON_CSS = """
h1 { font-size: 14pt; margin-bottom: 6px; }
h2 { font-size: 12pt; margin-top: 12px; }
h3 { font-size: 11pt; }
code { background: #F2F2F2; }
"""


class LessonPanel(QWidget):
    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = document
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
        self.edit_button.setToolTip("Edit the lesson text (Markdown); saving it is one undo step")
        self.apply_button = QPushButton(st.standardIcon(QStyle.StandardPixmap.SP_DialogApplyButton),
                                        "Apply", self)
        self.apply_button.setToolTip("Apply the edited text to the project (Ctrl+Enter)")
        self.cancel_button = QPushButton(
            st.standardIcon(QStyle.StandardPixmap.SP_DialogCancelButton), "Cancel", self)
        self.cancel_button.setToolTip("Throw away the edits (Escape)")
        for b in (self.edit_button, self.apply_button, self.cancel_button):
            bar.addWidget(b)
        lay.addLayout(bar)

        self.stack = QStackedWidget(self)
        self.browser = QTextBrowser(self)
        self.browser.setObjectName("lesson_browser")
        self.browser.setOpenExternalLinks(True)
        self.browser.document().setDefaultStyleSheet(LESSON_CSS)
        self.browser.document().setDocumentMargin(10)
        self.browser.setToolTip("")
        self.editor = QPlainTextEdit(self)
        self.editor.setObjectName("lesson_editor")
        f = QFont("monospace")
        f.setStyleHint(QFont.StyleHint.TypeWriter)
        self.editor.setFont(f)
        self.editor.setPlaceholderText("# Title\n\nWrite the lesson in Markdown…")
        self.stack.addWidget(self.browser)
        self.stack.addWidget(self.editor)
        lay.addWidget(self.stack, 1)

        for keys, slot in (("Ctrl+Return", self.apply_edit), ("Ctrl+Enter", self.apply_edit),
                           ("Escape", self.cancel_edit)):
            sc = QShortcut(QKeySequence(keys), self.editor)
            sc.setContext(Qt.ShortcutContext.WidgetShortcut)
            sc.activated.connect(slot)
        self.edit_button.clicked.connect(self.start_edit)
        self.apply_button.clicked.connect(self.apply_edit)
        self.cancel_button.clicked.connect(self.cancel_edit)
        document.descriptionChanged.connect(self.refresh)
        document.projectReplaced.connect(self._replaced)
        self._show_mode(False)
        self.refresh()

    def _show_mode(self, editing: bool) -> None:
        self.stack.setCurrentIndex(1 if editing else 0)
        self.edit_button.setVisible(not editing)
        self.apply_button.setVisible(editing)
        self.cancel_button.setVisible(editing)

    @property
    def editing(self) -> bool:
        return self.stack.currentIndex() == 1

    def refresh(self) -> None:
        name = getattr(self.doc.project, "name", "") or "Untitled"
        self.heading.setText(name)
        self.heading.setToolTip(f"The project's name: {name}")
        text = self.doc.description \
            or "*This project has no lesson text yet. Press Edit to write one.*"
        bar = self.browser.verticalScrollBar().value()
        self.browser.setMarkdown(text)
        self._tidy_headings()
        self.browser.verticalScrollBar().setValue(bar)

    HEADING_SCALE = {1: 1.6, 2: 1.25, 3: 1.1}

    def _tidy_headings(self) -> None:
        """Markdown headings come out huge in a narrow dock: scale them to the body font."""
        doc = self.browser.document()
        base = self.browser.font().pointSizeF()
        if base <= 0:
            return
        block = doc.begin()
        while block.isValid():
            level = block.blockFormat().headingLevel()
            if level:
                cur = QTextCursor(block)
                cur.setPosition(block.position() + max(0, block.length() - 1),
                                QTextCursor.MoveMode.KeepAnchor)
                fmt = QTextCharFormat()
                fmt.setProperty(QTextFormat.Property.FontSizeAdjustment, 0)
                fmt.setFontPointSize(base * self.HEADING_SCALE.get(level, 1.0))
                fmt.setFontWeight(QFont.Weight.Bold)
                cur.mergeCharFormat(fmt)
                bf = block.blockFormat()
                bf.setTopMargin(10 if level > 1 else 2)
                bf.setBottomMargin(4)
                QTextCursor(block).setBlockFormat(bf)
            block = block.next()

    def _replaced(self) -> None:
        self._show_mode(False)
        self.refresh()
        self.browser.verticalScrollBar().setValue(0)

    def start_edit(self) -> None:
        self.editor.setPlainText(self.doc.description)
        self._show_mode(True)
        self.editor.setFocus()

    def apply_edit(self) -> None:
        try:
            self.doc.set_description(self.editor.toPlainText())
        except ValueError as e:
            self.doc.message(f"Not applied: {e}", 6000)
            return
        self._show_mode(False)
        self.refresh()

    def cancel_edit(self) -> None:
        self._show_mode(False)
