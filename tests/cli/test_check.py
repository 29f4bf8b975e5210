"""``nnstudio check``: every shipped lesson fails fresh and passes solved, folders are graded,
``--against`` ignores a file's own challenges, and bad input exits 2 naming the file."""

from __future__ import annotations

import json
import shutil

import pytest

from nnstudio import paths
from nnstudio.core import project
from nnstudio.core.project.challenges_section import validate_challenges
from nnstudio.headless import runner
from nnstudio.samples import build_samples
from tests.cli.test_cli import cli
from tests.core.test_lesson_checks import solved

NAMES = list(build_samples.BUILDERS)


def check(capsys, *args: str) -> tuple[int, str, str]:
    code = runner.run(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def sample(name: str) -> str:
    return str(paths.SAMPLES / f"{name}.nnproj")


@pytest.mark.parametrize("name", NAMES)
def test_every_fresh_lesson_fails_with_one_line_per_goal(capsys, name):
    code, out, err = check(capsys, sample(name))
    goals = project.load(sample(name)).challenges.goals
    lines = out.splitlines()
    assert code == 1 and err == ""
    assert lines[0] == sample(name)
    assert len(lines) == len(goals) + 2
    for line, goal in zip(lines[1:-1], goals, strict=True):
        assert line.startswith(f"  FAIL  {goal.text}: ")
    assert lines[-1] == f"0 of {len(goals)} goal{'s' if len(goals) > 1 else ''} met"


@pytest.mark.parametrize("name", NAMES)
def test_a_solved_copy_passes(capsys, tmp_path, name):
    path = tmp_path / f"{name}.nnproj"
    project.save(solved(name), path)
    code, out, _ = check(capsys, str(path))
    n = len(project.load(path).challenges.goals)
    assert code == 0, out
    assert "FAIL" not in out and out.count("\n  pass  ") == n
    assert out.splitlines()[-1] == f"{n} of {n} goal{'s' if n > 1 else ''} met"


def test_a_folder_of_submissions(capsys, tmp_path):
    project.save(solved("perceptron-and"), tmp_path / "ada.nnproj")
    shutil.copy(sample("perceptron-and"), tmp_path / "bob.nnproj")
    (tmp_path / "notes.txt").write_text("not a project")
    code, out, _ = check(capsys, str(tmp_path))
    lines = out.splitlines()
    assert code == 1
    assert lines[0] == str(tmp_path / "ada.nnproj") and lines[1].startswith("  pass  ")
    assert lines[3] == str(tmp_path / "bob.nnproj") and lines[4].startswith("  FAIL  ")
    assert lines[-1] == "1 of 2 projects meets every goal"


def test_against_grades_by_the_lesson_not_the_files_own_goals(capsys, tmp_path):
    cheat = project.load(sample("perceptron-and"))      # unsolved, with its goal made trivial
    cheat.challenges = validate_challenges(
        {"goals": [{"id": "nothing", "require": [{"kind": "count", "of": "rows",
                                                  "at_least": 1}]}]})
    path = tmp_path / "cheat.nnproj"
    project.save(cheat, path)
    assert check(capsys, str(path))[0] == 0
    code, out, _ = check(capsys, str(path), "--against", sample("perceptron-and"))
    assert code == 1 and "FAIL  Make the perceptron compute OR" in out


def test_json(capsys, tmp_path):
    code, out, _ = check(capsys, sample("xor"), "--json")
    (doc,) = json.loads(out)
    assert code == 1 and doc["file"] == sample("xor") and doc["error"] is None
    assert [g["id"] for g in doc["goals"]] == ["learn-xor", "two-hidden"]
    assert doc["goals"][0] == {"id": "learn-xor", "passed": False,
                               "text": "Train the network until the MSE is below 0.01",
                               "reason": "MSE 0.255 \u2014 needs < 0.01"}


def test_a_broken_file_is_named_and_the_others_still_graded(capsys, tmp_path):
    (tmp_path / "a-broken.nnproj").write_text("{ not json")
    shutil.copy(sample("xor"), tmp_path / "b-xor.nnproj")
    code, out, err = check(capsys, str(tmp_path))
    assert code == 2
    assert err.startswith(f"nnstudio check: {tmp_path / 'a-broken.nnproj'}: line 1, column 3")
    assert str(tmp_path / "b-xor.nnproj") in out and "0 of 2 projects meet every goal" in out


def test_a_project_without_challenges_needs_against(capsys, tmp_path):
    p = project.load(sample("xor"))
    p.challenges = None
    project.save(p, tmp_path / "plain.nnproj")
    code, _, err = check(capsys, str(tmp_path / "plain.nnproj"))
    assert code == 2 and "has no challenges; grade it with --against" in err
    code, out, _ = check(capsys, str(tmp_path / "plain.nnproj"), "--against", sample("xor"))
    assert code == 1 and "FAIL  Train the network" in out
    code, _, err = check(capsys, sample("xor"), "--against", str(tmp_path / "plain.nnproj"))
    assert code == 2 and "the lesson has no challenges" in err


def test_bad_arguments_exit_2_with_one_line(tmp_path):
    r = cli("check", str(tmp_path / "missing.nnproj"))
    assert r.returncode == 2 and r.stderr.strip().endswith("missing.nnproj: no such file or "
                                                           "folder")
    r = cli("check", str(tmp_path))
    assert r.returncode == 2 and "the folder holds no .nnproj files" in r.stderr
    r = cli("check", sample("spiral"))     # as a user runs it
    assert r.returncode == 1 and r.stdout.startswith(sample("spiral") + "\n  FAIL  ")
