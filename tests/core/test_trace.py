"""The step-through walkthrough (nnstudio.core.trace): the seeds' numbers, agreement with the
engine and the trainer, the revealed state, the gradient check and the worksheet."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnstudio import paths
from nnstudio.core import regularization, trace
from nnstudio.core.engine import Engine
from nnstudio.core.network import Network, dense
from nnstudio.core.trainer import Trainer, TrainSettings

MINUS = "\u2212"


# ---------------------------------------------------------------------- fixtures
def dosage_network() -> tuple[Network, np.ndarray, np.ndarray]:
    """Seed 001's dosage network (StatQuest's): two softplus paths summed, b3 = 0."""
    n = Network()
    n.add_neuron("input", id="dose", label="Dosage")
    n.add_neuron("hidden", id="h1", label="h1", activation="softplus", bias=-1.43)
    n.add_neuron("hidden", id="h2", label="h2", activation="softplus", bias=0.57)
    n.add_neuron("output", id="out", label="Efficacy", activation="identity", bias=0.0)
    n.connect("dose", "h1", 3.34, id="w1")
    n.connect("dose", "h2", -3.53, id="w2")
    n.connect("h1", "out", -1.22, id="w3")
    n.connect("h2", "out", -2.30, id="w4")
    return n, np.array([[0.0], [0.5], [1.0]]), np.array([[0.0], [1.0], [0.0]])


def and_network() -> tuple[Network, np.ndarray, np.ndarray]:
    """Seed 002's AND perceptron: w1 = w2 = 0.5, b = −0.75, binary step."""
    n = Network()
    n.add_neuron("input", id="x1", label="x1")
    n.add_neuron("input", id="x2", label="x2")
    n.add_neuron("output", id="y", label="AND", activation="binary_step", bias=-0.75)
    n.connect("x1", "y", 0.5, id="w1")
    n.connect("x2", "y", 0.5, id="w2")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    Y = np.array([[0], [0], [0], [1]], dtype=float)
    return n, X, Y


def _project_or_none(name):
    path = paths.SAMPLES / name
    if not path.exists():
        return None
    from nnstudio.core import project
    return project.load(path)


def _dosage_sources():
    yield "built"
    if (paths.SAMPLES / "dosage-backprop.nnproj").exists():
        yield "sample"


def _dosage_trace(source, sample=None):
    if source == "built":
        net, X, Y = dosage_network()
        return trace.build(net, X, Y, loss="ssr", learning_rate=0.1, sample=sample)
    proj = _project_or_none("dosage-backprop.nnproj")
    return trace.from_project(proj, sample)


def step_of(tr, kind, pid=None, neuron=None):
    for s in tr.steps:
        if s.kind == kind and (pid is None or pid in s.params) and \
                (neuron is None or (s.neurons and s.neurons[0] == neuron)):
            return s
    raise AssertionError(f"no {kind} step for {pid or neuron}")


# ---------------------------------------------------------------------- seed 001
@pytest.mark.parametrize("source", list(_dosage_sources()))
def test_dosage_shows_seed_001_numbers(source):
    tr = _dosage_trace(source)
    out = tr.engine.output_ids[0]
    b3 = step_of(tr, "bias_grad", pid=out)
    assert b3.formula.endswith(f"= {MINUS}15.7")          # the slope at b3 = 0
    assert tr.grads[out] == pytest.approx(-15.7, abs=0.05)
    up = step_of(tr, "update", pid=out)
    assert f"step size = lr × gradient = 0.1 × ({MINUS}15.7) = {MINUS}1.57" in up.formula
    assert up.formula.endswith(f"b_new = 0 {MINUS} ({MINUS}1.57) = 1.57")
    assert tr.new_params[out] == pytest.approx(1.57, abs=0.005)
    # the loss at b3 = 0 (seed: "SSR is high"); the walkthrough writes the residuals out
    loss = step_of(tr, "loss")
    assert loss.formula.splitlines()[-1].startswith("SSR = (0 − (−2.6))² + (1 − (−1.61))²")
    assert loss.formula.endswith("= 20.4")


