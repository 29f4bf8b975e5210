"""Gradient correctness of the compiled engine, checked with hypothesis on random DAGs.

Every analytic gradient (dL/dw, dL/db, dL/dslope of a trainable leaky slope, and the
Evaluation's dL/dz and dL/da per neuron and sample) is compared with a fourth-order central
finite difference in float64, with and without a regularization penalty (L1, L2) in the
objective. Samples whose weighted sums lie near an activation's kink (or whose MAE residual is
near 0, or with L1 a weight near 0) are filtered out, since there the derivative is undefined.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nnstudio.core import activations as acts
from nnstudio.core.engine import Engine, EngineError
from nnstudio.core.network import Network, dense, slope_neuron, slope_param_id
from nnstudio.core.regularization import Penalty

HIDDEN_ACTS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "binary_step"]
OUTPUT_ELEMENTWISE = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus"]
LOSSES = ["ssr", "mse", "mae", "bce", "cross_entropy"]
KINK_MARGIN = 2e-2      # |z| at a kink must exceed this
H = 1e-4                # finite-difference step
RTOL = 1e-6

PENALTIES = [None, Penalty("l1", 0.07), Penalty("l2", 0.07)]

SETTINGS = settings(max_examples=100, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


# ---------------------------------------------------------------------------- random networks
@st.composite
def problems(draw, loss: str | None = None):
    """A random feed-forward DAG with data and a loss that is defined for its outputs."""
    loss = loss or draw(st.sampled_from(LOSSES))
    n_in = draw(st.integers(1, 3))
    n_hid = draw(st.integers(0, 5))
    n_out = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)

    # output activations: pick a family that makes the loss well defined
    if loss == "bce":
        # sigmoid only (the fused, stable form) or a mix of sigmoid and a softmax group,
        # both of which stay inside (0, 1)
        mode = draw(st.sampled_from(["sigmoid", "softmax+sigmoid", "softmax"]))
    elif loss == "cross_entropy":
        mode = draw(st.sampled_from(["softmax", "softmax+sigmoid", "sigmoid", "softplus"]))
    else:
        mode = draw(st.sampled_from(["any", "softmax", "softmax+any"]))
    out_acts = []
    for _ in range(n_out):
        if mode == "sigmoid":
            out_acts.append("sigmoid")
        elif mode == "softplus":
            out_acts.append("softplus")
        elif mode == "softmax":
            out_acts.append("softmax")
        elif mode == "softmax+sigmoid":
            out_acts.append(draw(st.sampled_from(["softmax", "sigmoid"])))
        elif mode == "softmax+any":
            out_acts.append(draw(st.sampled_from(["softmax", *OUTPUT_ELEMENTWISE])))
        else:
            out_acts.append(draw(st.sampled_from(OUTPUT_ELEMENTWISE)))
    hid_acts = [draw(st.sampled_from(HIDDEN_ACTS)) for _ in range(n_hid)]

    # a random topological order: inputs first, then hidden and outputs interleaved
    hidden = [f"h{i}" for i in range(n_hid)]
    outs = [f"o{i}" for i in range(n_out)]
    later = draw(st.permutations(hidden + outs))
    inputs = [f"i{i}" for i in range(n_in)]
    order = inputs + list(later)
    roles = {**dict.fromkeys(inputs, "input"), **dict.fromkeys(hidden, "hidden"),
             **dict.fromkeys(outs, "output")}
    act_of = {**dict.fromkeys(inputs, "identity"), **dict(zip(hidden, hid_acts, strict=True)),
              **dict(zip(outs, out_acts, strict=True))}

    net = Network()
    # insertion order is shuffled too, so that engine order != network order
    for nid in draw(st.permutations(order)):
        leaky = act_of[nid] == "leaky_relu"
        net.add_neuron(roles[nid], id=nid, activation=act_of[nid],
                       bias=float(rng.uniform(-1, 1)),
                       slope=float(rng.uniform(0.01, 0.5)),
                       slope_trainable=leaky and draw(st.booleans()))
    edges = []
    for j, t in enumerate(order):
        if roles[t] == "input":
            continue
        cands = [s for s in order[:j] if roles[s] != "output"]
        # every neuron gets a few sources (possibly none: a bias-only neuron), skip connections
        # included, since any earlier neuron may be drawn
        k = draw(st.integers(0 if rng.random() < 0.1 else 1, max(1, min(4, len(cands)))))
        k = min(k, len(cands))
        for s in rng.choice(len(cands), size=k, replace=False) if k else []:
            edges.append((cands[int(s)], t))
    for s, t in draw(st.permutations(edges)):
        net.connect(s, t, float(rng.uniform(-1.5, 1.5)))

    n = draw(st.integers(1, 6))
    X = rng.uniform(-2, 2, size=(n, n_in))
    if loss == "bce":
        Y = rng.uniform(0, 1, size=(n, n_out))
    elif loss == "cross_entropy":
        Y = rng.dirichlet(np.ones(n_out), size=n) if rng.random() < 0.5 else \
            np.eye(n_out)[rng.integers(0, n_out, size=n)]
    else:
        Y = rng.uniform(-2, 2, size=(n, n_out))
    return net, X, Y, loss


def _away_from_kinks(net: Network, eng: Engine, X, Y, loss: str,
                     penalty: Penalty | None = None) -> bool:
    if penalty is not None and penalty.kind == "l1" and \
            np.min(np.abs(eng.params[eng.weight_mask == 1]), initial=1.0) < KINK_MARGIN:
        return False
    ev = eng.evaluate(X, Y, loss)
    for nid, n in net.neurons.items():
        kinks = acts.ACTIVATIONS[n.activation].kinks
        if not kinks or n.role == "input":
            continue
        z = ev.z[:, eng.index[nid]]
        if np.min(np.abs(z[:, None] - np.array(kinks)[None, :])) < KINK_MARGIN:
            return False
    if loss == "mae" and np.min(np.abs(ev.outputs - Y)) < KINK_MARGIN:
        return False
    return True


def _fd(f, x0: float) -> float:
    """Fourth-order central difference of f at x0."""
    h = H * max(1.0, abs(x0))
    return (-f(x0 + 2 * h) + 8 * f(x0 + h) - 8 * f(x0 - h) + f(x0 - 2 * h)) / (12 * h)


def _assert_close(analytic, numeric, what):
    analytic, numeric = np.asarray(analytic, float), np.asarray(numeric, float)
    scale = max(np.max(np.abs(numeric), initial=0.0), np.max(np.abs(analytic), initial=0.0))
    # relative error per component, with a floor far below any gradient that matters
    tol = RTOL * np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), 1e-3 * scale) + 1e-10
    bad = np.abs(analytic - numeric) > tol
    rel = np.abs(analytic - numeric)[bad] / np.maximum(np.abs(numeric[bad]), 1e-300)
    assert not bad.any(), (
        f"{what}: analytic {analytic[bad]} vs finite differences {numeric[bad]} "
        f"(relative error {rel})"
    )


def _param_fd(eng: Engine, X, Y, loss: str, penalty: Penalty | None = None) -> np.ndarray:
    """d(loss + penalty)/dparams by finite differences."""
    base = eng.params.copy()
    out = np.empty_like(base)
    for i in range(base.size):
        def f(v, i=i):
            eng.params[i] = v
            return eng.loss(X, Y, loss) + eng.penalty(penalty)
        out[i] = _fd(f, base[i])
        eng.params[:] = base
    return out


# ---------------------------------------------------------------------------- the checks
@pytest.mark.parametrize("loss", LOSSES)
@SETTINGS
@given(data=st.data())
def test_parameter_gradients_match_finite_differences(loss, data):
    net, X, Y, loss = data.draw(problems(loss))
    penalty = data.draw(st.sampled_from(PENALTIES))
    eng = Engine.compile(net)
    assume(_away_from_kinks(net, eng, X, Y, loss, penalty))
    value, grad = eng.gradient(X, Y, loss, penalty=penalty)
    assert value == pytest.approx(eng.loss(X, Y, loss), rel=1e-12, abs=1e-300)
    assert np.all(np.isfinite(grad))
    _assert_close(grad, _param_fd(eng, X, Y, loss, penalty), f"dL/dparams ({loss}, {penalty})")
    # evaluate() reports the same loss, penalty and gradient as the hot path
    ev = eng.evaluate(X, Y, loss, penalty)
    assert ev.loss == pytest.approx(value, rel=1e-12, abs=1e-300)
    assert ev.penalty == eng.penalty(penalty)
    np.testing.assert_allclose(ev.grad, grad, rtol=1e-12, atol=1e-300)


@st.composite
def dense_problems(draw):
    """Layered, fully connected nets: the engine's fast path (one matrix product per layer,
    one activation per block, reused work arrays)."""
    sizes = [draw(st.integers(1, 4)) for _ in range(draw(st.integers(2, 5)))]
    hidden = draw(st.sampled_from(HIDDEN_ACTS))
    loss = draw(st.sampled_from(LOSSES))
    if loss == "bce":
        output = draw(st.sampled_from(["sigmoid", "softmax"]))
    elif loss == "cross_entropy":
        output = draw(st.sampled_from(["softmax", "sigmoid", "softplus"]))
    else:
        output = draw(st.sampled_from(["softmax", *OUTPUT_ELEMENTWISE]))
    seed = draw(st.integers(0, 2**32 - 1))
    net = dense(sizes, hidden=hidden, output=output, seed=seed % 1000, init="uniform")
    rng = np.random.default_rng(seed)
    trainable_slopes = draw(st.booleans())
    for n in net.neurons.values():
        if n.activation == "leaky_relu":
            net.set_activation(n.id, "leaky_relu", slope=float(rng.uniform(0.01, 0.5)))
            net.set_slope_trainable(n.id, trainable_slopes)
    n = draw(st.integers(1, 6))
    X = rng.uniform(-2, 2, size=(n, sizes[0]))
    if loss == "bce":
        Y = rng.uniform(0, 1, size=(n, sizes[-1]))
    elif loss == "cross_entropy":
        Y = rng.dirichlet(np.ones(sizes[-1]), size=n)
    else:
        Y = rng.uniform(-2, 2, size=(n, sizes[-1]))
    return net, X, Y, loss


@SETTINGS
@given(data=st.data())
def test_dense_fast_path_gradients_match_finite_differences(data):
    net, X, Y, loss = data.draw(dense_problems())
    penalty = data.draw(st.sampled_from(PENALTIES))
    eng = Engine.compile(net)
    assert all(blk.rows is None for blk in eng.blocks[1:])  # every block is dense
    assume(_away_from_kinks(net, eng, X, Y, loss, penalty))
    value, grad = eng.gradient(X, Y, loss, penalty=penalty)
    _assert_close(grad, _param_fd(eng, X, Y, loss, penalty),
                  f"dL/dparams of a dense net ({loss}, {penalty})")
    ev = eng.evaluate(X, Y, loss, penalty)
    assert ev.loss == pytest.approx(value, rel=1e-12, abs=1e-300)
    np.testing.assert_allclose(ev.grad, grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("loss", LOSSES)
def test_big_batches_are_evaluated_in_chunks_with_the_same_loss(loss):
    net = dense([3, 6, 4], hidden="tanh",
                output={"bce": "sigmoid", "cross_entropy": "softmax"}.get(loss, "identity"),
                seed=2)
    eng = Engine.compile(net)
    rng = np.random.default_rng(5)
    n = 2 * Engine.LOSS_CHUNK + 123  # two full chunks and a short one
    X = rng.normal(size=(n, 3))
    Y = rng.uniform(0, 1, size=(n, 4)) if loss != "cross_entropy" else \
        np.eye(4)[rng.integers(0, 4, n)]
    whole = eng.evaluate(X, Y, loss).loss  # evaluate() never chunks
    assert eng.loss(X, Y, loss) == pytest.approx(whole, rel=1e-12)
    # and the chunks' reused arrays do not leak into the next call
    assert eng.loss(X[:1500], Y[:1500], loss) == pytest.approx(
        eng.evaluate(X[:1500], Y[:1500], loss).loss, rel=1e-12)


@SETTINGS
@given(data=st.data())
def test_evaluation_dl_dz_and_dl_da_match_finite_differences(data):
    net, X, Y, loss = data.draw(problems())
    eng = Engine.compile(net)
    assume(_away_from_kinks(net, eng, X, Y, loss))
    ev = eng.evaluate(X, Y, loss)
    n = X.shape[0]
    assert ev.z.shape == ev.a.shape == ev.dl_da.shape == ev.dl_dz.shape == (n, len(eng.neuron_ids))
    # the per-sample share of the loss: every loss is a sum over samples, SSR plain, the
    # others divided by the number of samples
    share = 1.0 if loss == "ssr" else 1.0 / n
    s = data.draw(st.integers(0, n - 1), label="sample")
    xs, ys = X[s:s + 1], Y[s:s + 1]
    for nid, neuron in net.neurons.items():
        j = eng.index[nid]
        if neuron.role == "input":
            # an input's a is the data value: perturb it directly
            def f(v, nid=nid):
                x = xs.copy()
                x[0, eng.input_ids.index(nid)] = v
                return eng.loss(x, ys, loss)
            num = share * _fd(f, xs[0, eng.input_ids.index(nid)])
            _assert_close(ev.dl_da[s, j], num, f"dL/da of input {nid}")
            _assert_close(ev.dl_dz[s, j], num, f"dL/dz of input {nid}")
            continue
        # perturbing a neuron's bias perturbs its z one for one
        i = eng.param_index(nid)
        base = eng.params[i]

        def f(v, i=i):
            eng.params[i] = v
            return eng.loss(xs, ys, loss)
        num = share * _fd(f, base)
        eng.params[i] = base
        _assert_close(ev.dl_dz[s, j], num, f"dL/dz of {neuron.role} {nid} ({neuron.activation})")
        # the bias gradient is dL/dz summed over the samples
        _assert_close(ev.grad[i], ev.dl_dz[:, j].sum(), f"dL/db of {nid}")
    # dL/da: for every non-output neuron, the weighted sum of its targets' dL/dz
    for nid, neuron in net.neurons.items():
        if neuron.role == "output":
            continue
        expect = np.zeros(n)
        for c in net.outgoing(nid):
            expect += c.weight * ev.dl_dz[:, eng.index[c.target]]
        np.testing.assert_allclose(ev.dl_da[:, eng.index[nid]], expect, rtol=1e-12, atol=1e-14)
        if neuron.role == "hidden" and acts.ACTIVATIONS[neuron.activation].elementwise:
            j = eng.index[nid]
            d = acts.derivative(neuron.activation, ev.z[:, j], neuron.slope)
            np.testing.assert_allclose(ev.dl_dz[:, j], ev.dl_da[:, j] * d, rtol=1e-12, atol=1e-14)
    # a and z are consistent with each neuron's own formula
    for nid, neuron in net.neurons.items():
        j = eng.index[nid]
        if neuron.role == "input":
            np.testing.assert_array_equal(ev.a[:, j], X[:, eng.input_ids.index(nid)])
            continue
        z = np.full(n, neuron.bias)
        for c in net.incoming(nid):
            z = z + c.weight * ev.a[:, eng.index[c.source]]
        np.testing.assert_allclose(ev.z[:, j], z, rtol=1e-12, atol=1e-12)
        if neuron.activation != "softmax":
            np.testing.assert_allclose(ev.a[:, j], acts.apply(neuron.activation, z, neuron.slope),
                                       rtol=1e-12, atol=1e-15)
    sm = [o.id for o in net.outputs if o.activation == "softmax"]
    if sm:
        cols = [eng.index[o] for o in sm]
        np.testing.assert_allclose(ev.a[:, cols], acts.softmax(ev.z[:, cols]), rtol=1e-12)
        np.testing.assert_allclose(ev.a[:, cols].sum(axis=1), 1.0, rtol=1e-12)


@SETTINGS
@given(data=st.data())
def test_locked_parameters_still_get_gradients_and_predict_matches(data):
    net, X, Y, loss = data.draw(problems())
    pids = net.param_ids()
    for pid in [p for p in pids if slope_neuron(p) is None][::2]:   # a slope has no lock
        net.set_trainable(pid, False)
    eng = Engine.compile(net)
    assert [bool(t) for t in eng.trainable] == [net.store.trainable[net.param_slot(p)]
                                               for p in eng.param_ids]
    np.testing.assert_array_equal(eng.params, [net.get_param(p) for p in eng.param_ids])
    assert sorted(eng.param_ids) == sorted(pids)
    ev = eng.evaluate(X, Y, loss)
    np.testing.assert_allclose(eng.predict(X), ev.outputs, rtol=0, atol=0)
    _, grad = eng.gradient(X, Y, loss)
    # the hot path sums in a different order than evaluate(): equal to rounding
    np.testing.assert_allclose(grad, ev.grad, rtol=1e-12, atol=1e-15)


def test_hot_path_reuses_the_given_gradient_buffer_and_is_repeatable():
    net = dense([3, 5, 4, 2], hidden="tanh", output="softmax", seed=3)
    eng = Engine.compile(net)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(7, 3))
    Y = np.eye(2)[rng.integers(0, 2, 7)]
    buf = np.empty_like(eng.params)
    l1, g1 = eng.gradient(X, Y, "cross_entropy", buf)
    assert g1 is buf
    g1 = g1.copy()
    # a different batch size in between must not disturb reused buffers
    eng.gradient(X[:3], Y[:3], "cross_entropy")
    l2, g2 = eng.gradient(X, Y, "cross_entropy")
    assert l1 == l2
    np.testing.assert_array_equal(g1, g2)
    # and the returned arrays are not overwritten by the next call
    p1 = eng.predict(X)
    eng.predict(X[:2] * 5)
    np.testing.assert_array_equal(p1, eng.predict(X))
    ev1 = eng.evaluate(X, Y, "cross_entropy")
    z1 = ev1.z.copy()
    eng.evaluate(X * 2, Y, "cross_entropy")
    np.testing.assert_array_equal(ev1.z, z1)


def test_engine_refuses_networks_and_data_it_cannot_evaluate():
    net = Network()
    net.add_neuron("input", id="x")
    with pytest.raises(EngineError, match="no output"):
        Engine.compile(net)
    net2 = Network()
    net2.add_neuron("output", id="y")
    with pytest.raises(EngineError, match="no input"):
        Engine.compile(net2)
    net = dense([2, 3, 1], seed=0)
    eng = Engine.compile(net)
    with pytest.raises(EngineError, match="3 input column"):
        eng.predict(np.zeros((4, 3)))
    with pytest.raises(EngineError, match="2 target column"):
        eng.loss(np.zeros((4, 2)), np.zeros((4, 2)), "mse")


def test_parameter_edits_do_not_recompile_but_structure_edits_do():
    net = dense([2, 3, 1], seed=0)
    eng = Engine.for_network(net)
    pid = net.param_ids()[0]
    net.set_param(pid, 0.75)
    again = Engine.for_network(net, eng)
    assert again is eng
    assert eng.params[eng.param_index(pid)] == 0.75
    net.add_neuron("hidden", id="extra")
    assert Engine.for_network(net, eng) is not eng


def test_store_params_round_trip_and_layer_grad_means():
    net = dense([2, 4, 3, 1], hidden="tanh", seed=1)
    eng = Engine.compile(net)
    X = np.random.default_rng(1).normal(size=(5, 2))
    Y = X[:, :1] * 0.5
    _, grad = eng.gradient(X, Y, "mse")
    means = eng.layer_grad_means(grad)
    assert means.shape == (3,)
    assert eng.block_depths() == [1, 2, 3]
    for k, blk in enumerate(eng.blocks[1:]):
        part = grad[blk.w_off:blk.b_off + blk.n]
        assert means[k] == pytest.approx(np.mean(np.abs(part)))
    for i, pid in enumerate(eng.param_ids):
        assert eng.param_index(pid) == i
    with pytest.raises(EngineError, match="no parameter 'nope'"):
        eng.param_index("nope")
    new = eng.params + 0.5
    eng.store_params(net, new)
    np.testing.assert_array_equal([net.get_param(p) for p in eng.param_ids], new)


# ---------------------------------------------------------------------------- PyTorch oracle
@SETTINGS
@given(data=st.data())
def test_gradients_match_pytorch_autograd(data):
    torch = pytest.importorskip("torch")
    net, X, Y, loss = data.draw(problems())
    eng = Engine.compile(net)
    value, grad = eng.gradient(X, Y, loss)
    if loss in ("bce", "cross_entropy"):
        # where an output is exactly 0 or 1 (a softmax group of one neuron, a saturated
        # sigmoid) the two libraries clip the logarithm differently (1e-12 here, e^-100 there)
        p = eng.predict(X)
        assume(np.all(p > 1e-9) and (loss != "bce" or np.all(p < 1 - 1e-9)))

    params = {pid: torch.tensor(net.get_param(pid), dtype=torch.float64, requires_grad=True)
              for pid in net.param_ids()}
    Xt = torch.tensor(X, dtype=torch.float64)
    Yt = torch.tensor(Y, dtype=torch.float64)
    a, z = {}, {}
    for nid in net.topological_order():
        n = net.neurons[nid]
        if n.role == "input":
            a[nid] = Xt[:, eng.input_ids.index(nid)]
            continue
        slope = params.get(slope_param_id(nid), n.slope)   # trainable: a tensor
        zz = params[nid].expand(X.shape[0])
        for c in net.incoming(nid):
            zz = zz + params[c.id] * a[c.source]
        z[nid] = zz
        f = {
            "identity": lambda t: t, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
            "relu": torch.relu, "softplus": torch.nn.functional.softplus,
            "leaky_relu": lambda t, s=slope: torch.where(t > 0, t, s * t),
            "binary_step": lambda t: (t > 0).to(torch.float64),
            "softmax": lambda t: t,
        }[n.activation]
        a[nid] = f(zz)
    outs = [o.id for o in net.outputs]
    sm = [o for o in outs if net.neurons[o].activation == "softmax"]
    if sm:
        p = torch.softmax(torch.stack([z[o] for o in sm], dim=1), dim=1)
        for k, o in enumerate(sm):
            a[o] = p[:, k]
    P = torch.stack([a[o] for o in outs], dim=1)
    if loss == "ssr":
        L = ((Yt - P) ** 2).sum()
    elif loss == "mse":
        L = ((Yt - P) ** 2).mean()
    elif loss == "mae":
        L = (Yt - P).abs().mean()
    elif loss == "bce":
        if all(net.neurons[o].activation == "sigmoid" for o in outs):
            Z = torch.stack([z[o] for o in outs], dim=1)
            L = torch.nn.functional.binary_cross_entropy_with_logits(Z, Yt)
        else:
            L = torch.nn.functional.binary_cross_entropy(P, Yt)
    else:
        if all(net.neurons[o].activation == "softmax" for o in outs):
            Z = torch.stack([z[o] for o in outs], dim=1)
            L = -(Yt * torch.log_softmax(Z, dim=1)).sum() / X.shape[0]
        else:
            L = -(Yt * torch.log(P)).sum() / X.shape[0]
    assume(bool(torch.isfinite(L)))
    L.backward()
    assert value == pytest.approx(L.item(), rel=1e-10, abs=1e-12)
    tg = np.array([0.0 if params[p].grad is None else params[p].grad.item()
                   for p in eng.param_ids])
    np.testing.assert_allclose(grad, tg, rtol=1e-9, atol=1e-12)


def test_gradient_from_two_threads_at_once_stays_correct():
    """The hot path's reused arrays belong to one thread each."""
    import threading

    net = dense([4, 16, 3], hidden="relu", output="identity", seed=0)
    eng = Engine.compile(net)
    rng = np.random.default_rng(0)
    data = [(rng.normal(size=(32, 4)), rng.normal(size=(32, 3))) for _ in range(2)]
    expect = [Engine.compile(net).gradient(X, Y, "mse") for X, Y in data]
    errors = []

    def work(k):
        X, Y = data[k]
        for _ in range(200):
            loss, grad = eng.gradient(X, Y, "mse")
            if loss != expect[k][0] or not np.array_equal(grad, expect[k][1]):
                errors.append(k)
                return
    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
