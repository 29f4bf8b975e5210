"""The installed PySide6 must not leak or drop references to None/True on ordinary calls.

PySide6-Essentials 6.12.0 drops one on every void call and every Signal.emit, which aborts the
interpreter after a few thousand calls in a long session; pyproject.toml excludes it, and this
test fails on any binding with that fault.
"""

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel


class _Emitter(QObject):
    fired = Signal(object)


def test_void_calls_and_emits_keep_singleton_refcounts(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    e = _Emitter()
    e.fired.connect(lambda v: None)
    for _ in range(100):  # warm up caches
        e.fired.emit(1)
        label.setText("x")
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(2000):
        e.fired.emit(1)
        label.setText("x")
    assert abs(sys.getrefcount(None) - none_before) < 50
    assert abs(sys.getrefcount(True) - true_before) < 50
