"""A hook for tests that drive the real app from another process: off unless the environment
variable ``NNSTUDIO_TEST_HOOK`` names a file.

With it set, the running app (after its start-up, recovery offer included) answers every
dialog without showing it (Recover, Discard unsaved changes, errors go to stderr) and reads
commands that the test appends to that file, one per line, checking for new ones every 50 ms:

    param PID VALUE      set parameter PID (a weight or a bias) through the document: an edit
                         with its undo step, exactly as the inspector makes it
    report PID           write PID's current value
    title                write the window title
    autosave             autosave now

After each command it appends ``<line number> <result>`` to ``FILE.done`` (the result of
``report`` is the value, of the others ``ok``, or ``error: message``), so the test can wait
for it. Nothing here runs, and nothing reads the variable, unless the variable is set; it reads
only the file the variable names, and never evaluates what it reads.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

if TYPE_CHECKING:
    from nnstudio.gui.main_window import MainWindow

ENV = "NNSTUDIO_TEST_HOOK"


def answer_dialogs() -> None:
    """Replace the file dialogs' questions with fixed answers (see the module docstring)."""
    from nnstudio.gui import files

    files.ask_recover = lambda *a, **k: True
    files.ask_unsaved = lambda *a, **k: "discard"
    files.show_error = lambda parent, title, text: print(f"{title}: {text}", file=sys.stderr)


class CommandFile(QObject):
    """Polls the command file and runs each new line against the window's document."""

    def __init__(self, window: MainWindow, path: Path):
        super().__init__(window)
        self.window = window
        self.path = path
        self.done_path = Path(f"{path}.done")
        self.seen = 0
        self.timer = QTimer(self)
        self.timer.setInterval(50)
        self.timer.timeout.connect(self.poll)
        self.timer.start()

    def poll(self) -> None:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return
        for number in range(self.seen, len(lines)):
            self.seen = number + 1
            result = self.run(lines[number].split())
            with open(self.done_path, "a", encoding="utf-8") as f:
                f.write(f"{number + 1} {result}\n")

    def run(self, words: list[str]) -> str:
        doc = self.window.document
        try:
            if words[:1] == ["param"] and len(words) == 3:
                doc.set_param(words[1], float(words[2]))
                return "ok"
            if words[:1] == ["report"] and len(words) == 2:
                return repr(doc.network.get_param(words[1]))
            if words == ["title"]:
                return self.window.windowTitle()
            if words == ["autosave"]:
                return "ok" if self.window.files.autosave() else "error: nothing autosaved"
            return f"error: unknown command {' '.join(words)[:60]!r}"
        except (ValueError, KeyError) as e:
            return f"error: {e}"


def install(window: MainWindow) -> CommandFile | None:
    """Start reading commands if the hook is on (call once the window is up)."""
    name = os.environ.get(ENV)
    if not name:
        return None
    return CommandFile(window, Path(name))