def test_dosage_forward_formulas_match_the_issue_example():
    tr = _dosage_trace("built", sample=1)
    z = step_of(tr, "weighted_sum", neuron="h1")
    assert z.formula.splitlines()[-1] == f"z = 3.34 × 0.5 + ({MINUS}1.43) = 0.24"
    a = step_of(tr, "activation", neuron="h1")
    assert a.formula.splitlines()[-1] == "a = softplus(0.24) = 0.82"
    # backward for a hidden neuron: the chain-rule product written out
    dz = step_of(tr, "dl_dz", neuron="h1")
    da = tr.evaluation.dl_da[0, tr.engine.index["h1"]]
    d = tr.evaluation.dl_dz[0, tr.engine.index["h1"]]
    assert dz.formula.splitlines()[-1] == (
        f"dL/dz = {trace.term(da)} × {trace.term(0.5597)} = {trace.num(d)}")


# ---------------------------------------------------------------------- seed 002
def test_and_perceptron_verification_table():
    net, X, Y = and_network()
    tr = trace.build(net, X, Y, loss="mse", learning_rate=0.1)
    z = step_of(tr, "weighted_sum", neuron="y")
    lines = z.formula.splitlines()[1:]
    assert lines == [
        f"sample 0:  z = 0.5 × 0 + 0.5 × 0 + ({MINUS}0.75) = {MINUS}0.75",
        f"sample 1:  z = 0.5 × 0 + 0.5 × 1 + ({MINUS}0.75) = {MINUS}0.25",
        f"sample 2:  z = 0.5 × 1 + 0.5 × 0 + ({MINUS}0.75) = {MINUS}0.25",
        "sample 3:  z = 0.5 × 1 + 0.5 × 1 + (−0.75) = 0.25",
    ]
    a = step_of(tr, "activation", neuron="y")
    assert a.formula.splitlines()[1:] == [
        f"sample 0:  a = step({MINUS}0.75) = 0",
        f"sample 1:  a = step({MINUS}0.25) = 0",
        f"sample 2:  a = step({MINUS}0.25) = 0",
        "sample 3:  a = step(0.25) = 1",
    ]
    # every prediction is right: zero residuals, zero loss, and the step function passes no
    # gradient back (the explanation says why a perceptron cannot learn by backprop)
    assert tr.evaluation.loss == 0
    assert "cannot learn by backprop" in step_of(tr, "da_dz", neuron="y").explanation


def test_and_sample_file_if_present():
    proj = _project_or_none("perceptron-and.nnproj")
    if proj is None:
        pytest.skip("samples/perceptron-and.nnproj not written yet")
    zs = []
    for k in range(len(proj.dataset)):
        tr = trace.from_project(proj, k)
        out = tr.engine.output_ids[0]
        zs.append((round(float(tr.evaluation.z[0, tr.engine.index[out]]), 10),
                   float(tr.evaluation.a[0, tr.engine.index[out]])))
    assert sorted(zs) == sorted([(-0.75, 0.0), (-0.25, 0.0), (-0.25, 0.0), (0.25, 1.0)])


# ---------------------------------------------------------------------- truth
def test_gradients_are_the_engines():
    net, X, Y = dosage_network()
    tr = trace.build(net, X, Y, loss="ssr", learning_rate=0.1)
    loss, grad = Engine.compile(net).gradient(X, Y, "ssr")
    assert [tr.grads[p] for p in tr.engine.param_ids] == list(grad)
    assert tr.evaluation.loss == loss
    for s in tr.steps:
        if s.kind in ("weight_grad", "bias_grad"):
            assert s.value == tr.grads[s.params[0]]


@pytest.mark.parametrize("sample", [None, 0, 2])
def test_update_equals_one_gradient_descent_training_step(sample):
    net, X, Y = dosage_network()
    net.set_trainable("w2", False)   # a locked parameter stays put in both
    tr = trace.build(net, X, Y, loss="ssr", learning_rate=0.1, sample=sample)
    rows = slice(None) if sample is None else slice(sample, sample + 1)
    trainer = Trainer(net, X[rows], Y[rows], TrainSettings(loss="ssr", optimizer="gd",
                                                           learning_rate=0.1))
    snap = trainer.run_step()
    after = tr.param_vector(tr.params_after(len(tr.steps) - 1))
    assert np.array_equal(after, snap.params)
    assert tr.loss_after == snap.loss
    assert "w2" not in tr.new_params
    locked = step_of(tr, "locked", pid="w2")
    assert locked.formula == f"weight Dosage → h2 = {MINUS}3.53 (locked)"
    assert locked.params == ("w2",) and locked.index == tr.phase_start("update")


