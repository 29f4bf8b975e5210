"""Help ▸ Getting Started: what to do first, in six short steps with pictures of the window.

The guide is a window of its own (not modal: the user follows it in the main window beside it).
Its text and pictures are NN Studio's own (``resources/guide/*.png``, screenshots of the real
window); it shows no file's text, follows no link (a "lessons" link opens Help ▸ Lessons through
the ``open_lessons`` callback) and loads nothing from the web.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QImageReader
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from nnstudio import paths

GUIDE_DIR = paths.resource("guide")
MAX_PICTURE_W = 660   # pixels: the guide window's text width

#: (title, what to do, picture file in resources/guide or "")
STEPS: tuple[tuple[str, str, str], ...] = (
    ("Start from a lesson",
     "Help ▸ Lessons lists the lessons in order (File ▸ Open Sample has them too). Each opens "
     "as an untitled copy with its text in the Lesson panel on the left: read it, and do what "
     "its \"What to watch\" says.", ""),
    ("Or build a network yourself",
     "File ▸ New starts with an empty canvas (File ▸ New from Template offers ready ones). "
     "Drag an <b>Input</b>, a <b>Hidden</b> and an <b>Output</b> neuron from the Palette onto "
     "the canvas; drag from a neuron's right-hand port to another neuron to connect them. The "
     "chips under Input (x1², sin x1, ...) add inputs computed from the data.", "palette.png"),
    ("Pick the data",
     "Click a picture in the Dataset panel: two circles, XOR, gaussians, a spiral, or a curve "
     "to fit. Drag the Noise slider to make it harder, the Validation slider to hold rows out "
     "for testing.", "picker.png"),
    ("Press Train",
     "<b>Train</b> runs until the target epochs (press again to pause); <b>Step</b> takes one "
     "optimizer step, <b>Reset</b> starts again from the seed and <b>Randomize</b> tries new "
     "starting weights. The second row holds the learning rate, optimizer, batch size, loss "
     "and regularization.", "toolbar.png"),
    ("Watch it learn",
     "Every neuron shows its own picture of the input plane (orange low, blue high); the "
     "Output pane shows the chosen neuron's map behind the data, with its decision line. The "
     "Loss pane shows the loss falling.", "canvas.png"),
    ("See why",
     "Click a neuron or a connection: the Inspector shows its numbers and lets you edit them. "
     "Backprop ▸ Step Through Backpropagation walks one training step with the real numbers; "
     "the Loss landscape shows the loss over the selected weight. Every change is undoable "
     "(Ctrl+Z).", "output.png"),
)


def guide_html() -> str:
    """The guide as HTML (pictures by file name, found in :data:`GUIDE_DIR`)."""
    parts = ["<h2 style='margin-bottom:4px'>Getting started with NN Studio</h2>",
             "<p style='color:#555'>Six steps; the <a href='nnstudio:lessons'>lessons</a> "
             "take it from there.</p>"]
    for k, (title, text, picture) in enumerate(STEPS, start=1):
        parts.append(f"<h3 style='margin-bottom:2px'>{k}. {title}</h3><p>{text}</p>")
        if picture:   # (wide pictures scaled to the window's text width)
            w = QImageReader(str(GUIDE_DIR / picture)).size().width()
            size = f" width='{MAX_PICTURE_W}'" if w > MAX_PICTURE_W else ""
            parts.append(f"<p><img src='{picture}'{size}></p>")
    return "".join(parts)


class GettingStarted(QDialog):
    """The guide's window. ``open_lessons``: what the "lessons" link does (Help ▸ Lessons)."""

    def __init__(self, parent: QWidget | None = None,
                 open_lessons: Callable[[], object] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gettingStarted")
        self.setWindowTitle("Getting Started — NN Studio")
        self.setModal(False)
        self._open_lessons = open_lessons
        lay = QVBoxLayout(self)
        self.browser = QTextBrowser(self)
        self.browser.setOpenLinks(False)         # (links are ours: handled in _link)
        self.browser.setSearchPaths([str(GUIDE_DIR)])
        self.browser.setHtml(guide_html())
        self.browser.anchorClicked.connect(self._link)
        lay.addWidget(self.browser)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        lay.addWidget(buttons)
        self.resize(720, 640)

    def _link(self, url: QUrl) -> None:
        if url.toString() == "nnstudio:lessons" and self._open_lessons is not None:
            self._open_lessons()

    def pictures_found(self) -> bool:
        """Every step's picture is shipped (the guide is not shown with holes)."""
        return all((GUIDE_DIR / p).is_file() for _, _, p in STEPS if p)


def show_getting_started(parent: QWidget, open_lessons: Callable[[], object] | None = None
                         ) -> GettingStarted:
    """Open the guide beside the window (a new one each time; it deletes itself on close)."""
    dlg = GettingStarted(parent, open_lessons)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.show()
    return dlg
