"""Fixtures shared by the GUI tests: a private settings folder, dialogs that never block, a
writable copy of the XOR lesson, and the main window on it."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import pytest
from PySide6.QtWidgets import QMessageBox

from nnstudio import paths
from nnstudio.gui import files


@pytest.fixture
def settings_dir(tmp_path, monkeypatch):
    d = tmp_path / "settings"
    monkeypatch.setenv("NNSTUDIO_SETTINGS_DIR", str(d))
    return d


@pytest.fixture
def dialogs(monkeypatch):
    """Every dialog replaced: records what would have been shown, answers as told."""
    rec = SimpleNamespace(errors=[], unsaved="discard", recover=True, save_path=None,
                          open_path=None, asked_unsaved=0, asked_recover=0)

    def ask_unsaved(parent, name):
        rec.asked_unsaved += 1
        return rec.unsaved

    def ask_recover(parent, info):
        rec.asked_recover += 1
        return rec.recover

    monkeypatch.setattr(files, "show_error", lambda parent, title, text: rec.errors.append(text))
    monkeypatch.setattr(files, "ask_unsaved", ask_unsaved)
    monkeypatch.setattr(files, "ask_recover", ask_recover)
    monkeypatch.setattr(files, "ask_save_path", lambda parent, suggested: rec.save_path)
    monkeypatch.setattr(files, "ask_open_path", lambda parent, d: rec.open_path)
    monkeypatch.setattr(files, "ask_fit_dataset", lambda parent, problem: False)

    def no_modal(*a, **k):
        raise AssertionError(f"a modal message box would block: {a[1:3]}")
    for name in ("critical", "warning", "question", "information"):
        monkeypatch.setattr(QMessageBox, name, no_modal)
    return rec


@pytest.fixture
def xor_path(tmp_path):
    p = tmp_path / "xor.nnproj"
    shutil.copy(paths.DEFAULT_SAMPLE, p)
    return p


@pytest.fixture
def window(qtbot, settings_dir, dialogs, xor_path):
    """The main window on a writable copy of the XOR lesson, shown."""
    from nnstudio.gui.app import create_window
    win, err = create_window(str(xor_path))
    assert err is None
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.document.undo_stack.setClean()
    win.close()