def test_other_optimizer_is_named():
    net, X, Y = dosage_network()
    tr = trace.build(net, X, Y, loss="ssr", learning_rate=0.1, optimizer="adam")
    first = next(s for s in tr.steps if s.kind == "update")
    assert "Adam" in first.explanation and "plain gradient-descent step" in first.explanation


def test_state_reveals_values_step_by_step():
    net, X, Y = dosage_network()
    tr = trace.build(net, X, Y, loss="ssr", learning_rate=0.1, sample=1)
    assert tr.state_at(-1).neuron_text() == {}
    st0 = tr.state_at(0)
    assert st0.neuron_text() == {"dose": "x = 0.5"}
    k = step_of(tr, "weighted_sum", neuron="h1").index
    assert tr.state_at(k).neuron_text()["h1"] == "z = 0.24"
    assert tr.state_at(k).connection_text() == {"w1": "w = 3.34"}
    assert "h1" not in tr.state_at(k - 1).neuron_text()
    kb = step_of(tr, "dl_dz", neuron="out").index
    assert tr.state_at(kb - 1).arrows() == {}
    arrows = tr.state_at(kb).arrows()
    assert set(arrows) == {"out"}
    assert arrows["out"] == -tr.evaluation.dl_dz[0, tr.engine.index["out"]]
    ku = step_of(tr, "update", pid="out").index
    assert tr.state_at(ku).updated_params()["out"] == tr.new_params["out"]
    assert "out" not in tr.state_at(ku - 1).updated_params()
    new_out = trace.num(tr.new_params["out"])
    assert tr.state_at(ku).neuron_text()["out"].endswith(f"b: 0 \u2192 {new_out}")
    # going back and forth gives the same state
    assert tr.state_at(k).values == tr.state_at(k).values
    assert tr.phase_start("backward") == step_of(tr, "dl_da", neuron="out").index


def test_softmax_jacobian_and_fused_cross_entropy():
    net = dense([2, 3, 3], hidden="tanh", output="softmax", seed=3)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 2))
    Y = np.eye(3)[rng.integers(0, 3, size=5)]
    for loss in ("cross_entropy", "mse"):
        tr = trace.build(net, X, Y, loss=loss, learning_rate=0.1, sample=2)
        sm = [s for s in tr.steps if s.kind == "softmax"]
        assert len(sm) == 1 and "add up to 1" in sm[0].explanation
        o = tr.engine.output_ids[0]
        da_dz = step_of(tr, "da_dz", neuron=o)
        assert "Jacobian" in da_dz.explanation
        dz = step_of(tr, "dl_dz", neuron=o)
        assert dz.value == tr.evaluation.dl_dz[0, tr.engine.index[o]]
        if loss == "mse":
            assert "δ_ij" in dz.formula
        else:
            assert "(a − y)" in dz.formula


ACTS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus"]


@settings(max_examples=15, deadline=None)
@given(hidden=st.sampled_from(ACTS), output=st.sampled_from(["identity", "sigmoid", "tanh"]),
       loss=st.sampled_from(["ssr", "mse", "mae", "bce"]), seed=st.integers(0, 1000),
       batch=st.booleans(), penalty=st.sampled_from(["none", "l1", "l2"]))
def test_random_networks_trace_the_engines_numbers(hidden, output, loss, seed, batch, penalty):
    if loss == "bce" and output != "sigmoid":
        output = "sigmoid"
    net = dense([2, 3, 2], hidden=hidden, output=output, seed=seed)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(6, 2))
    Y = rng.uniform(0.05, 0.95, size=(6, 2)) if loss == "bce" else rng.normal(size=(6, 2))
    sample = None if batch else int(rng.integers(0, 6))
    pen = regularization.make_penalty(penalty, 0.03)
    tr = trace.build(net, X, Y, loss=loss, learning_rate=0.05, sample=sample, penalty=pen)
    ev = tr.evaluation
    full = tr.state_at(len(tr.steps) - 1)
    for nid in tr.engine.neuron_ids:
        j = tr.engine.index[nid]
        assert full.get(nid, "a") == tuple(ev.a[:, j])
        if net.neurons[nid].role != "input":
            assert full.get(nid, "z") == tuple(ev.z[:, j])
            assert full.get(nid, "dl_da") == tuple(ev.dl_da[:, j])
            assert full.get(nid, "dl_dz") == tuple(ev.dl_dz[:, j])
    for i, pid in enumerate(tr.engine.param_ids):
        assert full.get(pid, "grad") == ev.grad[i]
    phases = [s.phase for s in tr.steps]
    assert phases == sorted(phases, key=trace.PHASES.index)
    assert [s.index for s in tr.steps] == list(range(len(tr.steps)))
    checks = trace.gradient_check_trace(tr)
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]


