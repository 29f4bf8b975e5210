"""The course page (Help ▸ Lessons, and the first start): every shipped lesson in the suggested
order, each with a picture of its network, a one-line summary and the learner's progress.

The order and the summaries are data (``nnstudio.samples.course``); the question and goal
counts come from each lesson's own text (:func:`~nnstudio.core.lessons.parse_lesson`) and
challenges, the progress from the settings (what the lesson panel recorded). Open opens the
lesson as an untitled copy, as File ▸ Open Sample does. The page only reads; a sample that
fails to load is listed with its message and no Open button.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from nnstudio import paths
from nnstudio.core.lessons.quiz import parse_lesson
from nnstudio.core.network import Network
from nnstudio.core.project import ProjectError, load
from nnstudio.gui import style
from nnstudio.samples import course

if TYPE_CHECKING:  # pragma: no cover
    from nnstudio.gui.settings import Settings

THUMB_W, THUMB_H = 150, 94
ROLE_FILL = {"input": "#DDE7F3", "hidden": "#FFFFFF", "output": "#E5F1E8"}


@dataclass(frozen=True)
class CourseEntry:
    """One lesson of the course as the page shows it."""

    name: str
    path: Path
    title: str
    summary: str
    questions: int
    goals: int
    answered: int             # questions answered right
    met: int                  # goals met
    network: Network | None
    error: str | None = None

    @property
    def done(self) -> float:
        total = self.questions + self.goals
        return (self.answered + self.met) / total if total else 0.0

    def progress_text(self) -> str:
        return (f"{self.answered} of {self.questions} questions · "
                f"{self.met} of {self.goals} challenge{'s' if self.goals != 1 else ''}")


def entries(settings: Settings | None) -> list[CourseEntry]:
    """The course in order, with each lesson's counts and the learner's progress."""
    out = []
    for name, summary in course.COURSE:
        path = paths.SAMPLES / f"{name}.nnproj"
        try:
            proj = load(path)
        except ProjectError as e:
            out.append(CourseEntry(name, path, name, summary, 0, 0, 0, 0, None, str(e)))
            continue
        keys = {q.key for q in parse_lesson(proj.description).questions}
        goals = {g.id for g in proj.challenges.goals} if proj.challenges else set()
        prog = settings.lesson_progress(name) if settings is not None else \
            {"questions": {}, "goals": {}}
        answered = sum(1 for k, v in prog["questions"].items() if v == "right" and k in keys)
        met = sum(1 for k in prog["goals"] if k in goals)
        out.append(CourseEntry(name, path, proj.name, summary, len(keys), len(goals), answered,
                               met, proj.network))
    return out


def thumbnail(network: Network, w: int = THUMB_W, h: int = THUMB_H) -> QPixmap:
    """A small picture of the network: its neurons where the canvas puts them, connections
    coloured by the sign of their weight."""
    pm = QPixmap(w, h)
    pm.fill(QColor(style.BACKGROUND_HEX))
    neurons = list(network.neurons.values())
    if not neurons:
        return pm
    xs = [n.x for n in neurons]
    ys = [n.y for n in neurons]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    pad = 9.0
    sx = (w - 2 * pad) / (x1 - x0) if x1 > x0 else 0.0
    sy = (h - 2 * pad) / (y1 - y0) if y1 > y0 else 0.0
    s = min(v for v in (sx, sy) if v > 0) if (sx > 0 or sy > 0) else 1.0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2

    def at(x: float, y: float) -> QPointF:
        return QPointF(w / 2 + (x - cx) * s, h / 2 + (y - cy) * s)

    r = max(2.5, min(7.0, 0.22 * s * 60))
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    for c in network.connections.values():
        a, b = network.neurons[c.source], network.neurons[c.target]
        weight = network.get_param(c.id)
        col = QColor(style.POSITIVE_HEX if weight >= 0 else style.NEGATIVE_HEX)
        col.setAlpha(150)
        p.setPen(QPen(col, 1.0))
        p.drawLine(at(a.x, a.y), at(b.x, b.y))
    for n in neurons:
        p.setPen(QPen(QColor("#59606C"), 1.0))
        p.setBrush(QColor(ROLE_FILL.get(n.role, "#FFFFFF")))
        c = at(n.x, n.y)
        p.drawEllipse(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r))
    p.end()
    return pm


class LessonCard(QFrame):
    """One lesson: its picture, title, summary, progress and an Open button."""

    def __init__(self, number: int, entry: CourseEntry, open_lesson: Callable[[Path], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entry = entry
        self.setObjectName("course_card")
        self.setStyleSheet("#course_card { background: #FFFFFF; border: 1px solid #D5DAE1;"
                           " border-radius: 6px; }")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(10)
        pic = QLabel(self)
        pic.setObjectName("course_thumbnail")
        pic.setFixedSize(THUMB_W, THUMB_H)
        if entry.network is not None:
            pic.setPixmap(thumbnail(entry.network))
        lay.addWidget(pic)
        text = QVBoxLayout()
        text.setSpacing(2)
        title = QLabel(f"{number}. {entry.title}", self)
        title.setStyleSheet("font-weight: 700; color: #2B3240;")
        text.addWidget(title)
        summary = QLabel(entry.error or entry.summary, self)
        summary.setWordWrap(True)
        if entry.error:
            summary.setStyleSheet(f"color: {style.REFUSED_HEX};")
        text.addWidget(summary)
        self.progress_label = QLabel(entry.progress_text(), self)
        self.progress_label.setObjectName("course_progress")
        self.progress_label.setStyleSheet("color: #5B6675; font-size: 8pt;")
        text.addWidget(self.progress_label)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 100)
        self.bar.setValue(round(100 * entry.done))
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(6)
        text.addWidget(self.bar)
        text.addStretch(1)
        lay.addLayout(text, 1)
        self.open_button = QPushButton("Open", self)
        self.open_button.setToolTip(f"Open the lesson {entry.path.name} as a new, untitled copy")
        self.open_button.setEnabled(entry.error is None)
        self.open_button.clicked.connect(lambda: open_lesson(entry.path))
        lay.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignVCenter)


class CoursePage(QDialog):
    """Help ▸ Lessons: the course, one card per lesson; Open closes the page."""

    def __init__(self, settings: Settings | None, open_lesson: Callable[[Path], None],
                 parent: QWidget | None = None, guide: Callable[[], None] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("course_page")
        self.setWindowTitle("Lessons")
        self._open_lesson = open_lesson
        lay = QVBoxLayout(self)
        intro = QLabel("The lessons in a suggested order: each builds on the ones before. Your "
                       "answers and the challenges you meet are kept between sessions.", self)
        intro.setWordWrap(True)
        lay.addWidget(intro)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        host = QWidget()
        hl = QVBoxLayout(host)
        hl.setSpacing(6)
        self.entries = entries(settings)
        self.cards = [LessonCard(i + 1, e, self._open, host) for i, e in enumerate(self.entries)]
        for card in self.cards:
            hl.addWidget(card)
        hl.addStretch(1)
        scroll.setWidget(host)
        lay.addWidget(scroll, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        if guide is not None:
            b = buttons.addButton("Getting started…", QDialogButtonBox.ButtonRole.HelpRole)
            b.clicked.connect(guide)
        lay.addWidget(buttons)
        self.resize(640, 660)

    def _open(self, path: Path) -> None:
        self.accept()
        self._open_lesson(path)
