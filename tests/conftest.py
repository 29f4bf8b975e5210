"""Shared test set-up: Qt runs offscreen, no test may leave a thread running, and no test may
make pyqtgraph print an error (Qt's own warnings fail a test through pytest-qt's
``qt_log_level_fail``, in pyproject.toml)."""

import os
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NNSTUDIO_SETTINGS_DIR", os.path.join(
    os.environ.get("TMPDIR", "/tmp"), f"nnstudio-test-settings-{os.getpid()}"))

import sys

import pytest


@pytest.fixture(scope="session", autouse=True)
def _clear_clipboard_at_exit():
    """Qt's offscreen platform segfaults at interpreter exit when the clipboard still holds
    data a test put there (tests copy and paste neurons): empty it at the end of the session."""
    yield
    if "PySide6.QtWidgets" in sys.modules:
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        if app is not None:
            app.clipboard().clear()


@pytest.fixture(autouse=True)
def _no_thread_left_running():
    before = set(threading.enumerate())
    yield
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    for t in left:
        t.join(timeout=2.0)
    left = [t for t in left if t.is_alive()]
    assert not left, f"test left threads running: {left}"
    worker = sys.modules.get("nnstudio.gui.training.worker")
    if worker is not None:
        workers = worker.running_workers()
        for w in workers:
            w.wait(2000)
        workers = worker.running_workers()
        assert not workers, f"test left training threads (QThread) running: {workers}"


@pytest.fixture(autouse=True)
def _no_pyqtgraph_error_printed(monkeypatch):
    """pyqtgraph reports an exception inside its scene (a hover, a click, a paint) by printing
    it (``pyqtgraph.debug.printExc``) and carrying on: here that fails the test."""
    debug = sys.modules.get("pyqtgraph.debug")
    if debug is None:
        yield
        return
    printed: list[str] = []
    original = debug.printExc

    def record(msg="", indent=4, prefix="|"):
        printed.append(f"{msg}: {sys.exc_info()[1]!r}")
        original(msg, indent, prefix)

    monkeypatch.setattr(debug, "printExc", record)
    yield
    assert not printed, f"pyqtgraph printed errors: {printed}"