# ---------------------------------------------------------------------- gradient check
def test_gradient_check_agrees_and_flags_a_wrong_gradient(monkeypatch):
    net, X, Y = dosage_network()
    rows = trace.gradient_check(net, X, Y, "ssr")
    assert [r.pid for r in rows] == Engine.compile(net).param_ids
    assert all(r.ok and r.rel_error < 1e-7 for r in rows)
    assert rows[-1].name == "bias of Efficacy"
    real = Engine.evaluate

    def wrong(self, X, Y, loss, penalty=None):
        ev = real(self, X, Y, loss, penalty)
        ev.grad[0] += 0.01
        return ev
    monkeypatch.setattr(Engine, "evaluate", wrong)
    rows = trace.gradient_check(net, X, Y, "ssr")
    assert not rows[0].ok and rows[0].note == "MISMATCH"
    assert all(r.ok for r in rows[1:])


def test_gradient_check_explains_kinks():
    n = Network()
    n.add_neuron("input", id="x")
    n.add_neuron("hidden", id="h", activation="relu", bias=0.0)
    n.add_neuron("output", id="y", activation="identity")
    n.connect("x", "h", 1.0, id="w1")
    n.connect("h", "y", 1.0, id="w2")
    rows = trace.gradient_check(n, np.array([[0.0]]), np.array([[1.0]]), "ssr")
    bias = next(r for r in rows if r.pid == "h")
    assert bias.ok and "kink" in bias.note


# ---------------------------------------------------------------------- formatting, errors
def test_number_format():
    assert trace.num(-15.655108) == f"{MINUS}15.7"
    assert trace.num(-1.5655) == f"{MINUS}1.57"
    assert trace.num(0.24) == "0.24"
    assert trace.num(3.0) == "3"
    assert trace.num(0.0) == "0"
    assert trace.num(-0.0) == "0"
    assert trace.num(123456.7) == "123457"
    assert trace.num(1.234e-7) == f"1.23e{MINUS}7"
    assert trace.num(float("inf")) == "\u221e"
    assert trace.term(-1.43) == f"({MINUS}1.43)"
    assert trace.num(9.9996) == "10"


def test_bad_arguments_raise_clear_errors():
    net, X, Y = dosage_network()
    with pytest.raises(trace.TraceError, match="sample 3 does not exist: the dataset has 3 row"):
        trace.build(net, X, Y, sample=3)
    with pytest.raises(trace.TraceError, match="must be a row number"):
        trace.build(net, X, Y, sample="1")
    with pytest.raises(trace.TraceError, match="unknown loss"):
        trace.build(net, X, Y, loss="hinge")
    with pytest.raises(trace.TraceError, match="cannot be evaluated"):
        trace.build(net, np.zeros((3, 2)), Y)
    empty = Network()
    empty.add_neuron("input", id="x")
    with pytest.raises(trace.TraceError, match="no output neuron"):
        trace.build(empty, X, Y)


def _project(net, X, Y, **st):
    ds = SimpleNamespace(X=X, Y=Y, input_names=["Dosage"], target_names=["Efficacy"])
    return SimpleNamespace(network=net, dataset=ds, name="Dosage",
                           settings=TrainSettings(**{"loss": "ssr", "optimizer": "gd",
                                                     "learning_rate": 0.1, **st}))


