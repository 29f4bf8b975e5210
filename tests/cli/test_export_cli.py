"""``nnstudio export`` and ``nnstudio predict`` run as a user would: the files they write work,
the outputs are the engine's, and bad input exits 2 with one line naming the file, the place
and the problem (and writes nothing). ONNX cases skip without onnx, the PyTorch run without
torch."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from nnstudio import paths
from nnstudio.core import project
from nnstudio.core.engine import Engine
from tests.cli.test_cli import cli, one_line_error

XOR = str(paths.SAMPLES / "xor.nnproj")
SPIRAL = str(paths.SAMPLES / "spiral.nnproj")
FRUIT = str(paths.SAMPLES / "fruit-classifier.nnproj")
needs_onnx = pytest.mark.skipif(importlib.util.find_spec("onnx") is None,
                                reason="needs the optional onnx package")


def _predicted(r: subprocess.CompletedProcess) -> np.ndarray:
    assert r.returncode == 0, r.stderr
    return np.array(json.loads(r.stdout)["predictions"], dtype=np.float64)


# ---------------------------------------------------------------------- predict
def test_predict_prints_one_line_per_row_written_exactly():
    r = cli("predict", FRUIT)
    assert r.returncode == 0 and r.stderr == ""
    proj = project.load(FRUIT)
    expected = Engine.compile(proj.network).predict(proj.dataset.X)
    lines = r.stdout.splitlines()
    assert len(lines) == len(proj.dataset)
    for line, row, cls in zip(lines, expected, proj.dataset.class_names_of(expected),
                              strict=True):
        *values, name = line.split(", ")
        assert [float(v) for v in values] == row.tolist()  # every digit
        assert name == cls


def test_predict_json_names_the_columns():
    r = cli("predict", XOR, "--json")
    assert r.stdout.count("\n") == 1
    out = json.loads(r.stdout)
    proj = project.load(XOR)
    assert out["file"] == XOR and out["inputs"] == ["x1", "x2"] and out["rows"] == 4
    assert out["predictions"] == Engine.compile(proj.network).predict(proj.dataset.X).tolist()
    assert out["classes"] == proj.dataset.class_names_of(np.array(out["predictions"]))


def test_predict_a_csv_by_name_or_by_position(tmp_path):
    proj = project.load(FRUIT)
    X = np.random.default_rng(0).uniform(0, 10, size=(7, proj.dataset.n_inputs))
    names = proj.dataset.input_names
    by_name = tmp_path / "by_name.csv"
    by_name.write_text("note," + ",".join(reversed(names)) + "\n" + "".join(
        "x," + ",".join(repr(float(v)) for v in reversed(row)) + "\n" for row in X))
    by_position = tmp_path / "by_position.csv"
    by_position.write_text(",".join(f"c{k}" for k in range(len(names))) + "\n" + "".join(
        ",".join(repr(float(v)) for v in row) + "\n" for row in X))
    expected = Engine.compile(proj.network).predict(X)
    for path in (by_name, by_position):
        got = _predicted(cli("predict", FRUIT, "--csv", str(path), "--json"))
        np.testing.assert_array_equal(got, expected)


def test_a_bad_csv_cell_names_the_file_line_and_column(tmp_path):
    bad = tmp_path / "points.csv"
    bad.write_text("x1,x2\n0,1\n0.5,abc\n")
    line = one_line_error(cli("predict", XOR, "--csv", str(bad)))
    assert line == f"nnstudio predict: {bad}: line 3, column 2 ('x2'): 'abc' is not a number"
    line = one_line_error(cli("predict", XOR, "--csv", str(tmp_path / "none.csv")))
    assert line.startswith(f"nnstudio predict: {tmp_path / 'none.csv'}: cannot read")
    assert "No such file or directory" in line


def test_predict_refuses_a_bad_project_file(tmp_path):
    bad = tmp_path / "bad.nnproj"
    bad.write_text("{")
    line = one_line_error(cli("predict", str(bad)))
    assert line.startswith(f"nnstudio predict: {bad}: line 1, column 2: malformed JSON")


# ---------------------------------------------------------------------- export
def test_export_numpy_writes_a_script_that_predicts_as_nn_studio(tmp_path):
    out = tmp_path / "spiral_np.py"
    r = cli("export", SPIRAL, "--to", "numpy", "-o", str(out))
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout == f"wrote spiral_np.py (NumPy script: predict(X); run: python {out} " \
                       "IN.csv)\n"
    proj = project.load(SPIRAL)
    points = tmp_path / "points.csv"
    points.write_text(",".join(proj.dataset.input_names) + "\n" + "".join(
        ",".join(repr(float(v)) for v in row) + "\n" for row in proj.dataset.X))
    run = subprocess.run([sys.executable, str(out), str(points)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    rows = [[float(v) for v in line.split(",")] for line in run.stdout.splitlines()[1:]]
    np.testing.assert_allclose(rows, Engine.compile(proj.network).predict(proj.dataset.X),
                               rtol=1e-12, atol=1e-12)


def test_export_pytorch_writes_the_script_and_its_dataset(tmp_path):
    out = tmp_path / "xor.py"
    r = cli("export", XOR, "--to", "pytorch", "-o", str(out))
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout == f"wrote xor.py and xor.csv (PyTorch script and its dataset; run: " \
                       f"python {out})\n"
    assert sorted(os.listdir(tmp_path)) == ["xor.csv", "xor.py"]
    compile(out.read_text(), str(out), "exec")  # valid Python, whether or not torch is here


def test_the_exported_pytorch_script_trains_with_nn_studios_losses(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "xor.py"
    assert cli("export", XOR, "--to", "pytorch", "-o", str(out)).returncode == 0
    run = subprocess.run([sys.executable, str(out), "--epochs", "5"], capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    losses = [float(line.split()[3]) for line in run.stdout.splitlines()]
    trained = json.loads(cli("train", XOR, "--epochs", "5", "--json").stdout)
    assert len(losses) == 6
    np.testing.assert_allclose(losses, [trained["initial_loss"], *trained["losses"]],
                               rtol=1e-10)


@pytest.mark.parametrize("args, fragment", [
    (["export", XOR, "--to", "keras", "-o", "x.py"], "argument --to: invalid choice: 'keras'"),
    (["export", XOR, "--to", "numpy"], "the following arguments are required: -o/--output"),
    (["export", XOR, "--to", "numpy", "-o", "x.py", "--dtype", "float32"],
     "--dtype is for --to onnx only (the numpy script computes in float64)"),
    (["export", XOR, "--to", "onnx", "-o", "x.onnx", "--dtype", "half"],
     "argument --dtype: invalid choice: 'half'"),
    (["predict", XOR, "--csv"], "argument --csv: expected one argument"),
])
def test_bad_arguments_exit_2_with_one_line_and_write_nothing(tmp_path, args, fragment):
    line = one_line_error(cli(*args, cwd=tmp_path))
    assert line.startswith(f"nnstudio {args[0]}: ") and fragment in line
    assert os.listdir(tmp_path) == []


def test_export_problems_name_the_file(tmp_path):
    missing = tmp_path / "no folder" / "x.py"
    line = one_line_error(cli("export", XOR, "--to", "pytorch", "-o", str(missing)))
    assert line == f"nnstudio export: cannot write {str(missing.with_suffix('.csv'))!r}: " \
                   "No such file or directory"
    line = one_line_error(cli("export", XOR, "--to", "pytorch", "-o", str(tmp_path / "x.csv")))
    assert line.startswith(f"nnstudio export: {XOR}: ")
    assert "the script needs a name other than .csv" in line
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------- ONNX, both ways
@needs_onnx
def test_an_exported_onnx_model_predicts_as_its_project(tmp_path):
    model = tmp_path / "fruit.onnx"
    r = cli("export", FRUIT, "--to", "onnx", "-o", str(model))
    assert r.returncode == 0 and r.stdout == "wrote fruit.onnx (ONNX model, float64, opset 17)\n"
    rows = tmp_path / "rows.csv"
    assert cli("export", FRUIT, "--to", "pytorch", "-o", str(tmp_path / "rows.py")).returncode \
        == 0  # (its dataset CSV: the project's rows, inputs and targets)
    expected = _predicted(cli("predict", FRUIT, "--json"))
    got = _predicted(cli("predict", str(model), "--csv", str(rows), "--json"))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    # an ONNX model has no rows of its own: nothing on stdout, a hint on stderr
    r = cli("predict", str(model))
    assert r.returncode == 0 and r.stdout == ""
    assert r.stderr == f"{model}: the dataset has no rows to predict; give --csv IN\n"


@needs_onnx
def test_an_onnx_model_exports_to_a_script(tmp_path):
    model = tmp_path / "xor.onnx"
    assert cli("export", XOR, "--to", "onnx", "-o", str(model), "--dtype", "float32") \
        .returncode == 0
    out = tmp_path / "xor_np.py"
    r = cli("export", str(model), "--to", "numpy", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "def predict(X):" in out.read_text()


@needs_onnx
def test_a_file_that_is_not_onnx_is_refused_in_one_line(tmp_path):
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"\x00\xffnot a model at all")
    for sub in (["predict"], ["validate"], ["export", "--to", "numpy", "-o",
                                              str(tmp_path / "x.py")]):
        line = one_line_error(cli(sub[0], str(fake), *sub[1:]))
        assert line == f"nnstudio {sub[0]}: {fake}: the file is not an ONNX model (it does " \
                       "not parse as one)"
    assert os.listdir(tmp_path) == ["model.onnx"]


CNN = str(paths.SAMPLES / "cnn-o-vs-x.nnproj")


def test_the_cnn_sample_predicts_and_exports_to_the_scripts(tmp_path):
    proj = project.load(CNN)
    expected = Engine.compile(proj.network).predict(proj.dataset.X)
    np.testing.assert_array_equal(_predicted(cli("predict", CNN, "--json")), expected)
    r = cli("export", CNN, "--to", "numpy", "-o", str(tmp_path / "cnn_np.py"))
    assert r.returncode == 0, r.stderr
    r = cli("export", CNN, "--to", "pytorch", "-o", str(tmp_path / "cnn.py"))
    assert r.returncode == 0 and r.stdout.startswith("wrote cnn.py and cnn.csv"), r.stderr
    assert "nn.Conv2d(" in (tmp_path / "cnn.py").read_text()


@needs_onnx
def test_the_cnn_sample_exported_to_onnx_predicts_as_its_project(tmp_path):
    model = tmp_path / "cnn.onnx"
    assert cli("export", CNN, "--to", "onnx", "-o", str(model)).returncode == 0
    assert cli("export", CNN, "--to", "pytorch", "-o", str(tmp_path / "rows.py")).returncode \
        == 0  # (its dataset CSV: the pixels, then the targets)
    got = _predicted(cli("predict", str(model), "--csv", str(tmp_path / "rows.csv"), "--json"))
    np.testing.assert_allclose(got, _predicted(cli("predict", CNN, "--json")), rtol=1e-12,
                               atol=1e-12)
