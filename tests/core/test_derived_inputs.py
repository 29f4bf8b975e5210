"""Derived inputs (x1², x2², x1·x2, sin x1, sin x2): computed from the data by the engine,
checked by finite differences, stored in the project format, and shown in the walkthrough."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nnstudio import paths
from nnstudio.core import derived_inputs, project, trace
from nnstudio.core.engine import Engine, EngineError
from nnstudio.core.network import Network, NetworkError
from nnstudio.core.trainer import Trainer, TrainSettings

XOR = paths.SAMPLES / "xor.nnproj"


def with_derived(names: list[str], hidden: bool = True) -> project.Project:
    """The XOR lesson with derived inputs wired to every neuron the data inputs feed."""
    proj = project.load(XOR)
    net = proj.network
    targets = sorted({c.target for n in net.data_inputs for c in net.outgoing(n.id)})
    for k, name in enumerate(names):
        n = net.add_neuron("input", derive=name, label=derived_inputs.DERIVED[name].label())
        for t in targets:
            net.connect(n.id, t, 0.3 - 0.1 * k)
    return proj


def test_the_table_computes_each_formula_from_the_data_columns():
    X = np.array([[0.5, -2.0], [3.0, 0.25]])
    got = derived_inputs.columns(list(derived_inputs.NAMES), X)
    want = np.c_[X[:, 0] ** 2, X[:, 1] ** 2, X[:, 0] * X[:, 1], np.sin(X[:, 0]),
                 np.sin(X[:, 1])]
    np.testing.assert_array_equal(got, want)
    assert [derived_inputs.DERIVED[n].label() for n in derived_inputs.NAMES] == \
        ["x1²", "x2²", "x1·x2", "sin x1", "sin x2"]
    assert derived_inputs.DERIVED["x1^2"].label(["dosage"]) == "dosage²"
    assert "reads input column 2, but the data has 1 input column" in \
        derived_inputs.check_derived("sin(x2)", 1)
    assert "unknown derived input 'x3^2'" in derived_inputs.check_derived("x3^2")


def test_the_engine_feeds_the_derived_values_and_reads_only_the_data_columns():
    proj = with_derived(["x1*x2", "x1^2"])
    net, ds = proj.network, proj.dataset
    eng = Engine.compile(net)
    assert eng.n_input_columns == 2 and len(eng.input_ids) == 4
    z, a = eng.activations(ds.X)
    x1x2 = net.derived_input("x1*x2").id
    np.testing.assert_array_equal(a[:, eng.index[x1x2]], ds.X[:, 0] * ds.X[:, 1])
    with pytest.raises(EngineError, match="has 2 input neuron.s. .and 2 derived inputs, which "
                                          "take no column"):
        eng.check_data(np.zeros((3, 4)))
    # the training hot path gives the same gradient as the full evaluation
    loss, grad = eng.gradient(ds.X, ds.Y, "mse")
    ev = eng.evaluate(ds.X, ds.Y, "mse")
    np.testing.assert_allclose(grad, ev.grad, rtol=1e-14)
    assert loss == pytest.approx(ev.loss)


def test_derived_input_gradients_pass_the_finite_difference_check():
    proj = with_derived(list(derived_inputs.NAMES))
    ds = proj.dataset
    for sample in (None, 1, 3):
        tr = trace.build(proj.network, ds.X, ds.Y, loss="mse", sample=sample)
        rows = trace.gradient_check_trace(tr)
        assert all(r.ok and r.rel_error < 1e-6 for r in rows), [r for r in rows if not r.ok]


def test_x1_times_x2_lets_a_single_neuron_learn_xor():
    """No hidden layer: XOR is not linearly separable in (x1, x2), but it is once x1·x2 is an
    input (y = x1 + x2 − 2·x1·x2)."""
    net = Network()
    for name in ("x1", "x2"):
        net.add_neuron("input", id=name)
    net.add_neuron("input", id="x1x2", derive="x1*x2")
    net.add_neuron("output", id="y", activation="sigmoid")
    for i, src in enumerate(("x1", "x2", "x1x2")):
        net.connect(src, "y", 0.1 * (i + 1))
    ds = project.load(XOR).dataset
    tr = Trainer(net, ds.X, ds.Y, TrainSettings(loss="bce", optimizer="adam",
                                                learning_rate=0.1, epochs=600))
    tr.train()
    assert ds.accuracy(tr.engine.predict(ds.X)) == 1.0
    assert tr.full_loss() < 0.05


def test_only_an_input_is_derived_and_a_new_role_drops_it():
    net = Network()
    with pytest.raises(NetworkError, match="only an input neuron can be derived"):
        net.add_neuron("hidden", derive="x1^2")
    with pytest.raises(NetworkError, match="unknown derived input"):
        net.add_neuron("input", derive="cos(x1)")
    n = net.add_neuron("input", derive="x1^2")
    assert net.copy().neurons[n.id].derive == "x1^2"
    assert net.to_dict()["neurons"][0]["derive"] == "x1^2"
    net.set_role(n.id, "hidden")
    assert net.neurons[n.id].derive is None and "derive" not in net.neurons[n.id].to_dict()


def test_the_format_keeps_derived_inputs_and_refuses_bad_ones(tmp_path):
    proj = with_derived(["sin(x2)"])
    path = tmp_path / "derived.nnproj"
    project.save(proj, path)
    back = project.load(path)
    assert [n.derive for n in back.network.derived_inputs] == ["sin(x2)"]
    assert len(back.dataset.input_names) == 2          # the data is untouched
    doc = json.loads(path.read_text())
    k = next(i for i, n in enumerate(doc["network"]["neurons"]) if "derive" in n)
    bad = json.loads(json.dumps(doc))
    bad["network"]["neurons"][k]["derive"] = "tan(x1)"
    with pytest.raises(project.ProjectError,
                       match=rf"^\$\.network\.neurons\[{k}\]\.derive: unknown derived input"):
        project.loads(json.dumps(bad))
    bad = json.loads(json.dumps(doc))
    h = next(i for i, n in enumerate(doc["network"]["neurons"]) if n["role"] == "hidden")
    bad["network"]["neurons"][h]["derive"] = "x1^2"
    with pytest.raises(project.ProjectError, match=rf"neurons\[{h}\]\.derive: only an input"):
        project.loads(json.dumps(bad))
    # a derived input reading x2 needs two data columns
    one = project.load(paths.SAMPLES / "dosage-backprop.nnproj")
    d = project.to_dict(one)
    d["network"]["neurons"].append({"id": "d2", "role": "input", "activation": "identity",
                                    "derive": "x2^2"})
    with pytest.raises(project.ProjectError,
                       match=r"neurons\[\d+\]\.derive: the derived input 'x2\^2' reads input "
                             r"column 2, but the data has 1 input column"):
        project.from_dict(d)
    d["network"]["neurons"][-1]["derive"] = "x1^2"
    assert project.from_dict(d).network.derived_input("x1^2") is not None


def test_the_walkthrough_names_a_derived_input_by_its_formula():
    proj = with_derived(["x1*x2"])
    tr = trace.from_project(proj, sample=3)
    step = tr.steps[0]
    assert "x(x1·x2) = x1·x2 = 1" in step.formula
    assert "x(x1) = 1" in step.formula and "derived input" in step.explanation
    text = trace.worksheet(proj, 3, "text")
    assert "x1·x2" in text and "All gradients agree." in text
