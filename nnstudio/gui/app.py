"""Start-up: the QApplication and the main window.

``nnstudio`` opens the last project (or samples/xor.nnproj at the first run); ``nnstudio FILE``
opens FILE (a project, or an ONNX model as an untitled project). A file that fails to load shows
the loader's message once the window is up, and the window falls back to the default sample (or
a new project). Unsaved work from a session that crashed is offered back (Recover / Discard).

The window paints first with the editor (canvas, palette, inspector, lesson); the training,
plot and backprop panels are installed right after that first paint, into placeholder docks
that already sit where they belong. With ``NNSTUDIO_STARTUP_PROBE=PATH`` set, the app writes
two wall-clock times to PATH, the main window's first paint and the first paint after every
panel is installed, and quits: ``benchmarks/startup.py`` turns them into start-up figures.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget

if TYPE_CHECKING:
    from nnstudio.core.project import Project
    from nnstudio.gui.main_window import MainWindow
    from nnstudio.gui.settings import Settings


class _FirstPaint(QObject):
    """Calls ``callback`` once, on the watched widget's first paint event."""

    def __init__(self, widget: QWidget, callback: Callable[[], None]):
        super().__init__(widget)
        self._cb = callback
        widget.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self._cb is not None:
            cb, self._cb = self._cb, None
            obj.removeEventFilter(self)
            QTimer.singleShot(0, cb)
        return False


def _startup_project(path: str | None, settings: Settings
                     ) -> tuple[Project, Path | None, str | None, Path | None]:
    """(project, path-or-None, error message or None, the sample it copies or None) for the
    start-up file."""
    from nnstudio import paths
    from nnstudio.core.project import new_project
    from nnstudio.gui.files import read_file

    errors = []
    candidates: list[tuple[Path, bool]] = []
    if path is not None:
        candidates.append((Path(path), False))
    else:
        last = settings.last_project()
        if last:
            candidates.append((Path(last), False))
    candidates.append((paths.DEFAULT_SAMPLE, True))
    for p, fallback in candidates:
        if fallback and not p.exists():
            continue
        try:  # a shipped lesson or an ONNX model opens as an untitled copy
            opened = read_file(p)
        except ValueError as e:
            errors.append(f"Cannot open {p}:\n\n{e}")
            continue
        return opened.project, opened.path, (errors[0] if errors else None), opened.sample
    return new_project(), None, (errors[0] if errors else None), None


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        QApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts, True)
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("NN Studio")
    app.setOrganizationName("NN Studio")
    app.setApplicationDisplayName("NN Studio")
    app.setDesktopFileName("nnstudio")
    if app.platformName() == "offscreen":
        # Qt's offscreen platform crashes at exit if the clipboard still holds data we set
        # (the xcb platform hands it to the clipboard manager instead): let it go first.
        app.aboutToQuit.connect(app.clipboard().clear)
    from PySide6.QtGui import QIcon

    from nnstudio import paths
    icon = paths.RESOURCES / "icons" / "nnstudio.svg"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    return app


def create_window(path: str | None = None, *, settings: Settings | None = None,
                  defer_parts: bool = False) -> tuple[MainWindow, str | None]:
    """Build the document and main window for ``path`` (see the module docstring). Returns
    (window, startup error message or None). The caller shows the window."""
    from nnstudio.gui.document import Document
    from nnstudio.gui.main_window import MainWindow
    from nnstudio.gui.settings import Settings

    settings = settings if settings is not None else Settings()
    proj, proj_path, error, sample = _startup_project(path, settings)
    doc = Document(proj, proj_path)
    if proj_path is None and sample is not None:
        doc.source_sample = sample
    window = MainWindow(doc, settings, defer_parts=defer_parts)
    if proj_path is not None:
        settings.add_recent(proj_path)
    return window, error


def show_course_on_first_start(window: MainWindow) -> bool:
    """The lessons page, once: at the first start (settings key ``course/seen``)."""
    if window.settings.bool("course/seen", False):
        return False
    window.settings.set_value("course/seen", True)
    window.show_course()
    return True


def _after_show(window: MainWindow, error: str | None, offer_recovery: bool) -> None:
    from nnstudio.gui import files as files_mod
    from nnstudio.gui import test_hook

    if os.environ.get(test_hook.ENV):  # tests driving the real app from outside only
        test_hook.answer_dialogs()
    if error:
        files_mod.show_error(window, "Cannot open project",
                             error + "\n\nNN Studio opened "
                             + (str(window.document.path) if window.document.path
                                else f"“{window.document.name}”") + " instead.")
    if offer_recovery:
        window.files.offer_recovery()
    show_course_on_first_start(window)
    window.settings.mark_started()
    window.canvas_view.fit()
    window.test_hook = test_hook.install(window)


def run_app(path: str | None = None) -> int:
    probe = os.environ.get("NNSTUDIO_STARTUP_PROBE")
    app = make_app()
    window, error = create_window(path, defer_parts=True)
    times: list[float] = []

    def first_paint() -> None:
        times.append(time.time())
        window.install_parts()       # training, plots, backprop: right after the first paint
        if probe:
            _FirstPaint(window.canvas_view.viewport(), ready)
            window.update()
            window.canvas_view.viewport().update()
        else:
            _after_show(window, error, True)

    def ready() -> None:
        times.append(time.time())
        Path(probe).write_text("".join(f"{t:.6f}\n" for t in times))
        app.exit(0)

    _FirstPaint(window, first_paint)
    if window.dock_layout.restored_geometry:
        window.show()
    else:
        window.showMaximized()
    code = app.exec()
    # tear the window down while the application still exists (leaving it to interpreter
    # shutdown destroys Qt objects in an arbitrary order and can crash on exit)
    window.hide()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.processEvents()
    return code
