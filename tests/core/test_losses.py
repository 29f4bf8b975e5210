"""Losses: values and gradients against closed forms; the fused logit forms are stable."""

import math

import numpy as np
import pytest

from nnstudio.core import losses
from nnstudio.core.activations import sigmoid, softmax

P = np.array([[0.2, 0.7], [0.9, 0.4], [0.5, 0.1]])
Y = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def _fd_grad(name, p, y, h=1e-7):
    out = np.zeros_like(p)
    for idx in np.ndindex(p.shape):
        e = np.zeros_like(p)
        e[idx] = h
        out[idx] = (losses.get(name).value(p + e, y) - losses.get(name).value(p - e, y)) / (2 * h)
    return out


def test_the_table_has_every_loss_with_a_formula():
    assert set(losses.NAMES) == {"ssr", "mse", "mae", "bce", "cross_entropy"}
    for name, loss in losses.LOSSES.items():
        assert loss.name == name and loss.title and loss.note
        assert "=" in loss.formula
    assert losses.LOSSES["bce"].fused_with == "sigmoid"
    assert losses.LOSSES["cross_entropy"].fused_with == "softmax"
    assert losses.LOSSES["mae"].kinks
    assert not losses.LOSSES["ssr"].mean and losses.LOSSES["mse"].mean


def test_closed_form_values():
    r = Y - P
    assert losses.get("ssr").value(P, Y) == pytest.approx(float(np.sum(r ** 2)), rel=1e-15)
    assert losses.get("mse").value(P, Y) == pytest.approx(float(np.sum(r ** 2)) / 6, rel=1e-15)
    assert losses.get("mae").value(P, Y) == pytest.approx(float(np.sum(np.abs(r))) / 6, rel=1e-15)
    bce = -sum(y * math.log(p) + (1 - y) * math.log(1 - p)
               for p, y in zip(P.flat, Y.flat, strict=True)) / 6
    assert losses.get("bce").value(P, Y) == pytest.approx(bce, rel=1e-14)
    q = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    t = np.array([[0, 0, 1.0], [1.0, 0, 0]])
    ce = -(math.log(0.5) + math.log(0.6)) / 2
    assert losses.get("cross_entropy").value(q, t) == pytest.approx(ce, rel=1e-15)


def test_seed_001_numbers():
    """The intercept example: y = 2x + 1 at x = 0..4, slope 2, intercept 10: SSR = 405."""
    x = np.arange(5.0)
    y = (2 * x + 1)[:, None]
    pred = (2 * x + 10)[:, None]
    assert losses.get("ssr").value(pred, y) == 405.0
    # dSSR/dintercept = sum of dSSR/da = 2 * 5 * 9 = 90; one step at lr 0.01 gives 9.10
    g = losses.get("ssr").grad(pred, y)
    assert g.sum() == pytest.approx(90.0)
    assert 10 - 0.01 * g.sum() == pytest.approx(9.10)


@pytest.mark.parametrize("name", ["ssr", "mse", "mae", "bce", "cross_entropy"])
def test_gradients_match_finite_differences(name):
    p, y = P, Y
    if name == "cross_entropy":
        p = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
        y = np.array([[0.1, 0.2, 0.7], [1.0, 0, 0]])
    np.testing.assert_allclose(losses.get(name).grad(p, y), _fd_grad(name, p, y),
                               rtol=1e-6, atol=1e-9)


def test_probabilities_are_never_clipped():
    """Given as probabilities, 0 where the target needs it is an infinite loss (the engine
    never gets there: it computes both losses from the raw sums)."""
    p = np.array([[0.0, 1.0]])
    y = np.array([[1.0, 0.0]])
    assert losses.get("bce").value(p, y) == np.inf
    assert losses.get("cross_entropy").value(p, y) == np.inf
    assert losses.get("bce").value(np.array([[1.0, 0.0]]), np.array([[1.0, 0.0]])) == 0.0
    assert np.all(np.isinf(losses.get("bce").grad(p, y)))


