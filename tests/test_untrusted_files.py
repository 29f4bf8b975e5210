"""Shared files are untrusted: no module of NN Studio evaluates or executes text (quiz and
challenge blocks included), unpickles anything, or opens the network; the one dynamic import
takes a name from the fixed list of subcommands. (Loading itself is held by the project and
lesson tests; this holds the whole package to never having the means.)"""

from __future__ import annotations

import re
from pathlib import Path

import nnstudio

PACKAGE = Path(nnstudio.__file__).parent
# a call of the builtins (not a method such as QDialog.exec or Engine.compile)
RUNS_TEXT = re.compile(r"(?<![.\w])(?<!def )(eval|exec|compile|__import__)\(")
MODULES = re.compile(r"^\s*(?:import|from)\s+(pickle|marshal|shelve|dill|urllib|http|socket|"
                     r"ftplib|requests|ctypes|subprocess|importlib)\b", re.MULTILINE)
ALLOWED = {("headless/runner.py", "importlib")}   # subcommand(name) for name in SUBCOMMANDS


def sources() -> list[tuple[str, str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 50
    return [(f.relative_to(PACKAGE).as_posix(), f.read_text(encoding="utf-8")) for f in files]


def test_no_module_evaluates_or_executes_text():
    found = [(name, m.group(0)) for name, text in sources() for m in RUNS_TEXT.finditer(text)]
    assert found == []


def test_no_module_unpickles_or_reaches_the_network():
    found = {(name, m.group(1)) for name, text in sources() for m in MODULES.finditer(text)}
    assert found <= ALLOWED, found - ALLOWED


def test_the_one_dynamic_import_takes_only_a_known_subcommand():
    from nnstudio.headless import SUBCOMMANDS, runner
    text = (PACKAGE / "headless/runner.py").read_text(encoding="utf-8")
    assert text.count("importlib.import_module(") == 1
    assert all(runner.subcommand(name).__name__.endswith(name) for name in SUBCOMMANDS)
