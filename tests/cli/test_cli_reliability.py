"""The command line with hostile and careless input: a FIFO, an empty dataset, values that
overflow, a last update that diverges, and one epoch count across the text, the JSON and the
trainer. Every failure is one line on stderr naming the file; no NumPy warning on success."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from nnstudio import paths
from nnstudio.core import project
from nnstudio.core.datasets import Dataset
from nnstudio.core.network import Network
from nnstudio.core.trainer import TrainSettings

INTERCEPT = str(paths.SAMPLES / "intercept-descent.nnproj")
DOSAGE = str(paths.SAMPLES / "dosage-backprop.nnproj")


def cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONWARNINGS="default")
    return subprocess.run([sys.executable, "-m", "nnstudio", *args], capture_output=True,
                          text=True, timeout=60, env=env)


def error_line(r: subprocess.CompletedProcess, code: int = 2) -> str:
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip("\n").split("\n")
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr and "Warning" not in r.stderr
    return lines[0]


def one_weight(tmp_path, x: float, *, loss="ssr", rows=1, epochs=1, lr=1.0) -> str:
    """x -> y (identity), w = 1, no bias, target 0: ssr = (x w)^2."""
    net = Network()
    net.add_neuron("input", id="x")
    net.add_neuron("output", id="y", activation="identity")
    net.connect("x", "y", 1.0, id="w")
    ds = Dataset(["x"], ["y"], [[x]] * rows, [[0.0]] * rows)
    proj = project.Project(net, ds, TrainSettings(loss=loss, optimizer="gd", learning_rate=lr,
                                                  epochs=epochs), "", "overflow")
    path = tmp_path / "p.nnproj"
    project.save(proj, path)
    return str(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("command", ["validate", "train", "gradients", "trace"])
def test_a_fifo_is_refused_at_once(tmp_path, command):
    fifo = tmp_path / "f.nnproj"
    os.mkfifo(fifo)
    line = error_line(cli(command, str(fifo)))  # (a timeout here would be the old hang)
    assert str(fifo) in line and "named pipe (FIFO)" in line


def test_an_empty_dataset_is_said_plainly(tmp_path):
    path = one_weight(tmp_path, 1.0, rows=0)
    r = cli("validate", path)
    assert r.returncode == 0 and r.stderr == ""
    assert "0 rows; the dataset has no rows, so there is nothing to train on" in r.stdout
    for command, what in (("train", "train on"), ("gradients", "compute gradients over"),
                          ("trace", "trace")):
        line = error_line(cli(command, path))
        assert line == (f"nnstudio {command}: {path}: $.dataset: the dataset has no rows, so "
                        f"there is nothing to {what}")
        assert "--help" not in line  # a data problem, not a usage one


@pytest.mark.parametrize("form", [(), ("--json",)])
def test_gradients_with_a_loss_that_overflows_say_so_once(tmp_path, form):
    path = one_weight(tmp_path, 1e200)
    line = error_line(cli("gradients", path, *form))
    assert line == (f"nnstudio gradients: {path}: the ssr loss overflows at these parameter "
                    "values (it is inf over the 1 row(s)), so it has no gradient")


def test_trace_with_a_loss_that_overflows_says_so_once(tmp_path):
    path = one_weight(tmp_path, 1e200)
    line = error_line(cli("trace", path))
    assert line == (f"nnstudio trace: {path}: the ssr loss overflows at these parameter "
                    "values; make the parameters or the inputs smaller")


def test_a_divergence_in_the_last_update_is_reported(tmp_path):
    """One gd step on x = 1e150: the loss before it is 1e300 (finite), the update makes
    w = 1 - 2e300, where the loss is infinite. Epochs 1 and 2 behave alike."""
    path = one_weight(tmp_path, 1e150)
    for epochs in ("1", "2"):
        out = tmp_path / f"out{epochs}.nnproj"
        r = cli("train", path, "--epochs", epochs, "--json", "--save", str(out))
        line = error_line(r, code=1)
        assert line == ("nnstudio train: training diverged: the loss became inf in epoch 1, "
                        "step 1; the last finite parameters are kept; nothing was saved")
        res = json.loads(r.stdout)
        assert res["epochs_completed"] == 0 and res["losses"] == []
        assert res["params"] == {"w": 1.0, "y": 0.0} and res["final_loss"] == pytest.approx(1e300)
        assert not out.exists()


def test_one_epoch_count_in_the_text_the_json_and_the_trainer():
    """The intercept lesson at lr 0.25 diverges: the text, the JSON and the divergence
    message count the same epochs."""
    text = cli("train", INTERCEPT, "--lr", "0.25", "--epochs", "1000")
    js = cli("train", INTERCEPT, "--lr", "0.25", "--epochs", "1000", "--json")
    res = json.loads(js.stdout)
    n = res["epochs_completed"]
    assert len(res["losses"]) == n and all(np.isfinite(v) for v in res["losses"])
    assert f"after {n} epoch(s)" in text.stdout
    assert f"in epoch {n + 1}, step {n + 1};" in res["diverged"]
    assert f"in epoch {n + 1}, step {n + 1};" in error_line(text, code=1)
    assert res["final_loss"] == res["losses"][-1]
    assert f"→ {res['final_loss']:.6g} after" in text.stdout


def test_successful_runs_print_no_numpy_warning(tmp_path):
    path = one_weight(tmp_path, 1e150, loss="mae", lr=1e-3, epochs=3)
    for args in (("validate", path), ("train", path), ("gradients", path), ("trace", path),
                 ("train", DOSAGE, "--json")):
        r = cli(*args)
        assert r.returncode == 0, r.stderr
        assert r.stderr == "", (args, r.stderr)


def test_a_whole_number_weight_of_21_digits_is_accepted_like_1e21(tmp_path):
    path = tmp_path / "big.nnproj"
    text = open(one_weight(tmp_path, 1.0), encoding="utf-8").read()
    path.write_text(text.replace('"weight": 1.0', '"weight": 100000000000000000000'),
                    encoding="utf-8")
    r = cli("gradients", str(path), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["params"]["w"] == 1e20
