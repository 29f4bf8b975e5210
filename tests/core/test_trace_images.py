"""The walkthrough through image layers (nnstudio.core.trace.image): the seed's dot product on
the CNN sample, every step's numbers against the engine's maps and gradients, the drill-down at
every position, filter gradients written out as sums that agree with finite differences and
(optionally) PyTorch, the revealed maps, the worksheet and the CLI on the sample."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from nnstudio import paths
from nnstudio.core import project, trace
from nnstudio.core.conv import Conv2D, Pool2D
from nnstudio.core.engine import Engine
from nnstudio.core.network import Network
from tests.core.test_engine import SETTINGS
from tests.core.test_engine_images import _smooth_at, _torch_loss, image_problems
from tests.core.test_image_layers import cnn

SAMPLE = paths.SAMPLES / "cnn-o-vs-x.nnproj"


@pytest.fixture(scope="module")
def sample_project():
    return project.load(SAMPLE)


def _steps(tr, kind):
    return [s for s in tr.steps if s.kind == kind]


def _filter_grads(tr):
    """Every filter weight's gradient as the trace writes it out: Σ dL/dz × input at every
    position (the drill-down of its filter_grad step), by parameter id."""
    out = {}
    for step in _steps(tr, "filter_grad"):
        ib = next(b for b in tr.engine.image_blocks if b.id == step.layer)
        shape = ib.shape
        assert isinstance(shape, Conv2D)
        pids = tr.network.filter_param_ids(step.layer, step.map)
        k = shape.kernel
        for c in range(shape.in_shape[0]):
            for i in range(k):
                for j in range(k):
                    pid = pids[(c * k + i) * k + j]
                    out[pid] = trace.position_step(tr, step, i, j, channel=c).value
    return out


# ---------------------------------------------------------------------- the seed's numbers
def test_the_sample_writes_the_seeds_dot_product_with_its_numbers(sample_project):
    tr = trace.from_project(sample_project, sample=0)
    first = _steps(tr, "conv_map")[0]
    assert first.layer == "filters" and first.map == 0
    assert ("map[0][0] = 0 \u00d7 0 + 0 \u00d7 0 + 1 \u00d7 1 + 0 \u00d7 0 + 1 \u00d7 1 + "
            "0 \u00d7 0 + 1 \u00d7 1 + 0 \u00d7 0 + 0 \u00d7 0 + b = 3 + b = 3 + 0 = 3"
            in first.formula)
    assert first.value == 3.0
    # the window it highlights on the image: the top-left 3 × 3 patch
    assert first.cells == tuple((r, c) for r in range(3) for c in range(3))
    kinds = [s.kind for s in tr.steps]
    assert kinds[:7] == ["image", "conv_map", "conv_map", "map_activation", "pool_map",
                         "pool_map", "flatten"]
    back = [k for k in kinds if k in ("flatten_grad", "pool_grad", "map_activation_grad",
                                      "filter_grad")]
    assert back == ["flatten_grad", "pool_grad", "pool_grad", "map_activation_grad",
                    "filter_grad", "filter_grad"]
    assert kinds.count("filter_update") == 2 and kinds[-1] == "summary"
    # the dense part is the same walk as any network's, from the flatten's nodes
    assert "flat.0" not in [n for s in tr.steps if s.kind == "weighted_sum" for n in s.neurons]


def test_pooling_names_every_winner_and_routes_the_gradient_to_it(sample_project):
    tr = trace.from_project(sample_project, sample=0)
    ev = tr.evaluation
    pool = _steps(tr, "pool_map")[0]
    assert "window (0, 0) = rows 0\u20131, columns 0\u20131: max(3, 1, 1, 0) = 3 at row 0, " \
           "column 0" in pool.formula
    rows, cols = ev.maps["pool"].winners
    assert pool.cells == tuple((int(rows[0, 0, r, q]), int(cols[0, 0, r, q]))
                               for r in range(2) for q in range(2))
    conv_a = ev.maps["filters"].a[0, 0]
    for r, q in pool.cells:   # each winner holds its window's max
        assert conv_a[r, q] in ev.maps["pool"].a[0, 0]
    back = _steps(tr, "pool_grad")[0]
    routed = next(arr for lid, key, f, arr in back.map_reveals
                  if (lid, key, f) == ("filters", "map_dl_da", 0))
    pooled = ev.maps["pool"].dl_da[0, 0]
    # every window's gradient at its winner, 0 elsewhere
    expect = np.zeros((4, 4))
    for k, (r, q) in enumerate(back.cells):
        expect[r, q] = pooled.ravel()[k]
    np.testing.assert_array_equal(routed[0], expect)


def test_every_revealed_map_is_the_engines(sample_project):
    tr = trace.from_project(sample_project)   # the whole batch
    ev = tr.evaluation
    attr = {"map_a": "a", "map_z": "z", "map_dl_da": "dl_da", "map_dl_dz": "dl_dz"}
    seen = set()
    for step in tr.steps:
        for lid, key, f, arr in step.map_reveals:
            np.testing.assert_array_equal(arr, getattr(ev.maps[lid], attr[key])[:, f])
            seen.add((lid, key))
    assert {("image", "map_a"), ("filters", "map_z"), ("filters", "map_a"), ("pool", "map_a"),
            ("pool", "map_dl_da"), ("filters", "map_dl_da"), ("filters", "map_dl_dz")} <= seen
    # the state after a step knows exactly the maps revealed so far
    k = _steps(tr, "conv_map")[0].index
    assert tr.state_at(k - 1).map("filters", "map_z", 0) is None
    np.testing.assert_array_equal(tr.state_at(k).map("filters", "map_z", 0),
                                  ev.maps["filters"].z[:, 0])
    assert tr.state_at(k).map("filters", "map_z", 1) is None


def test_filter_gradients_and_updates_are_the_engines(sample_project):
    tr = trace.from_project(sample_project)
    for step in _steps(tr, "filter_grad"):
        pids = tr.network.filter_param_ids(step.layer, step.map)
        assert step.params == tuple(pids)
        assert {t: v for t, key, v in step.reveals if key == "grad"} == \
            {p: tr.grads[p] for p in pids}
    for pid, written in _filter_grads(tr).items():
        assert written == pytest.approx(tr.grads[pid], rel=1e-12, abs=1e-15)
    updated = tr.state_at(len(tr.steps) - 1).updated_params()
    for pid in tr.network.layer_param_ids("filters"):
        assert updated[pid] == tr.new_params[pid]
        assert tr.new_params[pid] == tr.params_before[pid] - tr.learning_rate * tr.grads[pid]


def test_the_drill_down_reaches_every_position(sample_project):
    tr = trace.from_project(sample_project, sample=3)
    ev = tr.evaluation
    for step in _steps(tr, "conv_map"):
        for r in range(4):
            for q in range(4):
                cell = trace.position_step(tr, step, r, q)
                assert cell.value == ev.maps["filters"].z[0, step.map, r, q]
                assert f"map[{r}][{q}] = " in cell.formula
                assert cell.cells == tuple((r + i, q + j) for i in range(3) for j in range(3))
    for step in _steps(tr, "pool_map"):
        for r in range(2):
            for q in range(2):
                cell = trace.position_step(tr, step, r, q)
                assert cell.value == ev.maps["pool"].a[0, step.map, r, q]
                assert len(cell.cells) == 1
    with pytest.raises(trace.TraceError, match="output row"):
        trace.position_step(tr, _steps(tr, "conv_map")[0], 4, 0)
    with pytest.raises(trace.TraceError, match="kernel row"):
        trace.position_step(tr, _steps(tr, "filter_grad")[0], 3, 0)
    with pytest.raises(trace.TraceError, match="not about an image layer"):
        trace.position_step(tr, _steps(tr, "weighted_sum")[0], 0, 0)
    with pytest.raises(trace.TraceError, match="no positions"):
        trace.position_step(tr, _steps(tr, "flatten")[0], 0, 0)


# ---------------------------------------------------------------------- any image network
@SETTINGS
@given(data=st.data())
def test_traced_image_networks_agree_with_the_engine_and_finite_differences(data):
    net, X, Y, loss = data.draw(image_problems())
    eng = Engine.compile(net)
    assume(_smooth_at(net, eng, X, Y, loss))
    tr = trace.build(net, X, Y, loss=loss, learning_rate=0.1)
    # every number is the engine's: the written-out filter sums equal its gradient
    written = _filter_grads(tr)
    assert set(written) == {p for c in net.convolutions() for p in net.layer_param_ids(c.id)
                            if not p.endswith(".b")}
    for pid, value in written.items():
        assert value == pytest.approx(tr.grads[pid], rel=1e-10, abs=1e-13)
    for step in _steps(tr, "conv_map"):
        shape = next(b.shape for b in eng.image_blocks if b.id == step.layer)
        r, q = shape.out_height - 1, shape.out_width - 1
        assert trace.position_step(tr, step, r, q).value == \
            tr.evaluation.maps[step.layer].z[0, step.map, r, q]
    for step in _steps(tr, "pool_map"):
        assert isinstance(next(b.shape for b in eng.image_blocks if b.id == step.layer), Pool2D)
    # and the gradient check over the same batch finds no mismatch
    assert all(c.ok for c in trace.gradient_check(net, X, Y, loss)), "finite differences"
    text = trace.render(tr, "text")
    assert "All gradients agree." in text


@SETTINGS
@given(data=st.data())
def test_traced_filter_sums_agree_with_pytorch(data):
    torch = pytest.importorskip("torch")
    net, X, Y, loss = data.draw(image_problems())
    eng = Engine.compile(net)
    tr = trace.build(net, X, Y, loss=loss)
    value, P = _torch_loss(torch, net, eng, X, Y, loss)
    value.backward()
    t_grad = dict(zip(eng.param_ids, P.grad.numpy().tolist(), strict=True))
    scale = max(max(abs(v) for v in t_grad.values()), 1e-12)
    for pid, written in _filter_grads(tr).items():
        assert abs(written - t_grad[pid]) <= 1e-9 * scale, pid


def test_average_pooling_same_padding_and_a_second_convolution_are_walked():
    net = Network()
    net.add_image_layer("image_input", id="img", shape=(2, 6, 6))
    net.add_image_layer("convolution", id="c1", source="img", filters=2, kernel=3,
                        padding="same", activation="tanh", seed=3)
    net.add_image_layer("pooling", id="p1", source="c1", window=2, mode="average")
    net.add_image_layer("convolution", id="c2", source="p1", filters=1, kernel=2,
                        activation="identity", seed=4)
    net.add_image_layer("flatten", id="flat", source="c2")
    net.add_neuron("output", id="y", activation="identity")
    net.connect_fully(net.feature_neurons("flat"), ["y"], seed=2)
    rng = np.random.default_rng(0)
    X, Y = rng.uniform(-1, 1, (3, 72)), rng.uniform(-1, 1, (3, 1))
    tr = trace.build(net, X, Y, loss="mse")
    kinds = [s.kind for s in tr.steps]
    assert kinds.count("map_grad") == 1   # c2 passes dL/da back to the pooling's maps
    step = next(s for s in tr.steps if s.kind == "map_grad")
    np.testing.assert_array_equal(step.map_reveals[0][3], tr.evaluation.maps["p1"].dl_da[:, 0])
    pool = _steps(tr, "pool_map")[0]
    assert "mean(" in pool.formula and "max(" not in pool.formula
    assert "channel 1:" in _steps(tr, "conv_map")[0].formula   # a filter over 2 channels
    c1_grad = next(s for s in _steps(tr, "filter_grad") if s.layer == "c1")
    assert "filter[1][2][0]" in trace.position_step(tr, c1_grad, 2, 0, channel=1).title
    for pid, value in _filter_grads(tr).items():
        assert value == pytest.approx(tr.grads[pid], rel=1e-10, abs=1e-13)
    assert all(c.ok for c in trace.gradient_check(net, X, Y, "mse"))


def test_a_locked_filter_is_not_updated_and_a_penalty_shows_its_share():
    from nnstudio.core import regularization

    net = cnn()
    net.set_filter_trainable("conv", 1, False)
    X = np.zeros((1, 36))
    X[0, [2, 3, 7, 10, 12, 17, 18, 23, 25, 28, 32, 33]] = 1.0
    pen = regularization.make_penalty("l2", 0.1)
    tr = trace.build(net, X, np.array([[1.0, 0.0]]), loss="cross_entropy", penalty=pen)
    updates = _steps(tr, "filter_update")
    assert [s.map for s in updates] == [0]
    assert any("conv[1]" in p for s in _steps(tr, "locked") for p in s.params)
    grad0 = _steps(tr, "filter_grad")[0]
    assert "penalty's share" in grad0.formula
    pid = net.filter_param_ids("conv", 0)[0]
    written = trace.position_step(tr, grad0, 0, 0).value
    assert written + tr.penalty_grads[pid] == pytest.approx(tr.grads[pid], rel=1e-12)


# ---------------------------------------------------------------------- worksheet and CLI
def test_the_worksheet_of_the_sample(sample_project):
    text = trace.worksheet(sample_project, sample=0, fmt="markdown")
    assert "Image layers: image 1 \u00d7 6 \u00d7 6 \u2192 convolution 2 \u00d7 3 \u00d7 3 " \
           "(20 parameters) \u2192 max pooling 2 \u00d7 2 \u2192 flatten 8" in text
    assert "= 3 + b = 3 + 0 = 3" in text
    assert "| filters | convolution, 2 filters 3 \u00d7 3, stride 1, valid, relu | image | " \
           "2 \u00d7 4 \u00d7 4 | 20 |" in text
    assert "pixels[0]" not in text   # images are drawn as grids, not 36 table columns
    # a neuron fed by a flatten lists its first incoming weights, not every one
    assert "map 1 [0][1] \u00d7 0.639, \u2026 (2 more) |" in text
    assert "All gradients agree." in text
    batch = trace.worksheet(sample_project, fmt="text")
    assert "All gradients agree." in batch and "(12 more images not shown.)" in batch


def test_cli_trace_validate_and_gradients_on_the_sample(capsys):
    from nnstudio.cli import main

    assert main(["trace", str(SAMPLE), "--sample", "0"]) == 0
    out = capsys.readouterr().out
    assert "filters: filter 0 slides over image" in out and "dL/dfilter 0" in out
    assert main(["validate", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert ("image 1 \u00d7 6 \u00d7 6 \u2192 convolution 2 \u00d7 3 \u00d7 3 (20 parameters)"
            " \u2192 max pooling 2 \u00d7 2 \u2192 flatten 8; 2 neurons (0 input, 0 hidden, "
            "2 output), 16 connections, 38 parameters") in out
    assert main(["gradients", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "filters[0].w[0,0,0]" in out and "bias of filter 1" in out
