"""The desktop app (PySide6 + pyqtgraph): it drives nnstudio.core and shows what it computes.

PySide6-Essentials 6.12.0 is excluded in pyproject.toml: on CPython 3.11 its bindings drop a
reference to ``None`` on every void C++ call and to ``True`` on every ``Signal.emit``, and the
interpreter aborts after a few thousand calls ("Fatal Python error: none_dealloc").
tests/gui/test_binding_refcounts.py fails on any binding with that fault.
"""
