"""The user's settings (recent files, window layout, view toggles, lesson progress), stored with
QSettings.

Everything lives in one INI file in :func:`settings_dir`, which is the per-user config folder, or
``$NNSTUDIO_SETTINGS_DIR`` when that is set (the tests set it so that they never touch the user's
real settings). The autosave recovery file lives in the same folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QStandardPaths

MAX_RECENT = 10
AUTOSAVE_SECONDS = 30.0


def settings_dir() -> Path:
    env = os.environ.get("NNSTUDIO_SETTINGS_DIR")
    if env:
        d = Path(env)
    else:
        base = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.GenericConfigLocation)
        d = Path(base or Path.home() / ".config") / "nnstudio"
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # a read-only home: keep working, remember nothing across sessions
        import sys
        import tempfile
        fallback = Path(tempfile.gettempdir()) / f"nnstudio-settings-{os.getuid()}"
        print(f"nnstudio: cannot use the settings folder {d} ({e.strerror or e}); "
              f"using {fallback}", file=sys.stderr)
        fallback.mkdir(parents=True, exist_ok=True)
        d = fallback
    return d


class Settings:
    """A thin typed wrapper over one QSettings INI file."""

    def __init__(self, directory: str | Path | None = None):
        self.dir = Path(directory) if directory is not None else settings_dir()
        if directory is not None:
            self.dir.mkdir(parents=True, exist_ok=True)
        self.q = QSettings(str(self.dir / "nnstudio.ini"), QSettings.Format.IniFormat)

    # generic
    def value(self, key: str, default: object = None) -> Any:
        return self.q.value(key, default)

    def set_value(self, key: str, value: object) -> None:
        self.q.setValue(key, value)

    def bool(self, key: str, default: bool = False) -> bool:
        v = self.q.value(key, default)
        if isinstance(v, str):
            return v.lower() in ("1", "true", "yes", "on")
        return bool(v)

    def sync(self) -> None:
        self.q.sync()

    # autosave
    def autosave_seconds(self) -> float:
        """Seconds between autosaves of unsaved work (``files/autosave_seconds``; default
        :data:`AUTOSAVE_SECONDS`, at least 0.2, at most a day; a bad value gives the
        default)."""
        v = self.q.value("files/autosave_seconds", AUTOSAVE_SECONDS)
        try:
            seconds = float(v)
        except (TypeError, ValueError):
            return AUTOSAVE_SECONDS
        if not 0.2 <= seconds <= 86_400:  # (NaN fails too)
            return AUTOSAVE_SECONDS
        return seconds

    def set_autosave_seconds(self, seconds: float) -> None:
        self.q.setValue("files/autosave_seconds", float(seconds))

    # recent files
    def recent_files(self) -> list[str]:
        v = self.q.value("files/recent", [])
        if isinstance(v, str):
            v = [v] if v else []
        return [str(p) for p in (v or [])][:MAX_RECENT]

    def add_recent(self, path: str | Path) -> None:
        p = str(Path(path).resolve())
        items = [x for x in self.recent_files() if x != p]
        self.q.setValue("files/recent", [p, *items][:MAX_RECENT])
        self.q.setValue("files/last", p)

    def remove_recent(self, path: str | Path) -> None:
        p = str(path)
        self.q.setValue("files/recent", [x for x in self.recent_files() if x != p])

    def clear_recent(self) -> None:
        self.q.setValue("files/recent", [])

    def last_project(self) -> str | None:
        v = self.q.value("files/last", "")
        return str(v) if v else None

    def set_last_project(self, path: str | Path | None) -> None:
        self.q.setValue("files/last", str(Path(path).resolve()) if path else "")

    def first_run(self) -> bool:
        return not self.bool("app/started_before", False)

    def mark_started(self) -> None:
        self.q.setValue("app/started_before", True)

    # lesson progress: lessons/<lesson key>/questions/<question key> = "right" or "tried",
    # lessons/<lesson key>/goals/<goal id> = "met" (kept once reached)
    @staticmethod
    def _lesson_group(lesson: str) -> str:
        return "lessons/" + lesson.replace("/", "|").replace("\\", "|")

    def lesson_progress(self, lesson: str) -> dict[str, dict[str, str]]:
        """{"questions": {question key: "right"/"tried"}, "goals": {goal id: "met"}}."""
        out: dict[str, dict[str, str]] = {"questions": {}, "goals": {}}
        for part in out:
            self.q.beginGroup(f"{self._lesson_group(lesson)}/{part}")
            try:
                for k in self.q.childKeys():
                    out[part][k] = str(self.q.value(k, ""))
            finally:
                self.q.endGroup()
        return out

    def record_answer(self, lesson: str, question: str, correct: bool) -> None:
        """A try at a question; once answered right it stays right."""
        key = f"{self._lesson_group(lesson)}/questions/{question}"
        if self.q.value(key, "") != "right":
            self.q.setValue(key, "right" if correct else "tried")

    def record_goal(self, lesson: str, goal: str) -> None:
        self.q.setValue(f"{self._lesson_group(lesson)}/goals/{goal}", "met")

    # the recovery files: one pair per running process, so two windows never overwrite
    # each other's autosave
    def recovery_paths(self, pid: int | None = None) -> tuple[Path, Path]:
        pid = os.getpid() if pid is None else pid
        return self.dir / f"recovery-{pid}.nnproj", self.dir / f"recovery-{pid}.json"

    @property
    def recovery_path(self) -> Path:
        return self.recovery_paths()[0]

    @property
    def recovery_info_path(self) -> Path:
        return self.recovery_paths()[1]

    def recovery_pids(self) -> list[int]:
        out = []
        for p in self.dir.glob("recovery-*.nnproj"):
            try:
                out.append(int(p.stem.split("-", 1)[1]))
            except ValueError:
                continue
        return out
