"""``nnstudio check FILE... [--against LESSON] [--json]``: grade projects against a lesson's goals.

Each FILE is a project, or a folder whose ``*.nnproj`` files (sorted by name, not recursive)
are each graded: a teacher grades a folder of submitted projects in one call. Every project is
checked against its own ``challenges`` section, or, with ``--against LESSON.nnproj``, against
that lesson's (a learner can edit a file's challenges; a teacher grades against the lesson
handed out). The checking is :class:`nnstudio.core.lessons.checker.Checker`'s; this module only
finds the files and reports:

    samples/xor.nnproj
      FAIL  Train the network until the MSE is below 0.01: MSE 0.255 — needs < 0.01
    0 of 2 goals met

and, for more than one project, a last line "3 of 5 projects meet every goal". ``--json``
prints ``[{"file", "goals": [{"id", "text", "passed", "reason"}], "error"}]`` instead.

Exit codes: 0 when every goal of every project is met; 1 when any goal is not; 2 when any
project could not be graded (it does not load, or has no challenges and there is no
``--against``) — that project is reported on stderr, the others are still graded — or when
the arguments are bad (no such file, a folder without projects, a lesson that does not load).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nnstudio.core.lessons.checker import Checker, GoalResult
from nnstudio.core.lessons.goals import Challenges
from nnstudio.core.project import SUFFIX

from .common import PROG, InputError, load_project, one_line


def add_parser(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("check", help="check projects against their lesson's goals",
                       exit_on_error=False)
    c.add_argument("files", nargs="+", metavar="FILE",
                   help="a .nnproj project file, or a folder of them")
    c.add_argument("--against", metavar="LESSON",
                   help="grade against this lesson's challenges instead of each file's own")
    c.add_argument("--json", action="store_true", help="print the results as JSON")


@dataclass(frozen=True)
class Graded:
    """One project's grade: its goals' results, or why it could not be graded."""

    file: str
    results: tuple[GoalResult, ...] = ()
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and all(r.passed for r in self.results)

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file,
                "goals": [{"id": r.goal.id, "text": r.goal.text, "passed": r.passed,
                           "reason": r.reason} for r in self.results],
                "error": self.error}


def project_files(names: list[str]) -> list[str]:
    """The project files named: each name a file, or a folder's ``*.nnproj`` sorted by name."""
    files: list[str] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix == SUFFIX and p.is_file())
            if not found:
                raise InputError(f"{name}: the folder holds no {SUFFIX} files")
            files += [str(p) for p in found]
        elif path.exists():
            files.append(name)
        else:
            raise InputError(f"{name}: no such file or folder")
    return files


def lesson_challenges(path: str) -> Challenges:
    """The challenges of the lesson named by ``--against``."""
    lesson = load_project(path)
    if lesson.challenges is None:
        raise InputError(f"{path}: the lesson has no challenges to check against")
    return lesson.challenges


def grade(file: str, checker: Checker | None) -> Graded:
    """One project checked against ``checker``, or against its own challenges when None."""
    try:
        proj = load_project(file)
    except InputError as e:
        return Graded(file, error=str(e))
    if checker is None:
        if proj.challenges is None:
            return Graded(file, error=f"{file}: the project has no challenges; "
                                      "grade it with --against LESSON.nnproj")
        checker = Checker(proj.challenges)
    return Graded(file, tuple(checker.check(proj)))


def report(graded: list[Graded]) -> str:
    """The plain-text report: each project's goals, then a count of the projects that pass."""
    lines: list[str] = []
    for g in graded:
        if g.error is not None:
            continue
        lines.append(g.file)
        lines += [f"  {r.line()}" for r in g.results]
        met = sum(r.passed for r in g.results)
        lines.append(f"{met} of {len(g.results)} goal{'s' if len(g.results) != 1 else ''} met")
    if len(graded) > 1:
        ok = sum(g.passed for g in graded)
        verb = "meets" if ok == 1 else "meet"
        lines.append(f"{ok} of {len(graded)} projects {verb} every goal")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    files = project_files(args.files)
    shared = Checker(lesson_challenges(args.against)) if args.against else None
    graded = [grade(f, shared) for f in files]
    for g in graded:
        if g.error is not None:
            print(f"{PROG} check: {one_line(g.error)}", file=sys.stderr)
    if args.json:
        print(json.dumps([g.to_json() for g in graded], ensure_ascii=False, indent=1))
    else:
        text = report(graded)
        if text:
            print(text)
    if any(g.error is not None for g in graded):
        return 2
    return 0 if all(g.passed for g in graded) else 1
