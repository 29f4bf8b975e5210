"""The headless command line, run as a user would: ``python -m nnstudio ...`` in a subprocess."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from nnstudio import paths
from nnstudio.core import project
from nnstudio.core.engine import Engine
from nnstudio.core.trainer import SettingsError, Trainer, TrainSettings
from nnstudio.headless.train import Progress

XOR = str(paths.SAMPLES / "xor.nnproj")
DOSAGE = str(paths.SAMPLES / "dosage-backprop.nnproj")
INTERCEPT = str(paths.SAMPLES / "intercept-descent.nnproj")
LINREG = str(paths.SAMPLES / "linear-regression.nnproj")


def cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONWARNINGS="default")
    return subprocess.run([sys.executable, "-m", "nnstudio", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd, env=env)


def one_line_error(r: subprocess.CompletedProcess, code: int = 2) -> str:
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip("\n").split("\n")
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr and "usage:" not in r.stderr
    return lines[0]


# ---------------------------------------------------------------------- validate
def test_validate_prints_a_one_line_summary():
    r = cli("validate", XOR)
    assert r.returncode == 0 and r.stderr == ""
    out = r.stdout.strip()
    assert "\n" not in out
    assert out.startswith(f"{XOR}: OK: 'XOR': 6 neurons (2 input, 3 hidden, 1 output), "
                          "9 connections, 13 parameters (13 trainable), 4 rows, 2 classes")


def test_bad_files_give_exit_2_and_one_line(tmp_path):
    bad = tmp_path / "bad.nnproj"
    text = open(XOR, encoding="utf-8").read()
    bad.write_text(re.sub(r'"weight": [^,}]+', '"weight": NaN', text, count=1))
    line = one_line_error(cli("validate", str(bad)))
    assert line == (f"nnstudio validate: {bad}: $.network.connections[0].weight: must be a "
                    "finite number, got NaN")
    broken = tmp_path / "broken.nnproj"
    broken.write_text('{"format": "nnstudio-project",\n"format_version": 1,,}')
    line = one_line_error(cli("train", str(broken)))
    assert line.startswith(f"nnstudio train: {broken}: line 2, column 21: malformed JSON: "
                           "Expecting property name")
    line = one_line_error(cli("gradients", str(tmp_path / "missing.nnproj")))
    assert "No such file or directory" in line
    newer = tmp_path / "newer.nnproj"
    newer.write_text(re.sub(r'"format_version": \d+', '"format_version": 9', text))
    assert "newer than this NN Studio understands" in one_line_error(cli("validate", str(newer)))


@pytest.mark.parametrize("args, fragment", [
    # training settings: the core's own check (TrainSettings.validate) and its message
    (["train", XOR, "--epochs", "many"], "epochs must be a whole number from 0 to 100000000, "
                                         "not 'many'"),
    (["train", XOR, "--epochs", "-3"], "epochs must be a whole number from 0 to 100000000, "
                                       "not -3"),
    (["train", XOR, "--lr", "nan"], "learning rate must be a number in (0, 1000], not nan"),
    (["train", XOR, "--lr", "0"], "learning rate must be a number in (0, 1000], not 0.0"),
    (["train", XOR, "--lr", "fast"], "learning rate must be a number in (0, 1000], not 'fast'"),
    (["train", XOR, "--optimizer", "lbfgs"], "unknown optimizer 'lbfgs'"),
    (["train", XOR, "--batch-size", "2.5"], "batch size must be a whole number from 0 to "
                                            "10000000, not 2.5"),
    (["train", XOR, "--seed", "-1"], "seed must be a whole number from 0 to"),
    (["train", XOR, "--wat"], "unrecognized arguments: --wat"),
    (["train"], "the following arguments are required: file"),
    (["gradients", XOR, "extra"], "unrecognized arguments: extra"),
    (["trace", XOR, "--format", "pdf"], "invalid choice: 'pdf'"),
    (["trace", XOR, "--sample", "-1"], "the sample must be a row number >= 0"),
])
def test_bad_arguments_give_exit_2_and_one_line(args, fragment):
    line = one_line_error(cli(*args))
    assert line.startswith(f"nnstudio {args[0]}: ") and fragment in line


def test_settings_arguments_report_the_cores_own_message():
    """The command line does not check training settings itself: TrainSettings.validate does,
    and its message is the one line."""
    for args, changes in ((["--epochs", "-3"], {"epochs": -3}),
                          (["--lr", "2000"], {"learning_rate": 2000.0}),
                          (["--optimizer", "lbfgs"], {"optimizer": "lbfgs"})):
        with pytest.raises(SettingsError) as e:
            TrainSettings(**changes).validate()
        line = one_line_error(cli("train", XOR, *args))
        assert line == f"nnstudio train: {e.value} (see 'nnstudio train --help')"


def test_help_still_works():
    r = cli("train", "--help")
    assert r.returncode == 0 and "--batch-size" in r.stdout


# ---------------------------------------------------------------------- train
def test_train_json_matches_the_engine():
    r = cli("train", XOR, "--json", "--epochs", "25", "--lr", "0.1", "--seed", "3")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("\n") == 1  # one JSON object, one line
    out = json.loads(r.stdout)
    p = project.load(XOR)
    settings = p.settings.with_(epochs=25, learning_rate=0.1, seed=3)
    tr = Trainer(p.network, p.dataset.X, p.dataset.Y, settings)
    initial = tr.full_loss()
    snaps = tr.train()
    assert out["initial_loss"] == initial
    assert out["losses"] == [s.loss for s in snaps] and len(out["losses"]) == 25
    assert out["final_loss"] == snaps[-1].loss
    assert out["params"] == dict(zip(tr.engine.param_ids, snaps[-1].params.tolist(), strict=True))
    assert list(out["params"]) == p.network.param_ids()
    assert out["epochs"] == 25 and out["optimizer"] == "adam" and out["learning_rate"] == 0.1
    assert out["seed"] == 3 and out["loss_function"] == "mse" and out["diverged"] is None
    assert 0 <= out["accuracy"] <= 1


def test_train_with_sample_defaults_and_human_output():
    r = cli("train", INTERCEPT)
    assert r.returncode == 0 and r.stderr == ""  # not a terminal: no progress bar
    assert "ssr loss 405 → " in r.stdout and "after 66 epoch(s)" in r.stdout
    assert r.stdout.splitlines()[1] == ("stopped early: the largest step, 0.000955, fell below "
                                        "the minimum step 0.001 at update 66 (epoch 66)")
    r = cli("train", INTERCEPT, "--min-step", "0", "--json")
    out = json.loads(r.stdout)
    assert out["epochs_completed"] == 100 and out["converged"] is None
    r = cli("train", INTERCEPT, "--min-step", "-1")
    assert r.returncode == 2 and "minimum step must be a number from 0" in r.stderr


def test_train_save_round_trip(tmp_path):
    out = tmp_path / "trained.nnproj"
    r = cli("train", INTERCEPT, "--epochs", "1", "--json", "--save", str(out))
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["params"] == {"slope": 2.0, "intercept": pytest.approx(9.1, abs=1e-12)}
    assert res["saved"] == str(out)
    q = project.load(out)
    assert q.network.get_param("intercept") == res["params"]["intercept"]  # bit for bit
    assert q.settings.epochs == 1
    assert [f for f in os.listdir(tmp_path) if f.endswith(".tmp")] == []
    # the saved project continues from where training stopped
    g = json.loads(cli("gradients", str(out), "--json").stdout)
    assert g["loss"] == pytest.approx(5 * 8.1 ** 2) and g["gradients"]["intercept"] == \
        pytest.approx(2 * 5 * 8.1)


def test_divergence_is_reported_with_exit_1_and_nothing_saved(tmp_path):
    out = tmp_path / "never.nnproj"
    r = cli("train", LINREG, "--lr", "1", "--json", "--save", str(out))
    line = one_line_error(r, code=1)
    assert line.startswith("nnstudio train: training diverged: the loss became inf")
    assert line.endswith("nothing was saved")
    res = json.loads(r.stdout)  # still valid JSON: non-finite losses are null
    assert res["diverged"].startswith("the loss became inf")
    # the kept parameters are the last finite ones, and every kept epoch has a finite loss
    assert np.isfinite(res["final_loss"]) and res["final_loss"] == res["losses"][-1]
    assert len(res["losses"]) == res["epochs_completed"]
    assert all(v is not None and np.isfinite(v) for v in res["losses"])
    assert not out.exists()


def test_progress_bar_only_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self):
            return True
    tty = Tty()
    bar = Progress(10, tty)
    bar.update(5, 0.25, force=True)
    bar.close()
    assert "50%" in tty.getvalue() and "epoch 5/10" in tty.getvalue()
    plain = io.StringIO()
    bar = Progress(10, plain)
    bar.update(5, 0.25, force=True)
    bar.close()
    assert plain.getvalue() == ""


# ---------------------------------------------------------------------- gradients
def test_gradients_json_matches_the_engine():
    r = cli("gradients", DOSAGE, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    p = project.load(DOSAGE)
    eng = Engine.compile(p.network)
    loss, grad = eng.gradient(p.dataset.X, p.dataset.Y, "ssr")
    assert out["loss"] == loss and out["loss_function"] == "ssr" and out["rows"] == 3
    assert out["gradients"] == dict(zip(eng.param_ids, grad.tolist(), strict=True))
    assert round(out["gradients"]["b3"], 1) == -15.7
    assert out["params"]["w1"] == 3.34 and out["trainable"]["b3"] is True
    assert out["trainable"]["w1"] is False


def test_gradients_human_table():
    r = cli("gradients", DOSAGE)
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert lines[0].startswith("Sum of squared residuals (ssr) over all 3 row(s): 20.42")
    b3 = next(line for line in lines if line.startswith("b3"))
    assert "bias of efficacy" in b3 and "-15.655" in b3 and "locked" not in b3
    w1 = next(line for line in lines if line.startswith("w1"))
    assert "weight dosage → upper softplus" in w1 and w1.endswith("locked")


def test_commands_never_import_qt():
    code = ("import sys, nnstudio.headless.runner, nnstudio.core.project, nnstudio.core.datasets; "
            "[nnstudio.headless.runner.subcommand(n) for n in nnstudio.headless.SUBCOMMANDS]; "
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'shiboken6', 'pyqtgraph')]; print(bad)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stdout + r.stderr
