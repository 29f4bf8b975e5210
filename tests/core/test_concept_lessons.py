"""The lessons of samples/concept_lessons.py show the seeds' numbers, and what each says will
happen (a stall, a warning, a fix) does happen with the lesson's own settings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnstudio import paths
from nnstudio.core import project
from nnstudio.core.engine import Engine
from nnstudio.core.trainer import Trainer

VANISHING = 1e-6    # the Gradients pane's threshold (nnstudio/gui/plots/gradients.py)


def load(name: str) -> project.Project:
    return project.load(paths.SAMPLES / f"{name}.nnproj")


def train(p: project.Project) -> Trainer:
    tr = Trainer(p.network, p.dataset.X, p.dataset.Y, p.settings)
    tr.train()
    return tr


def accuracy(p: project.Project, tr: Trainer) -> float:
    return p.dataset.accuracy(tr.engine.predict(p.dataset.X))


def switch(p: project.Project, activation: str) -> project.Project:
    for n in p.network.by_role("hidden"):
        p.network.set_activation(n.id, activation)
    return p


def test_weight_and_bias_draws_the_seeds_two_lines():
    p = load("weight-and-bias")
    net = p.network
    assert {k: net.get_param(k) for k in ("w1", "b1", "w2", "b2")} == {
        "w1": 1.0, "b1": 0.0, "w2": 2.0, "b2": -1.0}
    assert p.dataset.X[:, 0].tolist() == list(range(-5, 6))
    out = Engine.compile(net).predict(np.array([[0.0], [3.0]]))
    assert out.tolist() == [[0.0, -1.0], [3.0, 5.0]]
    assert "| y1 | 1 | 0 | 0 | 3 |" in p.description and "| y2 | 2 | −1 | −1 | 5 |" in p.description
    assert "Increasing the weight makes the line steeper" in p.description


def test_chain_rule_multiplies_the_link_slopes():
    p = load("chain-rule")
    net = p.network
    assert net.get_param("w1") == 2.0 and net.get_param("w2") == 0.25
    eng = Engine.compile(net)
    x = np.array([[1.0], [2.0]])
    d = (eng.predict(x)[1, 0] - eng.predict(x)[0, 0]) / 1.0
    assert d == 0.5 == 2 * 0.25
    assert "1/4 × 2 = 1/2" in p.description


def test_softmax_turns_34_32_25_into_088_012_00001():
    p = load("softmax")
    out = Engine.compile(p.network).predict(p.dataset.X)[0]
    assert [round(float(v), 4) for v in out] == [0.8807, 0.1192, 0.0001]
    assert float(out[2]) == pytest.approx(0.000109, abs=5e-7)
    assert out.sum() == pytest.approx(1.0)
    for v in ("0.8807, 0.1192 and 0.000109", "**0.88**", "**0.12**", "**0.0001**"):
        assert v in p.description
    ce = Engine.compile(p.network).loss(p.dataset.X, p.dataset.Y, "cross_entropy")
    assert round(ce, 2) == 2.13 == round(-math.log(0.1192), 2)
    assert round(math.exp(2), 1) == 7.4
    tied = p.copy()
    tied.network.set_param("apple", 34.0)
    assert Engine.compile(tied.network).predict(p.dataset.X)[0, :2].round(2).tolist() == [0.5,
                                                                                          0.5]
    tr = train(p)
    assert int(np.argmax(tr.engine.predict(p.dataset.X)[0])) == 1, "training makes apple win"


def test_why_nonlinearity_stalls_at_mse_025_then_tanh_learns():
    p = load("why-nonlinearity")
    assert {n.activation for n in p.network.by_role("hidden")} == {"identity"}
    tr = train(p)
    assert tr.full_loss() == pytest.approx(0.25, abs=1e-6)
    assert accuracy(p, tr) == 0.5
    fixed = switch(load("why-nonlinearity"), "tanh")
    tr = train(fixed)
    assert tr.full_loss() < 0.01 and accuracy(fixed, tr) == 1.0
    assert "Why do we need activation functions?" in p.description


def test_vanishing_gradients_fire_the_panes_warning_and_the_fix_clears_it():
    p = load("vanishing-gradients")
    eng = Engine.compile(p.network)
    means = eng.layer_grad_means(eng.gradient(p.dataset.X, p.dataset.Y, p.settings.loss)[1])
    assert len(means) == 9 and means[0] < VANISHING
    assert all(a < b for a, b in zip(means, means[1:], strict=False)), "shrinking to the input"
    tr = train(p)
    assert round(tr.full_loss(), 2) == 0.56 and accuracy(p, tr) < 0.7
    for act in ("tanh", "relu"):
        fixed = switch(load("vanishing-gradients"), act)
        eng = Engine.compile(fixed.network)
        grad = eng.gradient(fixed.dataset.X, fixed.dataset.Y, fixed.settings.loss)[1]
        assert eng.layer_grad_means(grad).min() > VANISHING, act
        tr = train(fixed)
        assert tr.full_loss() < 0.05 and accuracy(fixed, tr) == 1.0, act


def test_dying_relu_neurons_never_fire_and_raising_the_biases_revives_them():
    p = load("dying-relu")
    eng = Engine.compile(p.network)
    ev = eng.evaluate(p.dataset.X, p.dataset.Y, "mse")
    hidden = [eng.index[h] for h in ("h1", "h2", "h3", "h4")]
    assert ev.z[:, hidden].max() < 0 and round(float(ev.z[:, hidden].max()), 2) == -0.29
    assert round(1.5 * math.pi - 5, 2) == -0.29
    grad = dict(zip(eng.param_ids, ev.grad, strict=True))
    assert all(grad[k] == 0 for k in ("h1", "h2", "h3", "h4", "w1", "w2", "w3", "w4"))
    tr = train(p)
    assert round(tr.full_loss(), 2) == 0.49
    moved = dict(zip(tr.engine.param_ids, tr.engine.params, strict=True))
    assert all(moved[h] == -5.0 for h in ("h1", "h2", "h3", "h4")), "dead neurons never move"
    revived = load("dying-relu")
    revived.network.set_params(dict.fromkeys(("h1", "h2", "h3", "h4"), 0.0))
    assert train(revived).full_loss() < 0.05
    leaky = switch(load("dying-relu"), "leaky_relu")
    assert train(leaky).full_loss() < 0.3


def test_parametric_relu_learns_the_slope_025_from_001():
    p = load("parametric-relu")
    n = p.network.neurons["y"]
    assert (n.activation, n.slope, n.slope_trainable) == ("leaky_relu", 0.01, False)
    X, Y = p.dataset.X, p.dataset.Y
    assert X[:, 0].tolist() == list(range(-4, 5))
    assert round(Engine.compile(p.network).loss(X, Y, "mse"), 6) == 0.192   # the table
    relu = load("parametric-relu")
    relu.network.set_activation("y", "relu")
    assert round(Engine.compile(relu.network).loss(X, Y, "mse"), 3) == 0.208
    # as it is, nothing trains: the MSE stays at 0.192
    assert round(train(p).full_loss(), 6) == 0.192
    # 'Train slope': dL/dslope = −1.6, one step gives 0.17, training gives 0.25 and MSE 0
    p = load("parametric-relu")
    p.network.set_slope_trainable("y", True)
    eng = Engine.compile(p.network)
    _, grad = eng.gradient(X, Y, "mse")
    assert grad[eng.param_index("y:slope")] == pytest.approx(-1.6, abs=1e-12)
    tr = Trainer(p.network, X, Y, p.settings)
    tr.step()
    assert tr.engine.params[tr.engine.param_index("y:slope")] == pytest.approx(0.17, abs=1e-12)
    tr.train()
    tr.engine.store_params(p.network)
    assert p.network.neurons["y"].slope == pytest.approx(0.25, abs=1e-9)
    assert tr.full_loss() < 1e-12
    for text in ("**0.01**", "**0.25**", "0.192", "0.208", "**−1.6**", "**0.17**",
                 "Train slope", "Leaky slope of y: dL/dslope"):
        assert text in p.description, text


def test_architectures_names_the_four_and_the_3600_weights():
    p = load("architectures")
    for name in ("**MLP**", "**CNN**", "**RNN**", "**Transformer**", "**3,600 weights**"):
        assert name in p.description
    # the app builds two of the four: MLPs in every lesson, a CNN in the O-or-X lesson
    assert "the lesson **Convolution: O or X?** is one" in p.description
    assert p.description.count("Not built here") == 2     # RNN and Transformer
    assert load("cnn-o-vs-x").network.convolutions()
    assert [len(layer) for layer in p.network.layers()] == [3, 3, 3, 2]
    assert len(p.network.connections) == 24
