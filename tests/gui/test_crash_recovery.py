"""Crash recovery with real processes: a real ``nnstudio`` is edited through its test hook,
killed with SIGKILL, started again, and gives the edit back; killed again right after
recovering, it still loses nothing (the recovered session autosaves at once)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nnstudio import paths
from nnstudio.core import project

XOR = paths.SAMPLES / "xor.nnproj"
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


class App:
    """One real nnstudio process with the test hook on."""

    def __init__(self, tmp: Path, name: str):
        self.commands = tmp / f"{name}.commands"
        self.commands.write_text("")
        self.done = Path(f"{self.commands}.done")
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", NNSTUDIO_SETTINGS_DIR=str(tmp),
                   NNSTUDIO_TEST_HOOK=str(self.commands))
        self.proc = subprocess.Popen([sys.executable, "-m", "nnstudio", str(XOR)], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.sent = 0

    def ask(self, line: str, timeout: float = 60.0) -> str:
        with open(self.commands, "a", encoding="utf-8") as f:
            f.write(line + "\n")
        self.sent += 1
        answer = wait_for(lambda: self._answer(self.sent), timeout, f"an answer to {line!r}",
                          self.proc)
        assert not answer.startswith("error"), answer
        return answer

    def _answer(self, number: int) -> str | None:
        try:
            for row in self.done.read_text(encoding="utf-8").splitlines():
                n, _, result = row.partition(" ")
                if n == str(number):
                    return result
        except OSError:
            pass
        return None

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)


def wait_for(condition, timeout: float, what: str, proc=None):
    """Poll ``condition`` until it returns something truthy (a condition, not a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"nnstudio exited ({proc.returncode}) before {what}: "
                                 f"{proc.stderr.read().decode(errors='replace')[-2000:]}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def recovered_value(tmp: Path, pid: int, pid_param: str) -> float | None:
    path = tmp / f"recovery-{pid}.nnproj"
    try:
        return project.load(path).network.get_param(pid_param)
    except (project.ProjectError, KeyError):
        return None


def test_an_edit_survives_two_crashes_in_a_row(tmp_path):
    (tmp_path / "nnstudio.ini").write_text("[files]\nautosave_seconds=0.5\n"
                                           "[app]\nstarted_before=true\n")
    param = next(iter(project.load(XOR).network.connections))
    value = 0.123456789
    a = App(tmp_path, "a")
    try:
        assert float(a.ask(f"report {param}")) != value
        a.ask(f"param {param} {value}")
        # the autosave (every 0.5 s here) holds the edit: then the crash
        wait_for(lambda: recovered_value(tmp_path, a.proc.pid, param) == value, 30,
                 "the autosave of the edit", a.proc)
    finally:
        a.kill()
    t0 = time.monotonic()
    b = App(tmp_path, "b")
    try:
        assert float(b.ask(f"report {param}")) == value   # recovered
        took = time.monotonic() - t0
        assert "(lesson copy)" in b.ask("title")
        # the recovered session's own autosave is already there, and the old one is gone
        assert recovered_value(tmp_path, b.proc.pid, param) == value
        assert not (tmp_path / f"recovery-{a.proc.pid}.nnproj").exists()
    finally:
        b.kill()  # a second crash, at once
    c = App(tmp_path, "c")
    try:
        assert float(c.ask(f"report {param}")) == value
        assert "(lesson copy)" in c.ask("title")
    finally:
        c.kill()
    print(f"killed, restarted and recovered in {took:.1f} s")