def test_worksheet_markdown_and_text():
    net, X, Y = dosage_network()
    md = trace.worksheet(_project(net, X, Y), None, "markdown")
    assert md.startswith("# Backpropagation worksheet: Dosage")
    for heading in ("## The network", "## The data", "## 1. Forward pass", "## 2. Loss",
                    "## 3. Backward pass", "## 4. Update", "## Gradient check"):
        assert heading in md
    assert f"b_new = 0 {MINUS} ({MINUS}1.57) = 1.57" in md
    assert "| bias of Efficacy | 0 | −15.7 | −1.57 | 1.57 |" in md
    assert "All gradients agree." in md
    txt = trace.worksheet(_project(net, X, Y), 1, "text")
    assert txt.startswith("Backpropagation worksheet: Dosage\n=====")
    assert f"z = 3.34 × 0.5 + ({MINUS}1.43) = 0.24" in txt
    assert "```" not in txt and "|" not in txt
    with pytest.raises(trace.TraceError, match="unknown format"):
        trace.worksheet(_project(net, X, Y), None, "html")


def test_skip_connection_and_bias_only_neuron():
    n = Network()
    n.add_neuron("input", id="x", label="x")
    n.add_neuron("hidden", id="h", label="h", activation="tanh", bias=0.1)
    n.add_neuron("hidden", id="c", label="const", activation="sigmoid", bias=0.3)
    n.add_neuron("output", id="y", label="y", activation="identity", bias=-0.2)
    n.connect("x", "h", 0.7, id="xh")
    n.connect("h", "y", -1.1, id="hy")
    n.connect("x", "y", 0.4, id="xy")     # skips the hidden layer
    n.connect("c", "y", 0.9, id="cy")
    X = np.array([[0.5], [-1.0]])
    Y = np.array([[1.0], [0.0]])
    tr = trace.build(n, X, Y, loss="mse", learning_rate=0.5)
    c = step_of(tr, "weighted_sum", neuron="c")
    assert c.formula.splitlines()[0] == "z = b" and c.connections == ()
    ys = step_of(tr, "weighted_sum", neuron="y")
    assert set(ys.connections) == {"hy", "xy", "cy"}
    # x feeds both h and y: its gradient contributions are summed by the engine, and the
    # walkthrough's dL/da for h lists y's dL/dz through the weight h → y
    dh = step_of(tr, "dl_da", neuron="h")
    assert dh.connections == ("hy",)
    full = tr.state_at(len(tr.steps) - 1)
    for i, pid in enumerate(tr.engine.param_ids):
        assert full.get(pid, "grad") == tr.evaluation.grad[i]
    assert all(r.ok for r in trace.gradient_check_trace(tr))


def test_prose_keeps_its_words_while_formulas_get_sigma():
    """The sum-to-Σ rewrite is for formulas: the identity neuron's note keeps "weighted sum"."""
    from nnstudio.core.trace.formatting import nice, prose
    assert nice("SSR = sum (y - a)^2") == "SSR = \u03a3 (y \u2212 a)\u00b2"
    assert prose("Passes the weighted sum through unchanged") == \
        "Passes the weighted sum through unchanged"
    assert prose("Squashes z into (-1, 1)") == "Squashes z into (\u22121, 1)"
    net = Network()
    net.add_neuron("input", id="x", label="x")
    net.add_neuron("output", id="y", label="y", activation="identity")
    net.connect("x", "y", 2.0, id="w")
    tr = trace.build(net, np.array([[1.0]]), np.array([[1.0]]), loss="mse", learning_rate=0.1)
    texts = " ".join(s.explanation for s in tr.steps)
    assert "Passes the weighted sum through unchanged" in texts and "weighted \u03a3" not in texts


def test_an_iteration_that_overflows_is_refused_once_plainly(recwarn):
    net, X, Y = dosage_network()
    net.set_param("out", 1e305)                          # the loss itself overflows
    with pytest.raises(trace.TraceError, match="the ssr loss overflows at these parameter"):
        trace.build(net, X, Y, loss="ssr", learning_rate=0.1)
    net, X, Y = dosage_network()
    net.set_param("h1", 1e152)        # h1 = 1e152, the output 1e154: the loss 1e308 is finite,
    net.set_param("w3", 100.0)        # dL/dw3 = 2e306 too, but 1000 times it is not
    with pytest.raises(trace.TraceError, match=r"the update of weight 'w3' \(h1 → Efficacy\) "
                       "overflows at these values; try a smaller learning rate"):
        trace.build(net, X, Y, loss="ssr", learning_rate=1000.0, sample=0)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
