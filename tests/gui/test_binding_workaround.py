"""The PySide6 reference-count workaround in nnstudio.gui keeps long sessions alive."""

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel

import nnstudio.gui  # noqa: F401  (applies the workaround)


class _Emitter(QObject):
    fired = Signal(object)


def test_many_emits_and_void_calls_do_not_exhaust_singletons(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    e = _Emitter()
    e.fired.connect(lambda v: None)
    n = max(sys.getrefcount(None), sys.getrefcount(True), 100_000) + 10_000
    n = min(n, 300_000)
    for _ in range(n):  # without the workaround this aborts the interpreter
        e.fired.emit(None)
        label.setText("x")
    assert sys.getrefcount(None) > 0 and sys.getrefcount(True) > 0
