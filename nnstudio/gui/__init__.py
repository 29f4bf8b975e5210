"""The desktop app (PySide6). Importing this package applies one binding workaround, below."""

import sys as _sys


def _immortalize_singletons() -> None:
    """Work around a reference-count bug in the PySide6 6.12 bindings on CPython < 3.12: every
    Python-side ``Signal.emit`` drops a reference to ``True`` and every call of a C++ method
    returning void (``setText``, ``QTimer.singleShot``, ``QUndoStack.undo``, ...) drops one to
    ``None``. After some thousands of calls the singleton's count reaches zero and the
    interpreter aborts ("Fatal Python error: none_dealloc"). CPython 3.12+ makes these
    singletons immortal; on older versions we give them a count that cannot run out."""
    if _sys.version_info >= (3, 12) or _sys.implementation.name != "cpython":
        return
    import ctypes

    for obj in (None, True, False):
        ref = ctypes.c_ssize_t.from_address(id(obj))
        if ref.value < (1 << 59):
            ref.value += 1 << 60


_immortalize_singletons()
