"""Binary and categorical cross-entropy are exact from the raw sums for every output
activation they accept, at any saturation (analytic values always, PyTorch float64 autograd
when installed), and refused for the activations they cannot be exact for."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnstudio.core import losses
from nnstudio.core.engine import Engine, EngineError
from nnstudio.core.network import Network
from nnstudio.core.trainer import Trainer, TrainSettings


def one_layer(weights: list[list[float]], acts: list[str], biases=None) -> Network:
    """Inputs x0.. fully connected to outputs o0.. with these weights (rows: outputs)."""
    n_in = len(weights[0])
    neurons = [{"id": f"x{i}", "role": "input", "activation": "identity", "x": 0.0,
                "y": 60.0 * i} for i in range(n_in)]
    conns = []
    for k, (row, act) in enumerate(zip(weights, acts, strict=True)):
        b = 0.0 if biases is None else biases[k]
        neurons.append({"id": f"o{k}", "role": "output", "activation": act, "bias": b,
                        "x": 200.0, "y": 60.0 * k})
        conns += [{"id": f"w{k}_{i}", "source": f"x{i}", "target": f"o{k}", "weight": w}
                  for i, w in enumerate(row)]
    return Network.from_dict({"neurons": neurons, "connections": conns})


def grads_by_id(net: Network, X, Y, loss: str) -> tuple[float, dict[str, float]]:
    eng = Engine.compile(net)
    value, grad = eng.gradient(np.asarray(X, float), np.asarray(Y, float), loss)
    return value, dict(zip(eng.param_ids, grad.tolist(), strict=True))


@pytest.mark.parametrize("x", [30.0, 1000.0])
def test_bce_on_two_softmax_outputs_is_exact_at_saturation(x):
    """The issue's case: one input x, weights 1 and 0, target [0, 1]. With z = (x, 0):
    L = log(1 + e^x) (both terms), dL/dz0 = a0, dL/dz1 = -a0, so dL/dw = +-x a0."""
    net = one_layer([[1.0], [0.0]], ["softmax", "softmax"])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value, g = grads_by_id(net, [[x]], [[0.0, 1.0]], "bce")
    a0 = 1.0 / (1.0 + math.exp(-x))
    assert value == pytest.approx(x + math.log1p(math.exp(-x)), rel=1e-15)
    assert g["w0_0"] == pytest.approx(x * a0, rel=1e-14)
    assert g["w1_0"] == pytest.approx(-x * a0, rel=1e-14)
    assert g["o0"] == pytest.approx(a0, rel=1e-14) and g["o1"] == pytest.approx(-a0, rel=1e-14)


@pytest.mark.parametrize("z", [40.0, -40.0, 800.0, -800.0])
def test_every_accepted_output_activation_is_exact_at_saturation(z):
    """Analytic values at saturation: sigmoid under both losses, softplus under CE."""
    y = 1.0 if z < 0 else 0.0  # the wrong answer: the loss is about |z|
    # BCE, sigmoid: -log(1 - s(z)) = softplus(z) for y = 0; -log s(z) = softplus(-z) for y = 1
    net = one_layer([[1.0]], ["sigmoid"])
    value, g = grads_by_id(net, [[z]], [[y]], "bce")
    s = 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
    one_minus_s = math.exp(-z) / (1.0 + math.exp(-z)) if z >= 0 else 1.0 / (1.0 + math.exp(z))
    assert value == pytest.approx(abs(z) + math.log1p(math.exp(-abs(z))), rel=1e-15)
    assert g["o0"] == pytest.approx(s - y, rel=1e-14)
    # CE, sigmoid output, target 1: -log s(z); dL/dz = -(1 - s(z))
    value, g = grads_by_id(net, [[z]], [[1.0]], "cross_entropy")
    assert value == pytest.approx(max(-z, 0.0) + math.log1p(math.exp(-abs(z))), rel=1e-15)
    assert g["o0"] == pytest.approx(-one_minus_s, rel=1e-12, abs=1e-300)
    # CE, softplus output, target 1: -log softplus(z); far below 0, softplus(z) ~ e^z
    net = one_layer([[1.0]], ["softplus"])
    value, g = grads_by_id(net, [[z]], [[1.0]], "cross_entropy")
    if z < 0:
        assert value == pytest.approx(-z, rel=1e-15)       # -log e^z
        assert g["o0"] == pytest.approx(-1.0, rel=1e-12)   # -s(z)/softplus(z) -> -1
    else:
        assert value == pytest.approx(-math.log(z), rel=1e-14)
        assert g["o0"] == pytest.approx(-1.0 / z, rel=1e-12)


def test_softmax_of_one_output_is_one_and_bce_of_it_is_exact():
    net = one_layer([[1.0]], ["softmax"])
    value, g = grads_by_id(net, [[3.0]], [[1.0]], "bce")
    assert value == 0.0 and g["o0"] == 0.0
    value, _ = grads_by_id(net, [[3.0]], [[0.0]], "bce")
    assert value == math.inf  # a probability that is 1 by definition, asked to be 0


@pytest.mark.parametrize("loss, act", [("bce", "identity"), ("bce", "relu"),
                                       ("bce", "softplus"), ("bce", "tanh"),
                                       ("cross_entropy", "identity"),
                                       ("cross_entropy", "binary_step")])
def test_combinations_that_cannot_be_exact_are_refused(loss, act):
    net = one_layer([[1.0], [0.5]], ["sigmoid", act])
    eng = Engine.compile(net)
    X, Y = np.array([[1.0]]), np.array([[0.0, 1.0]])
    with pytest.raises(EngineError, match=f"output o1 is {act}: make it"):
        eng.loss(X, Y, loss)
    with pytest.raises(EngineError, match="computed exactly from the raw sums"):
        eng.gradient(X, Y, loss)
    with pytest.raises(EngineError):
        Trainer(net, X, Y, TrainSettings(loss=loss))


# ---------------------------------------------------------------------- against PyTorch
def _torch_loss(torch, Z, Yt, acts, loss):
    F = torch.nn.functional
    sm = [k for k, a in enumerate(acts) if a == "softmax"]
    cols_log_a, cols_log_1ma = [], []
    lsm = F.log_softmax(Z[:, sm], dim=1) if sm else None
    for k, a in enumerate(acts):
        z = Z[:, k]
        if a == "sigmoid":
            cols_log_a.append(F.logsigmoid(z))
            cols_log_1ma.append(F.logsigmoid(-z))
        elif a == "softplus":
            cols_log_a.append(torch.log(torch.logaddexp(z, torch.zeros_like(z))))
            cols_log_1ma.append(torch.zeros_like(z))
        else:
            j = sm.index(k)
            cols_log_a.append(lsm[:, j])
            others = [sm[i] for i in range(len(sm)) if i != j]
            cols_log_1ma.append(torch.logsumexp(Z[:, others], dim=1)
                                - torch.logsumexp(Z[:, sm], dim=1))
    log_a = torch.stack(cols_log_a, dim=1)
    log_1ma = torch.stack(cols_log_1ma, dim=1)
    if loss == "bce":
        return -(Yt * log_a + (1 - Yt) * log_1ma).mean()
    return -(Yt * log_a).sum() / Z.shape[0]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_saturated_random_networks_agree_with_pytorch_float64(data):
    torch = pytest.importorskip("torch")
    loss = data.draw(st.sampled_from(["bce", "cross_entropy"]))
    pool = ["sigmoid", "softmax"] + (["softplus"] if loss == "cross_entropy" else [])
    k = data.draw(st.integers(2, 4))
    acts = data.draw(st.lists(st.sampled_from(pool), min_size=k, max_size=k))
    if acts.count("softmax") == 1:
        acts[acts.index("softmax")] = "sigmoid"  # (a lone softmax is 1: covered above)
    n_in, n = 2, data.draw(st.integers(1, 4))
    big = data.draw(st.sampled_from([1.0, 30.0, 300.0]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    W = rng.normal(0, big, size=(k, n_in))
    X = rng.normal(0, 1, size=(n, n_in))
    for j, a in enumerate(acts):  # keep softplus off its underflow for torch's naive log
        if a == "softplus":
            W[j] = np.clip(W[j], -20, 20)
    Y = rng.integers(0, 2, size=(n, k)).astype(float)
    net = one_layer(W.tolist(), acts)
    value, g = grads_by_id(net, X, Y, loss)
    Wt = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    Z = torch.tensor(X, dtype=torch.float64) @ Wt.T
    L = _torch_loss(torch, Z, torch.tensor(Y, dtype=torch.float64), acts, loss)
    L.backward()
    assert value == pytest.approx(L.item(), rel=1e-12, abs=1e-300)
    mine = np.array([[g[f"w{j}_{i}"] for i in range(n_in)] for j in range(k)])
    np.testing.assert_allclose(mine, Wt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_the_loss_table_says_what_each_cross_entropy_is_exact_for():
    assert losses.get("bce").exact_for == ("sigmoid", "softmax")
    assert losses.get("cross_entropy").exact_for == ("sigmoid", "softmax", "softplus")
    assert losses.probability_problem("mse", ["relu"]) is None
