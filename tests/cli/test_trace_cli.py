"""`nnstudio trace FILE [--sample K] [--format text|markdown]` and its agreement with
`nnstudio gradients --json`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from nnstudio import paths
from nnstudio.cli import main
from nnstudio.core import project, trace

DOSAGE = paths.SAMPLES / "dosage-backprop.nnproj"
AND = paths.SAMPLES / "perceptron-and.nnproj"
MINUS = "\u2212"

pytestmark = pytest.mark.skipif(not DOSAGE.exists(), reason="samples not written yet")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_markdown_worksheet_for_the_dosage_sample(capsys):
    code, out, err = run(capsys, "trace", str(DOSAGE), "--format", "markdown")
    assert code == 0 and err == ""
    assert out.startswith("# Backpropagation worksheet: ")
    assert f"b_new = 0 {MINUS} ({MINUS}1.57) = 1.57" in out
    assert f"step size = lr × gradient = 0.1 × ({MINUS}15.7) = {MINUS}1.57" in out
    assert out == trace.worksheet(project.load(DOSAGE), None, "markdown")


def test_text_worksheet_for_one_sample(capsys):
    code, out, err = run(capsys, "trace", str(DOSAGE), "--sample", "1", "--format", "text")
    assert code == 0 and err == ""
    assert f"z = 3.34 × 0.5 + ({MINUS}1.43) = 0.24" in out
    assert "sample 1 (one row of the data)" in out
    assert "```" not in out


def test_and_worksheet_shows_the_verification_table(capsys):
    code, out, _ = run(capsys, "trace", str(AND))
    assert code == 0
    for z, a in ((f"{MINUS}0.75", "0"), (f"{MINUS}0.25", "0"), ("0.25", "1")):
        assert f"= {z}\n" in out or f"= {z}" in out
        assert f"a = step({z}) = {a}" in out


@pytest.mark.parametrize("name", ["dosage-backprop.nnproj", "perceptron-and.nnproj",
                                  "xor.nnproj", "three-layer.nnproj", "fruit-classifier.nnproj"])
def test_walkthrough_gradients_equal_nnstudio_gradients(capsys, name):
    path = paths.SAMPLES / name
    if not path.exists():
        pytest.skip(f"{name} not present")
    code, out, _ = run(capsys, "gradients", str(path), "--json")
    assert code == 0
    data = json.loads(out)
    tr = trace.from_project(project.load(path))
    assert tr.grads == data["gradients"]
    assert tr.evaluation.loss == data["loss"]


@pytest.mark.parametrize("argv, fragment", [
    (["--sample", "3"], "sample 3 does not exist"),
    (["--sample", "x"], "row number"),
    (["--sample", "-1"], "row number"),
    (["--format", "html"], "html"),
])
def test_bad_arguments_exit_2_with_one_line(capsys, argv, fragment):
    code, out, err = run(capsys, "trace", str(DOSAGE), *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and fragment in err


def test_missing_file_exits_2(capsys, tmp_path):
    code, out, err = run(capsys, "trace", str(tmp_path / "nope.nnproj"))
    assert code == 2 and out == "" and err.count("\n") == 1


def test_real_command_line():
    res = subprocess.run([sys.executable, "-m", "nnstudio", "trace", str(DOSAGE), "--format",
                          "markdown", "--sample", "0"], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    assert "## 3. Backward pass: the chain rule" in res.stdout