def test_bce_from_the_raw_sums_matches_bce_and_is_stable():
    z = np.array([[-3.0, 0.5], [2.0, -0.1]])
    y = np.array([[0.0, 1.0], [1.0, 0.3]])
    v, dz = losses.cross_entropy("bce", z, y, ["sigmoid", "sigmoid"])
    assert v == pytest.approx(losses.get("bce").value(sigmoid(z), y), rel=1e-13)
    np.testing.assert_allclose(dz, (sigmoid(z) - y) / 4)
    # at +-1000 the value is exact and the gradient finite
    big = np.array([[1000.0, -1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        v, dz = losses.cross_entropy("bce", big, np.array([[0.0, 1.0]]), ["sigmoid"] * 2)
    assert v == pytest.approx(1000.0)
    np.testing.assert_allclose(dz, [[0.5, -0.5]])


def test_cross_entropy_from_the_raw_sums_matches_and_is_stable():
    z = np.array([[34.0, 32.0, 25.0], [0.1, -0.2, 0.3]])
    y = np.array([[0.0, 1.0, 0.0], [0.2, 0.5, 0.3]])
    v, dz = losses.cross_entropy("cross_entropy", z, y, ["softmax"] * 3)
    assert v == pytest.approx(losses.get("cross_entropy").value(softmax(z), y), rel=1e-13)
    np.testing.assert_allclose(dz, (softmax(z) - y) / 2, atol=1e-16)
    # exact where probabilities would run out of digits: a logit gap of 1000
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        v, dz = losses.cross_entropy("cross_entropy", np.array([[1000.0, 0.0]]),
                                     np.array([[0.0, 1.0]]), ["softmax"] * 2)
    assert v == pytest.approx(1000.0)
    np.testing.assert_allclose(dz, [[1.0, -1.0]])


def test_unknown_loss_is_refused_by_name():
    with pytest.raises(KeyError, match="unknown loss 'hinge'"):
        losses.get("hinge")


@pytest.mark.parametrize("loss, acts, expected", [
    ("bce", ["sigmoid", "sigmoid"], "sigmoid"),
    ("bce", ["sigmoid", "tanh"], None),          # one output without the partner: plain form
    ("cross_entropy", ["softmax"] * 3, "softmax"),
    ("cross_entropy", ["softmax", "sigmoid"], None),
    ("mse", ["sigmoid"], None),                  # a loss with no partner
    ("bce", [], None),                           # no outputs: nothing to fuse with
])
def test_fused_form_is_the_partner_when_every_output_has_it(loss, acts, expected):
    assert losses.fused_form(loss, acts) == expected


def test_the_engine_uses_the_fused_form_exactly_when_fused_form_says_so():
    """One rule: with sigmoid outputs and BCE the engine's loss is the from-logits value,
    exact where a plain formula would clip a to 1 - 1e-12; with an output BCE has no exact
    form for (tanh) the engine refuses instead of clipping."""
    from nnstudio.core.engine import Engine, EngineError
    from nnstudio.core.network import Network

    for second in ("sigmoid", "tanh"):
        net = Network()
        net.add_neuron("input", id="x")
        net.add_neuron("output", id="y1", activation="sigmoid", bias=40.0)
        net.add_neuron("output", id="y2", activation=second, bias=0.0)
        net.connect("x", "y1", 0.0)
        net.connect("x", "y2", 0.0)
        X, Y = np.zeros((1, 1)), np.array([[0.0, 1.0]])
        if losses.fused_form("bce", ["sigmoid", second]):
            value = Engine.compile(net).loss(X, Y, "bce")
            exact = losses.cross_entropy("bce", np.array([[40.0, 0.0]]), Y, ["sigmoid"] * 2)[0]
            assert value == pytest.approx(exact, rel=1e-14)
            assert value == pytest.approx((40.0 + np.log1p(np.exp(-40.0)) + np.log(2.0)) / 2,
                                          rel=1e-15)
        else:
            with pytest.raises(EngineError, match="output y2 is tanh"):
                Engine.compile(net).loss(X, Y, "bce")
