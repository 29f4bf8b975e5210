"""The engine's image stage: gradients of networks with convolution, pooling and flatten
layers against finite differences (random fronts drawn by hypothesis, feeding random dense
parts) and against PyTorch's conv2d / max_pool2d / avg_pool2d in float64 (optional), the
Evaluation's maps, the hot path's reuse of its arrays, and the data checks."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from nnstudio.core.engine import Engine, EngineError
from nnstudio.core.network import Network, NetworkError
from tests.core.test_engine import SETTINGS, _assert_close, _param_fd
from tests.core.test_image_layers import cnn

CONV_ACTS = ["identity", "tanh", "sigmoid", "softplus", "relu", "leaky_relu"]
MARGIN = 1e-3   # kinks and pooling ties this far from every value: the differences stay smooth


# ---------------------------------------------------------------------- random problems
@st.composite
def image_problems(draw, loss: str | None = None):
    """An image input, a random chain of 1 to 3 convolution / pooling layers and a flatten
    (sometimes a second flatten straight from an earlier layer, so that layer's gradient is a
    sum), input neurons beside the image sometimes, a random dense part, data and a loss."""
    loss = loss or draw(st.sampled_from(["mse", "cross_entropy", "ssr"]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    c, h, w = draw(st.integers(1, 2)), draw(st.integers(3, 7)), draw(st.integers(3, 7))
    net = Network()
    net.add_image_layer("image_input", id="img", shape=(c, h, w))
    chain = ["img"]
    try:
        for i in range(draw(st.integers(1, 3))):
            src = chain[-1]
            if draw(st.booleans()):
                net.add_image_layer(
                    "convolution", id=f"conv{i}", source=src, seed=seed + i,
                    filters=draw(st.integers(1, 3)), kernel=draw(st.integers(1, 3)),
                    stride=draw(st.integers(1, 2)),
                    padding=draw(st.sampled_from(["valid", "same"])),
                    activation=draw(st.sampled_from(CONV_ACTS)), slope=0.2, init="uniform")
                chain.append(f"conv{i}")
            else:
                window = draw(st.integers(1, 3))
                net.add_image_layer("pooling", id=f"pool{i}", source=src, window=window,
                                    stride=draw(st.integers(1, window)),
                                    mode=draw(st.sampled_from(["max", "average"])))
                chain.append(f"pool{i}")
    except NetworkError:
        assume(False)   # that layer does not fit its input: another draw
    net.add_image_layer("flatten", id="flat", source=chain[-1])
    if len(chain) > 2 and draw(st.booleans()):
        side = chain[draw(st.integers(1, len(chain) - 2))]
        net.add_image_layer("flatten", id="side", source=side)
    assume(sum(len(net.feature_neurons(f)) for f in ("flat", "side")
               if f in net.image_layers) <= 80)
    n_in = draw(st.integers(0, 2))
    for k in range(n_in):
        net.add_neuron("input", id=f"x{k}")
    n_out = draw(st.integers(1, 3))
    out_act = "softmax" if loss == "cross_entropy" else draw(st.sampled_from(
        ["identity", "tanh", "sigmoid"]))
    outs = [net.add_neuron("output", id=f"o{k}", activation=out_act,
                           bias=float(rng.uniform(-1, 1))).id for k in range(n_out)]
    sources = [nid for nid, n in net.neurons.items() if n.role in ("feature", "input")]
    hidden = []
    if draw(st.booleans()):
        hidden = [net.add_neuron("hidden", id=f"h{k}", activation="tanh",
                                 bias=float(rng.uniform(-1, 1))).id for k in range(2)]
        net.connect_fully(sources, hidden, seed=seed)
    for o in outs:   # each output reads a random part of everything before it
        for s in sources + hidden:
            if rng.random() < 0.6:
                net.connect(s, o, float(rng.uniform(-1, 1)))
    n = draw(st.integers(1, 4))
    X = rng.uniform(-1, 1, size=(n, c * h * w + n_in))
    if loss == "cross_entropy":
        Y = np.eye(n_out)[rng.integers(0, n_out, size=n)]
    else:
        Y = rng.uniform(-1, 1, size=(n, n_out))
    return net, X, Y, loss


def _smooth_at(net: Network, eng: Engine, X, Y, loss) -> bool:
    """No convolution value near a kink of its activation and no pooling window with two
    nearly equal largest values: there the loss is not differentiable."""
    ev = eng.evaluate(X, Y, loss)
    for lid, mv in ev.maps.items():
        layer = net.image_layers[lid]
        if layer.kind == "convolution" and layer.activation in ("relu", "leaky_relu") \
                and np.abs(mv.z).min() < MARGIN:
            return False
        if layer.kind == "pooling" and layer.mode == "max":
            src = ev.maps[layer.source].a
            shape = eng.image_blocks[[b.id for b in eng.image_blocks].index(lid)].shape
            for r in range(shape.out_height):
                for q in range(shape.out_width):
                    win = shape.window_at(r, q)
                    t, left, b, rt = win.clipped()
                    vals = np.sort(src[:, :, t:b, left:rt].reshape(*src.shape[:2], -1), axis=-1)
                    if vals.shape[-1] > 1 and (vals[..., -1] - vals[..., -2]).min() < MARGIN:
                        return False
    return True


# ---------------------------------------------------------------------- finite differences
@SETTINGS
@given(data=st.data())
def test_image_network_gradients_match_finite_differences(data):
    net, X, Y, loss = data.draw(image_problems())
    eng = Engine.compile(net)
    assume(_smooth_at(net, eng, X, Y, loss))
    value, grad = eng.gradient(X, Y, loss)
    _assert_close(grad, _param_fd(eng, X, Y, loss), "dL/dparams")
    ev = eng.evaluate(X, Y, loss)
    assert ev.loss == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(ev.grad, grad, rtol=1e-12, atol=1e-14)


def test_a_filter_gradient_is_the_sum_over_every_position_and_sample():
    net = cnn()
    net.randomize(seed=2)
    eng = Engine.compile(net)
    rng = np.random.default_rng(5)
    X = rng.integers(0, 2, (3, 36)).astype(float)
    Y = np.eye(2)[[0, 1, 1]]
    ev = eng.evaluate(X, Y, "cross_entropy")
    conv = eng.image_blocks[1]
    dz = ev.maps["conv"].dl_dz                 # (3, 2, 4, 4)
    x = X.reshape(3, 1, 6, 6)
    for f, c, i, j in [(0, 0, 0, 0), (1, 0, 2, 1), (0, 0, 1, 2)]:
        inputs, terms = conv.shape.weight_gradient_terms(x, dz, f, c, i, j)
        pid = f"conv[{f}].w[{c},{i},{j}]"
        assert ev.grad[eng.param_index(pid)] == pytest.approx(float(np.sum(inputs * terms)),
                                                              rel=1e-12)
        assert np.sum(x[:, c, i:i + 4, j:j + 4] * dz[:, f]) == pytest.approx(
            ev.grad[eng.param_index(pid)], rel=1e-12)
    assert ev.grad[eng.param_index("conv[1].b")] == pytest.approx(dz[:, 1].sum(), rel=1e-12)


def test_evaluation_maps_hold_every_layer_and_the_pooling_winners():
    net = cnn()
    eng = Engine.compile(net)
    X = np.zeros((1, 36))
    X[0, [2, 3, 7, 10, 12, 17, 18, 23, 25, 28, 32, 33]] = 1.0   # the 6 x 6 O of seed 001
    ev = eng.evaluate(X, np.array([[1.0, 0.0]]), "cross_entropy")
    assert set(ev.maps) == {"image", "conv", "pool", "flat"}
    conv = ev.maps["conv"]
    assert conv.z.shape == (1, 2, 4, 4) and conv.z[0, 0, 0, 0] == 3.0   # seed 001's 3
    assert np.array_equal(conv.a, np.maximum(conv.z, 0))
    pool = ev.maps["pool"]
    assert pool.a.shape == (1, 2, 2, 2) and pool.winners is not None
    rows, cols = pool.winners
    assert (rows[0, 0, 0, 0], cols[0, 0, 0, 0]) == (0, 0)   # the 3 wins its window
    assert pool.a[0, 0, 0, 0] == 3.0
    flat = ev.maps["flat"].a
    feats = [eng.index[f] for f in net.feature_neurons("flat")]
    assert np.array_equal(ev.a[:, feats], flat) and np.array_equal(flat, pool.a.reshape(1, 8))
    np.testing.assert_allclose(ev.dl_da[:, feats], ev.maps["pool"].dl_da.reshape(1, 8))
    # the max pooling sends each window's gradient to its winner only
    d = ev.maps["conv"].dl_da[0, 0]
    assert np.count_nonzero(d[:2, :2]) <= 1


def test_an_image_network_without_its_flatten_used_gets_zero_filter_gradients():
    net = cnn()
    net.disconnect_many(list(net.connections))
    eng = Engine.compile(net)
    _, grad = eng.gradient(np.ones((2, 36)), np.eye(2), "mse")
    assert not grad[:20].any()


# ---------------------------------------------------------------------- the hot path and data
def test_the_hot_path_reuses_its_arrays_and_is_repeatable():
    """A training step at a batch size seen before allocates far less than one im2col
    matrix of its convolution: the kernels' states and every block's arrays are reused."""
    net = Network()
    net.add_image_layer("image_input", id="image", shape=(1, 28, 28))
    net.add_image_layer("convolution", id="conv", source="image", filters=8)
    net.add_image_layer("pooling", id="pool", source="conv")
    net.add_image_layer("flatten", id="flat", source="pool")
    outs = [net.add_neuron("output", activation="identity").id for _ in range(10)]
    net.connect_fully(net.feature_neurons("flat"), outs)
    eng = Engine.compile(net)
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((64, 784)), rng.standard_normal((64, 10))
    out = np.empty_like(eng.params)
    v1, g1 = eng.gradient(X, Y, "mse", out)
    g1 = g1.copy()
    tracemalloc.start()
    try:
        v2, g2 = eng.gradient(X, Y, "mse", out)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    im2col = 64 * (9 + 1) * 26 * 26 * 8   # bytes of the column matrix of one batch
    assert peak < im2col / 4
    assert g2 is out and v1 == v2 and np.array_equal(g1, g2)
    assert eng.predict(X[:5]).shape == (5, 10)
    assert eng.loss(X, Y, "mse") == pytest.approx(v1, rel=1e-12)


def test_big_image_batches_are_evaluated_in_chunks_with_the_same_loss():
    net = cnn()
    net.randomize(seed=1)
    eng = Engine.compile(net)
    rng = np.random.default_rng(1)
    X, Y = rng.uniform(0, 1, (2500, 36)), np.eye(2)[rng.integers(0, 2, 2500)]
    whole = eng.evaluate(X, Y, "mse").loss
    assert eng.loss(X, Y, "mse") == pytest.approx(whole, rel=1e-12)


def test_data_columns_are_the_pixels_then_the_input_neurons():
    net = cnn()
    eng = Engine.compile(net)
    assert eng.n_input_columns == 36 and eng.image_columns == 36
    with pytest.raises(EngineError, match=r"the data has 35 input column\(s\) but the network "
                       r"needs 36: image 'image' \(1 × 6 × 6\) and 0 input neurons"):
        eng.check_data(np.zeros((2, 35)))
    net.add_neuron("input", id="extra")
    eng = Engine.compile(net)
    assert eng.n_input_columns == 37 and eng.input_ids == ["extra"]
    with pytest.raises(EngineError, match="needs 37"):
        eng.check_data(np.zeros((2, 36)))


def test_grad_means_have_one_entry_per_convolution_and_dense_depth():
    net = cnn()
    eng = Engine.compile(net)
    assert [(pl.kind, pl.name, pl.count) for pl in eng.param_layers] == [
        ("convolution", "conv", 20), ("dense", "", 18)]
    assert eng.block_depths() == [1, 1]
    _, grad = eng.gradient(np.ones((2, 36)), np.eye(2), "mse")
    means = eng.layer_grad_means(grad)
    assert means.tolist() == pytest.approx([np.abs(grad[:20]).mean(), np.abs(grad[20:]).mean()])
    assert eng.describe_param(net, eng.param_index("conv[1].w[0,2,0]")) == \
        "weight [0][2][0] of filter 1 of convolution 'filters'"
    assert eng.describe_param(net, eng.param_index("conv[0].b")) == \
        "bias of filter 0 of convolution 'filters'"


def test_a_network_with_image_layers_trains():
    from nnstudio.core.trainer import Trainer, TrainSettings

    net = cnn()
    rng = np.random.default_rng(3)
    X, Y = rng.integers(0, 2, (12, 36)).astype(float), np.eye(2)[rng.integers(0, 2, 12)]
    tr = Trainer(net, X, Y, TrainSettings(loss="cross_entropy", optimizer="adam",
                                          learning_rate=0.05, epochs=30))
    snaps = tr.train()
    assert snaps[-1].loss < snaps[0].loss and len(snaps[-1].grad_means) == 2
    net.set_param_vector(snaps[-1].slots, snaps[-1].params)
    assert not np.array_equal(net.filter_values("conv")[0][0], [[[0, 0, 1], [0, 1, 0],
                                                                 [1, 0, 0]]])


# ---------------------------------------------------------------------- the PyTorch oracle
def _torch_loss(torch, net: Network, eng: Engine, X, Y, loss: str):
    """The loss of ``net`` at the engine's parameters, computed with PyTorch's own conv2d,
    max_pool2d / avg_pool2d and autograd; returns (loss, parameters tensor)."""
    F = torch.nn.functional
    P = torch.tensor(eng.params, dtype=torch.float64, requires_grad=True)
    Xt = torch.tensor(X, dtype=torch.float64)
    acts = {"identity": lambda z: z, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
            "softplus": F.softplus, "relu": torch.relu,
            "leaky_relu": lambda z: F.leaky_relu(z, 0.2)}
    maps, vals = {}, {}
    shapes = net.image_shapes()
    for ib in eng.image_blocks:
        layer, shape = net.image_layers[ib.id], shapes[ib.id]
        if ib.kind == "image_input":
            c, h, w = shape
            maps[ib.id] = Xt[:, ib.column:ib.column + c * h * w].reshape(-1, c, h, w)
        elif ib.kind == "convolution":
            packed = P[ib.p_off:ib.p_off + ib.n_params].reshape(shape.param_shape)
            weight = packed[:, :-1].reshape(shape.filters, *shape.in_shape[:1], shape.kernel,
                                            shape.kernel)
            pt, pb, pl, pr = shape.pads
            x = F.pad(maps[layer.source], (pl, pr, pt, pb))
            maps[ib.id] = acts[layer.activation](F.conv2d(x, weight, packed[:, -1],
                                                          stride=shape.stride))
        elif ib.kind == "pooling":
            pool = F.max_pool2d if layer.mode == "max" else F.avg_pool2d
            maps[ib.id] = pool(maps[layer.source], shape.window, shape.stride)
        else:
            flat = maps[layer.source].flatten(1)
            for k, fid in enumerate(net.feature_neurons(ib.id)):
                vals[fid] = flat[:, k]
    for k, nid in enumerate(eng.input_ids):
        vals[nid] = Xt[:, eng.image_columns + k]
    z = {}
    for nid in net.topological_order():
        n = net.neurons[nid]
        if n.role in ("input", "feature"):
            continue
        s = P[eng.param_index(nid)] + sum(
            (P[eng.param_index(c.id)] * vals[c.source] for c in net.incoming(nid)),
            torch.zeros(X.shape[0], dtype=torch.float64))
        z[nid] = s
        vals[nid] = s if n.activation == "softmax" else acts[n.activation](s)
    Yt = torch.tensor(Y, dtype=torch.float64)
    if loss == "cross_entropy":
        logits = torch.stack([z[o] for o in eng.output_ids], 1)
        value = -(Yt * F.log_softmax(logits, 1)).sum() / X.shape[0]
    else:
        out = torch.stack([vals[o] for o in eng.output_ids], 1)
        value = ((out - Yt) ** 2).sum() / (out.numel() if loss == "mse" else 1)
    return value, P


@SETTINGS
@given(data=st.data())
def test_image_network_gradients_match_pytorch(data):
    torch = pytest.importorskip("torch")
    net, X, Y, loss = data.draw(image_problems())
    eng = Engine.compile(net)
    value, grad = eng.gradient(X, Y, loss)
    t_value, P = _torch_loss(torch, net, eng, X, Y, loss)
    t_value.backward()
    t_grad = P.grad.numpy()
    assert value == pytest.approx(t_value.item(), rel=1e-9, abs=1e-12)
    scale = max(np.abs(t_grad).max(), 1e-12)
    assert np.abs(grad - t_grad).max() <= 1e-9 * scale, "gradients agree with PyTorch to 1e-9"


def test_regularization_penalises_filter_weights_not_filter_biases():
    net = cnn()
    eng = Engine.compile(net)
    mask = eng.weight_mask
    for pid in net.layer_param_ids("conv"):
        assert mask[eng.param_index(pid)] == (0.0 if pid.endswith(".b") else 1.0), pid
    assert mask.sum() == 2 * 9 + 16   # the filters' weights and the 16 connections
