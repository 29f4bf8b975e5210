"""Regularization: the exact definition of the L1 and L2 penalties, their place in the engine's
gradient, the trainer, the walkthrough, the project format and the command line.

(The penalised gradients are also checked by finite differences on random networks in
test_engine.py and, through the walkthrough's own gradient check, in test_trace.py.)
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nnstudio import paths
from nnstudio.core import project, regularization, trace
from nnstudio.core.engine import Engine
from nnstudio.core.network import Network, dense
from nnstudio.core.regularization import Penalty
from nnstudio.core.trainer import SettingsError, Trainer, TrainSettings
from tests.cli.test_cli import cli, one_line_error

XOR = str(paths.SAMPLES / "xor.nnproj")


def small() -> tuple[Network, np.ndarray, np.ndarray]:
    """x → h (tanh) → y with weights 0.5 and −2 and biases 0.25 and 3."""
    net = Network()
    net.add_neuron("input", id="x")
    net.add_neuron("hidden", id="h", activation="tanh", bias=0.25)
    net.add_neuron("output", id="y", activation="identity", bias=3.0)
    net.connect("x", "h", 0.5, id="w1")
    net.connect("h", "y", -2.0, id="w2")
    return net, np.array([[1.0], [-1.0]]), np.array([[0.0], [1.0]])


def test_the_penalties_are_exactly_as_documented():
    net, _, _ = small()
    eng = Engine.compile(net)
    assert eng.weight_mask.tolist() == [1.0 if p in ("w1", "w2") else 0.0 for p in eng.param_ids]
    # biases (0.25 and 3) are never penalised
    assert eng.penalty(Penalty("l2", 0.1)) == pytest.approx(0.1 * (0.5 ** 2 + 2.0 ** 2))
    assert eng.penalty(Penalty("l1", 0.1)) == pytest.approx(0.1 * (0.5 + 2.0))
    assert eng.penalty(None) == 0.0
    grads = dict(zip(eng.param_ids, Penalty("l2", 0.1).gradients(eng.params, eng.weight_mask),
                     strict=True))
    assert grads == pytest.approx({"w1": 0.1, "w2": -0.4, "h": 0.0, "y": 0.0})
    grads = dict(zip(eng.param_ids, Penalty("l1", 0.1).gradients(eng.params, eng.weight_mask),
                     strict=True))
    assert grads == pytest.approx({"w1": 0.1, "w2": -0.1, "h": 0.0, "y": 0.0})


def test_the_engine_adds_the_penalty_gradient_to_the_weights_only():
    net, X, Y = small()
    eng = Engine.compile(net)
    loss, plain = eng.gradient(X, Y, "mse")
    pen = Penalty("l2", 0.3)
    loss_p, with_pen = eng.gradient(X, Y, "mse", penalty=pen)
    assert loss_p == loss          # the loss is the loss function's value, penalty beside it
    expected = plain + pen.gradients(eng.params, eng.weight_mask)
    np.testing.assert_allclose(with_pen, expected, rtol=1e-15)
    ev = eng.evaluate(X, Y, "mse", pen)
    np.testing.assert_allclose(ev.grad, expected, rtol=1e-15)
    assert ev.penalty == pytest.approx(0.3 * 4.25) and ev.objective == ev.loss + ev.penalty


def test_l1_at_a_weight_of_zero_has_slope_zero_and_the_gradient_check_says_kink():
    net, X, Y = small()
    net.set_param("w1", 0.0)
    eng = Engine.compile(net)
    assert Penalty("l1", 1.0).gradients(eng.params, eng.weight_mask)[eng.param_index("w1")] == 0
    rows = {r.pid: r for r in trace.gradient_check(net, X, Y, "mse", penalty=Penalty("l1", 1.0))}
    assert all(r.ok and not r.note for r in rows.values())   # |w| is symmetric about 0
    net.set_param("w1", 1e-7)   # the kink inside the finite-difference step: not comparable
    rows = {r.pid: r for r in trace.gradient_check(net, X, Y, "mse", penalty=Penalty("l1", 1.0))}
    assert rows["w1"].ok and "kink" in rows["w1"].note
    assert all(r.ok and not r.note for p, r in rows.items() if p != "w1")


def test_penalised_gradients_pass_the_finite_difference_check_on_every_sample():
    proj = project.load(XOR)
    for kind in ("l1", "l2"):
        pen = Penalty(kind, 0.05)
        for sample in (None, 0, 1, 2, 3):
            tr = trace.build(proj.network, proj.dataset.X, proj.dataset.Y, loss="mse",
                             sample=sample, penalty=pen)
            rows = trace.gradient_check_trace(tr)
            assert all(r.ok and r.rel_error < 1e-6 for r in rows), [r for r in rows if not r.ok]


def test_settings_refuse_bad_regularization_with_a_clear_message():
    assert TrainSettings().penalty is None
    assert TrainSettings(regularization="l2").penalty is None      # a rate of 0 penalises nothing
    assert TrainSettings(regularization="l1", regularization_rate=0.01).penalty == \
        Penalty("l1", 0.01)
    for bad, words in (({"regularization": "l3"}, "unknown regularization 'l3'"),
                       ({"regularization_rate": -0.1}, "from 0 to 100"),
                       ({"regularization_rate": math.inf}, "from 0 to 100"),
                       ({"regularization_rate": True}, "from 0 to 100"),
                       ({"regularization_rate": 101}, "from 0 to 100")):
        with pytest.raises(SettingsError, match=words):
            TrainSettings(**bad).validate()
    with pytest.raises(ValueError, match="unknown regularization"):
        regularization.make_penalty("dropout", 0.1)


def test_l2_training_shrinks_the_weights_and_l1_zeroes_useless_ones():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    Y = X[:, :1] * 2.0                       # only the first input matters
    net = dense([3, 1], output="identity", seed=1)
    runs = {}
    for kind, rate in (("none", 0.0), ("l2", 0.5), ("l1", 0.2)):
        st = TrainSettings(loss="mse", optimizer="gd", learning_rate=0.05, epochs=600,
                           regularization=kind, regularization_rate=rate)
        tr = Trainer(net, X, Y, st)
        snaps = tr.train()
        runs[kind] = (tr.params.copy(), snaps[-1], tr)
    eng = runs["none"][2].engine
    w = eng.weight_mask == 1
    assert np.abs(runs["none"][0][w]).sum() > np.abs(runs["l2"][0][w]).sum()
    assert runs["none"][0][eng.param_index(net.incoming(net.outputs[0].id)[0].id)] == \
        pytest.approx(2.0, abs=1e-3)
    # L1 drives the two useless weights to (about) exactly 0, the useful one stays large
    l1 = runs["l1"][0][w]
    assert np.sort(np.abs(l1))[:2] == pytest.approx([0, 0], abs=0.02) and np.abs(l1).max() > 1
    # a snapshot carries the loss and, beside it, the penalty at its parameters
    for kind in ("l1", "l2"):
        params, snap, tr = runs[kind]
        assert snap.penalty == pytest.approx(tr.penalty.value(params, eng.weight_mask))
        assert snap.loss == pytest.approx(tr.full_loss())
    assert runs["none"][1].penalty == 0.0


def test_the_walkthrough_shows_the_penalty_and_its_share_of_each_weight_gradient():
    net, X, Y = small()
    pen = Penalty("l2", 0.1)
    tr = trace.build(net, X, Y, loss="mse", learning_rate=0.1, sample=0, penalty=pen)
    step = next(s for s in tr.steps if s.kind == "penalty")
    assert step.phase == "loss" and step.value == pytest.approx(0.425)
    assert "penalty = λ × Σ w²" in step.formula and "0.1 × (0.5² + (−2)²) = 0.425" in step.formula
    assert "objective = MSE + penalty" in step.formula
    ev = tr.evaluation
    w2 = next(s for s in tr.steps if s.kind == "weight_grad" and s.params == ("w2",))
    assert "+ 2λ × w" in w2.formula and "2 × 0.1 × (−2) = −0.4" in w2.formula
    assert w2.value == ev.grad[tr.engine.param_index("w2")]
    bias = next(s for s in tr.steps if s.kind == "bias_grad" and s.params == ("y",))
    assert "λ" not in bias.formula      # biases are not penalised
    # the update follows loss + penalty
    i = tr.engine.param_index("w2")
    assert tr.new_params["w2"] == pytest.approx(-2.0 - 0.1 * ev.grad[i])
    plain = trace.build(net, X, Y, loss="mse", learning_rate=0.1, sample=0)
    assert not any(s.kind == "penalty" for s in plain.steps)
    assert tr.grads["w2"] == pytest.approx(plain.grads["w2"] - 0.4)
    summary = tr.steps[-1]
    assert "objective before" in summary.formula and "objective after" in summary.formula


def test_the_format_keeps_regularization_and_refuses_a_bad_one(tmp_path):
    proj = project.load(XOR)
    assert "regularization" not in project.to_dict(proj)["settings"]   # written only when set
    proj.settings = proj.settings.with_(regularization="l1", regularization_rate=0.003)
    path = tmp_path / "reg.nnproj"
    project.save(proj, path)
    back = project.load(path)
    assert (back.settings.regularization, back.settings.regularization_rate) == ("l1", 0.003)
    doc = json.loads(path.read_text())
    doc["settings"]["regularization_rate"] = -1
    with pytest.raises(project.ProjectError,
                       match=r"^\$\.settings\.regularization_rate: regularization rate must be"):
        project.loads(json.dumps(doc))
    doc["settings"]["regularization"] = 2
    with pytest.raises(project.ProjectError, match=r"^\$\.settings\.regularization: must be text"):
        project.loads(json.dumps(doc))


def test_cli_trains_with_regularization_and_reports_the_penalty(tmp_path):
    r = cli("train", XOR, "--json", "--epochs", "30", "--regularization", "l2",
            "--regularization-rate", "0.01")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    p = project.load(XOR)
    st = p.settings.with_(epochs=30, regularization="l2", regularization_rate=0.01)
    tr = Trainer(p.network, p.dataset.X, p.dataset.Y, st)
    tr.train()
    assert out["final_penalty"] == pytest.approx(tr.engine.penalty(st.penalty), rel=1e-12)
    assert out["regularization"] == "l2" and out["regularization_rate"] == 0.01
    line = one_line_error(cli("train", XOR, "--regularization", "dropout"))
    assert "unknown regularization 'dropout' (known: none, l1, l2)" in line
    # gradients: the loss, the penalty beside it, the gradients of loss + penalty
    p.settings = st
    path = tmp_path / "reg.nnproj"
    project.save(p, path)
    g = json.loads(cli("gradients", str(path), "--json").stdout)
    eng = Engine.compile(p.network)
    loss, grad = eng.gradient(p.dataset.X, p.dataset.Y, "mse", penalty=st.penalty)
    assert g["loss"] == loss and g["penalty"] == eng.penalty(st.penalty)
    assert g["gradients"] == dict(zip(eng.param_ids, grad.tolist(), strict=True))
    assert "L2 penalty (rate 0.01)" in cli("gradients", str(path)).stdout
