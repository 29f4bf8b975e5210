"""One piece of lesson Markdown, rendered: a read-only text view as tall as its text, that loads
only the shipped lesson pictures and explains the glossary's terms.

Rules (lesson text comes from strangers): a picture is shown only when the text names a shipped
one as ``nnstudio:NAME`` (a file in resources/lessons/); every other resource the text names,
a path on disk or an address on the web, is never loaded. A link is never followed inside the
view (a ``file:`` link shows nothing and opens nothing); an http(s) or mailto link opens in the
system browser only after the user confirms the address (:func:`ask_open_link`). The first
mention of each glossary term (:mod:`nnstudio.core.lessons.glossary`) gets a dotted underline
and the term's definition as its tooltip. A shipped picture is drawn to fit the narrow dock;
a click on it opens it large (:class:`PictureWindow`), with its alternative text as the title.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPointF, QSize, Qt, QUrl
from PySide6.QtGui import (
    QDesktopServices,
    QFont,
    QImage,
    QPainter,
    QPixmap,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QLabel,
    QMessageBox,
    QSizePolicy,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from nnstudio import paths
from nnstudio.core.lessons.glossary import first_terms
from nnstudio.core.messages import one_line

LESSON_CSS = """
h1 { font-size: 14pt; margin-bottom: 6px; }
h2 { font-size: 12pt; margin-top: 12px; }
h3 { font-size: 11pt; }
code { background: #F2F2F2; }
"""
PICTURE_SCHEME = "nnstudio"
PICTURE_WIDTH = 320            # px: a shipped picture is shown this wide (or the view's width)
PICTURE_PIXELS = 2 * PICTURE_WIDTH   # and rendered this wide, so it stays sharp when scaled
LARGE_PICTURE_WIDTH = 900      # px: a picture opened by a click is shown this wide (at most)
HEADING_SCALE = {1: 1.6, 2: 1.25, 3: 1.1}
EXTERNAL_SCHEMES = ("http", "https", "mailto")


def ask_open_link(parent: QWidget | None, url: QUrl) -> bool:
    """Ask before a lesson's web link opens in the browser: the address in full (clipped),
    as plain text; No is the default."""
    box = QMessageBox(QMessageBox.Icon.Question, "Open a link?",
                      f"This lesson links to\n\n{one_line(url.toString(), 200)}\n\n"
                      "Open it in your web browser?",
                      QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Cancel,
                      parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    return QMessageBox.StandardButton(box.exec()) == QMessageBox.StandardButton.Open


def picture_path(url: QUrl) -> Path | None:
    """The shipped picture a ``nnstudio:NAME`` address names, or None for anything else."""
    if url.scheme() != PICTURE_SCHEME:
        return None
    name = url.path()
    folder = paths.resource("lessons")
    path = folder / name
    if "/" in name or "\\" in name or not name or path.parent != folder or not path.is_file():
        return None
    return path


def render_picture(path: Path, width: int) -> QImage:
    """An SVG (or PNG) picture drawn ``width`` pixels wide, keeping its proportions."""
    if path.suffix.lower() == ".svg":
        svg = QSvgRenderer(str(path))
        size = svg.defaultSize()
        if size.isEmpty():
            size = QSize(width, width // 2)
        h = max(1, round(width * size.height() / size.width()))
        img = QImage(width, h, QImage.Format.Format_ARGB32_Premultiplied)
        img.fill(Qt.GlobalColor.white)
        p = QPainter(img)
        svg.render(p)
        p.end()
        return img
    img = QImage(str(path))
    return img.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)


class PictureWindow(QDialog):
    """A shipped lesson picture, large: what a click on it in the narrow lesson dock opens."""

    def __init__(self, path: Path, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(one_line(title, 80) or path.stem)
        self.setObjectName("lesson_picture")
        screen = parent.screen().availableGeometry().width() if parent is not None else 1200
        width = max(200, min(LARGE_PICTURE_WIDTH, screen - 80))
        self.label = QLabel(self)
        self.label.setPixmap(QPixmap.fromImage(render_picture(path, width)))
        self.label.setAccessibleName(self.windowTitle())
        lay = QVBoxLayout(self)
        lay.addWidget(self.label)


class MarkdownView(QTextBrowser):
    """Read-only Markdown as tall as its text (the lesson's scroll area scrolls, not this)."""

    def __init__(self, markdown: str = "", parent: QWidget | None = None,
                 glossary_seen: set[str] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lesson_text")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setOpenLinks(False)
        self.anchorClicked.connect(self._open_link)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.viewport().setAutoFillBackground(False)
        self.setStyleSheet("QTextBrowser { background: transparent; }")
        doc = self.document()
        doc.setDefaultStyleSheet(LESSON_CSS)
        doc.setDocumentMargin(4)
        doc.contentsChanged.connect(self._fit_height)
        self.loaded: list[str] = []          # every resource the text asked for (tests read it)
        self.picture_window: PictureWindow | None = None   # the picture opened last
        self.glossary: list[tuple[str, str]] = []   # (term as written, definition) underlined
        self._seen = glossary_seen if glossary_seen is not None else set()
        self.set_markdown(markdown)

    # ------------------------------------------------------------------ content
    def set_markdown(self, markdown: str) -> None:
        self.loaded.clear()
        self.setMarkdown(markdown)
        self._tidy_headings()
        self._mark_glossary()
        self._fit_height()

    def loadResource(self, kind: int, name: QUrl) -> Any:
        """Only the shipped pictures: nothing the text names is read from disk or the web."""
        self.loaded.append(name.toString())
        if kind != QTextDocument.ResourceType.ImageResource.value:
            return None
        path = picture_path(name)
        if path is None:
            return None
        return render_picture(path, PICTURE_PIXELS)

    def picture_at(self, pos: QPointF) -> tuple[Path, str] | None:
        """The shipped picture drawn at ``pos`` (viewport coordinates) and its alternative
        text, or None."""
        doc = self.document()
        offset = QPointF(self.horizontalScrollBar().value(), self.verticalScrollBar().value())
        layout = doc.documentLayout()
        name = layout.imageAt(pos + offset)
        if not name:
            return None
        path = picture_path(QUrl(name))
        if path is None:
            return None
        fmt = layout.formatAt(pos + offset)
        alt = fmt.property(QTextFormat.Property.ImageAltText) \
            or fmt.property(QTextFormat.Property.ImageTitle) or ""
        return path, str(alt)

    def open_picture(self, path: Path, title: str) -> PictureWindow:
        """Show ``path`` large in its own window (one at a time)."""
        if self.picture_window is not None:
            self.picture_window.close()
        win = self.picture_window = PictureWindow(path, title, self.window())
        win.show()
        return win

    def mouseMoveEvent(self, e: Any) -> None:
        super().mouseMoveEvent(e)
        over = self.picture_at(e.position()) is not None
        self.viewport().setCursor(Qt.CursorShape.PointingHandCursor if over
                                  else Qt.CursorShape.ArrowCursor)
        self.setToolTip("Click to see the picture large" if over else "")

    def mouseReleaseEvent(self, e: Any) -> None:
        super().mouseReleaseEvent(e)
        if e.button() == Qt.MouseButton.LeftButton:
            hit = self.picture_at(e.position())
            if hit is not None:
                self.open_picture(*hit)

    def _open_link(self, url: QUrl) -> None:
        if url.scheme() in EXTERNAL_SCHEMES and ask_open_link(self.window(), url):
            QDesktopServices.openUrl(url)

    def _tidy_headings(self) -> None:
        """Markdown headings come out huge in a narrow dock: scale them to the body font."""
        doc = self.document()
        base = self.font().pointSizeF()
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
                fmt.setFontPointSize(base * HEADING_SCALE.get(level, 1.0))
                fmt.setFontWeight(QFont.Weight.Bold)
                cur.mergeCharFormat(fmt)
                bf = block.blockFormat()
                bf.setTopMargin(10 if level > 1 else 2)
                bf.setBottomMargin(4)
                QTextCursor(block).setBlockFormat(bf)
            block = block.next()

    def _mark_glossary(self) -> None:
        """A dotted underline and a tooltip on the first mention of each glossary term (in the
        rendered text, so positions are the document's; code stays as it is)."""
        self.glossary.clear()
        doc = self.document()
        for m in first_terms(doc.toPlainText(), already=self._seen):
            cur = QTextCursor(doc)
            cur.setPosition(m.start)
            cur.setPosition(m.end, QTextCursor.MoveMode.KeepAnchor)
            fmt = cur.charFormat()
            if fmt.fontFixedPitch() or fmt.isAnchor() or fmt.fontFamilies() and any(
                    "mono" in f.lower() for f in fmt.fontFamilies()):
                continue
            mark = QTextCharFormat()
            mark.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
            mark.setToolTip(m.definition)
            cur.mergeCharFormat(mark)
            self._seen.add(m.definition)
            self.glossary.append((m.term, m.definition))

    # ------------------------------------------------------------------ size
    def _fit_pictures(self, width: int) -> None:
        """Every picture as wide as :data:`PICTURE_WIDTH`, or the view when that is narrower."""
        doc = self.document()
        block = doc.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                frag = it.fragment()
                fmt = frag.charFormat()
                if fmt.isImageFormat():
                    img = fmt.toImageFormat()
                    w = float(min(PICTURE_WIDTH, max(80, width - 16)))
                    if abs(img.width() - w) > 0.5:
                        ratio = 0.5
                        res = doc.resource(QTextDocument.ResourceType.ImageResource.value,
                                           QUrl(img.name()))
                        if isinstance(res, QImage) and not res.isNull():
                            ratio = res.height() / res.width()
                        img.setWidth(w)
                        img.setHeight(w * ratio)
                        cur = QTextCursor(doc)
                        cur.setPosition(frag.position())
                        cur.setPosition(frag.position() + frag.length(),
                                        QTextCursor.MoveMode.KeepAnchor)
                        cur.setCharFormat(img)
                it += 1
            block = block.next()

    def _fit_height(self) -> None:
        doc = self.document()
        self._fit_pictures(self.viewport().width())
        doc.setTextWidth(max(50, self.viewport().width()))
        h = int(doc.size().height()) + 2 * self.frameWidth() + 2
        if self.height() != h:
            self.setFixedHeight(h)

    def resizeEvent(self, e: Any) -> None:
        super().resizeEvent(e)
        self._fit_height()

    def sizeHint(self) -> QSize:
        return QSize(200, self.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(80, self.height())
