"""Exporting convolutional networks: on random networks of convolutions ('valid' and 'same'
padding, strides, every activation), max and average pooling and flattens, with input neurons
beside the image, locked filters and L1/L2 regularization, the PyTorch script (nn.Conv2d,
max_pool2d / avg_pool2d, flatten) gives NN Studio's outputs to 1e-9 and its training step the
same parameters to 1e-9 for every optimizer, the NumPy script matches to 1e-12 and
onnxruntime (Conv, MaxPool, AveragePool, Flatten; it computes Conv and AveragePool in float32
only) to 1e-6. Each part skips without its optional package."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout

import numpy as np
import pytest

from nnstudio.core import optimizers
from nnstudio.core.engine import Engine
from nnstudio.core.export import numpy_script, plan, pytorch
from nnstudio.core.network.image_layers import maps_of
from tests.core.export_cases import ROOT, import_script, random_cnn, torch_onnx

SEEDS = range(16)


def _module(tmp_path, proj, writer, name):
    path = tmp_path / f"{name}.py"
    writer.write(proj, path)
    return import_script(path, name)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_numpy_script_matches_on_random_cnns(tmp_path, seed):
    proj = random_cnn(seed)
    X = np.vstack([proj.dataset.X, np.random.default_rng(seed).uniform(
        -2, 2, size=(5, proj.dataset.n_inputs))])
    got = _module(tmp_path, proj, numpy_script, "cnn_np").predict(X)
    np.testing.assert_allclose(got, Engine.compile(proj.network).predict(X), rtol=1e-12,
                               atol=1e-12)


def test_the_plan_holds_every_filter_parameter_once():
    for seed in SEEDS:
        proj = random_cnn(seed)
        ids = plan.build(proj.network, proj.settings.loss).parameter_ids()
        assert sorted(ids) == sorted(proj.network.param_ids())


# ---------------------------------------------------------------------- PyTorch
def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("seed", SEEDS)
def test_the_pytorch_model_matches_on_random_cnns(tmp_path, seed):
    torch = _torch()
    proj = random_cnn(seed)
    module = _module(tmp_path, proj, pytorch, "cnn_torch")
    X = proj.dataset.X
    with torch.no_grad():
        got = module.Net()(torch.tensor(X, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(got, Engine.compile(proj.network).predict(X), rtol=1e-9,
                               atol=1e-9)
    kinds = {type(m).__name__ for m in module.Net().modules()}
    assert "Conv2d" in kinds


def _trainer(proj):
    from nnstudio.core.trainer import Trainer
    return Trainer(proj.network, proj.dataset.X, proj.dataset.Y, proj.settings)


def _same_params(proj, trainer, model):
    state = model.state_dict()
    names = pytorch.parameter_names(plan.build(proj.network, proj.settings.loss))
    eng = trainer.engine
    assert set(names) == set(eng.param_ids)
    for pid, value in zip(eng.param_ids, eng.params.tolist(), strict=True):
        name, idx = names[pid]
        assert float(state[name][idx]) == pytest.approx(value, rel=1e-9, abs=1e-9), pid


@pytest.mark.parametrize("optimizer", optimizers.NAMES)
@pytest.mark.parametrize("seed", range(6))
def test_one_training_step_of_a_cnn_gives_the_same_parameters(tmp_path, optimizer, seed):
    """Filters and dense weights, mini-batches, locked filters, L1/L2 on the filter weights
    (never their biases): one step of the script is one step of NN Studio's trainer."""
    _torch()
    kind, rate = [("none", 0.0), ("l1", 0.02), ("l2", 0.05)][seed % 3]
    proj = random_cnn(50 + seed, optimizer=optimizer, batch_size=2 if seed % 2 else 0,
                      regularization=kind, regularization_rate=rate)
    trainer = _trainer(proj)
    trainer.step()
    module = _module(tmp_path, proj, pytorch, "cnn_step")
    model = module.Net()
    X, Y = module.load_data()
    optimizer_ = module.make_optimizer(model)
    x, y = next(iter(module.data_loader(X, Y)))
    optimizer_.zero_grad()
    module.objective(model, x, y).backward()
    optimizer_.step()
    _same_params(proj, trainer, model)


def test_training_a_cnn_prints_nn_studios_losses_and_keeps_locked_filters(tmp_path):
    _torch()
    proj = random_cnn(7, loss="mse", optimizer="adam", batch_size=2)
    net = proj.network
    conv = next(lid for lid in net.image_layers if lid.startswith("conv"))
    net.set_filter_trainable(conv, 0, False)
    locked = net.filter_values(conv)[0][0].copy()
    trainer = _trainer(proj)
    initial = trainer.full_loss()
    snaps = trainer.train()
    module = _module(tmp_path, proj, pytorch, "cnn_train")
    out = io.StringIO()
    with redirect_stdout(out):
        model = module.train(module.Net())
    printed = [float(v) for v in re.findall(r"loss (\S+)", out.getvalue())]
    np.testing.assert_allclose(printed, [initial] + [s.loss for s in snaps], rtol=1e-10)
    _same_params(proj, trainer, model)
    index = next(layer.index for layer in plan.build(net).convolutions() if layer.id == conv)
    np.testing.assert_array_equal(model.state_dict()[f"layer{index}.weight"][0].numpy(), locked)


# ---------------------------------------------------------------------- ONNX
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("seed", SEEDS)
def test_onnxruntime_matches_on_random_cnns(seed, dtype):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from nnstudio.core.export import onnx_export
    proj = random_cnn(seed)
    model = onnx_export.model(proj, dtype)  # (checked by onnx.checker, full check)
    ops = {node.op_type for node in model.graph.node}
    assert "Conv" in ops and "Flatten" in ops
    s = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    X = proj.dataset.X
    got = s.run(None, {"input": X.astype(dtype)})[0]
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, Engine.compile(proj.network).predict(X), rtol=1e-6,
                               atol=1e-6)


# ---------------------------------------------------------------------- ONNX import
def _onnx():
    pytest.importorskip("onnx")
    from nnstudio.core.export import onnx_export, onnx_import
    return onnx_export, onnx_import


@pytest.mark.parametrize("seed", SEEDS)
def test_an_exported_cnn_opens_as_the_same_network(seed):
    """The image layers come back with their shapes, settings and exact filters, and the
    network computes what the project's does."""
    onnx_export, onnx_import = _onnx()
    proj = random_cnn(seed)
    net = onnx_import.parse(onnx_export.model(proj, "float64").SerializeToString())
    src = proj.network
    kinds = [src.image_layers[lid].kind for lid in src.image_order()]
    assert [net.image_layers[lid].kind for lid in net.image_order()] == kinds
    for a, b in zip(src.image_order(), net.image_order(), strict=True):
        assert maps_of(src.image_shapes()[a]) == maps_of(net.image_shapes()[b])
    before = [src.image_layers[lid] for lid in src.image_order()]
    after = [net.image_layers[lid] for lid in net.image_order()]
    for a, b in zip(before, after, strict=True):
        if a.kind == "convolution":
            assert (a.kernel, a.stride, a.activation) == (b.kernel, b.stride, b.activation)
            assert a.padding == b.padding or a.kernel == 1  # (1 x 1: 'same' pads nothing)
            np.testing.assert_array_equal(src.store.values[a.slots], net.store.values[b.slots])
    X = np.vstack([proj.dataset.X, np.random.default_rng(seed).uniform(
        -2, 2, size=(5, proj.dataset.n_inputs))])
    np.testing.assert_allclose(Engine.compile(net).predict(X),
                               Engine.compile(src).predict(X), rtol=1e-12, atol=1e-12)


def test_the_cnn_sample_opens_as_a_project_that_trains(tmp_path):
    from nnstudio.core import project
    from nnstudio.core.trainer import Trainer
    onnx_export, onnx_import = _onnx()
    proj = project.load(ROOT / "samples" / "cnn-o-vs-x.nnproj")
    path = tmp_path / "cnn.onnx"
    onnx_export.write(proj, path)
    opened = onnx_import.load_project(path)
    assert len(opened.dataset) == 0 and opened.dataset.image_columns == 36
    assert "`cnn.onnx`: image 1 × 6 × 6 → convolution 2 × 3 × 3 (20 parameters) → " \
        "max pooling 2 × 2 → flatten 8, 0 hidden neurons and 2 outputs (softmax)" \
        in opened.description
    opened.check()
    with_data = onnx_import.load_project(path, proj.dataset)
    np.testing.assert_allclose(Engine.compile(with_data.network).predict(proj.dataset.X),
                               Engine.compile(proj.network).predict(proj.dataset.X),
                               rtol=1e-12, atol=1e-12)
    ds, loss = with_data.dataset, with_data.settings.loss
    trainer = Trainer(with_data.network, ds.X, ds.Y, with_data.settings)
    first = trainer.engine.loss(ds.X, ds.Y, loss)
    for _ in range(20):
        trainer.step()
    assert trainer.engine.loss(ds.X, ds.Y, loss) < first


def _torch_cnn(name):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    return torch, {
        "conv-relu-maxpool-linear-softmax": (nn.Sequential(
            nn.Conv2d(1, 3, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12, 2),
            nn.Softmax(dim=1)), (1, 6, 6)),
        "padded-strided-avgpool-tanh": (nn.Sequential(
            nn.Conv2d(2, 2, 3, padding=1), nn.Tanh(), nn.Conv2d(2, 4, 2, stride=2, bias=False),
            nn.AvgPool2d(2), nn.Flatten(), nn.Linear(16, 3)), (2, 8, 8)),
        "leaky-sigmoid-two-convs": (nn.Sequential(
            nn.Conv2d(3, 2, 2), nn.LeakyReLU(0.2), nn.Conv2d(2, 2, 3, padding=1),
            nn.Sigmoid(), nn.Flatten(), nn.Linear(32, 4), nn.ReLU(), nn.Linear(4, 1)),
            (3, 5, 5)),
    }[name]


@pytest.mark.parametrize("name", ["conv-relu-maxpool-linear-softmax",
                                  "padded-strided-avgpool-tanh", "leaky-sigmoid-two-convs"])
def test_a_cnn_exported_by_pytorch_opens_and_matches(name):
    """Models no one here wrote: PyTorch's own ONNX export of an nn.Sequential of Conv2d,
    pooling, Flatten and Linear, read as image layers and neurons."""
    _, onnx_import = _onnx()
    torch, (model, shape) = _torch_cnn(name)
    x = torch.rand(7, *shape) * 2 - 1
    data = torch_onnx(torch, model, x)
    net = onnx_import.parse(data)
    assert any(lay.kind == "convolution" for lay in net.image_layers.values())
    got = Engine.compile(net).predict(x.double().reshape(7, -1).numpy())
    with torch.no_grad():  # the same (float32) weights, computed in float64
        expected = model.double()(x.double()).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)


def _conv_model(nodes, inits, in_shape=("N", 1, 5, 5), out="y"):
    from onnx import TensorProto, helper
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_shape))],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _w(name, shape):
    from onnx import numpy_helper
    return numpy_helper.from_array(np.full(shape, 0.5, dtype=np.float32), name)


def _flat_fc(src, n):
    from onnx import helper
    return [helper.make_node("Flatten", [src], ["f"], name="flat"),
            helper.make_node("Gemm", ["f", "fc"], ["y"], name="fc")], [_w("fc", (n, 1))]


@pytest.mark.parametrize("conv, pattern", [
    ({"dilations": [2, 2]}, "dilated convolutions are not supported"),
    ({"strides": [1, 2]}, r"square strides \(two equal values\), not \[1, 2\]"),
    ({"pads": [1, 1, 1, 1]}, r"neither 'valid' \(none\) nor NN Studio's 'same' \[0, 0, 1, 1\]"),
    ({"auto_pad": "SAME_LOWER"}, "auto_pad SAME_LOWER is not NN Studio's padding"),
])
def test_a_convolution_nn_studio_cannot_represent_is_refused(conv, pattern):
    from onnx import helper
    _, onnx_import = _onnx()
    tail, inits = _flat_fc("c", 2 * 16 if "pads" not in conv and "auto_pad" not in conv
                           else 2 * 25)
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"], name="conv1", **conv), *tail]
    with pytest.raises(onnx_import.OnnxImportError,
                       match=r"^node 'conv1' \(Conv\): .*" + pattern):
        onnx_import.parse(_conv_model(nodes, [_w("W", (2, 1, 2, 2)), *inits])
                          .SerializeToString())


def test_maps_read_where_nn_studio_cannot_are_refused_naming_the_node():
    from onnx import helper
    _, onnx_import = _onnx()
    conv = helper.make_node("Conv", ["x", "W"], ["c"], name="conv1")
    pool = helper.make_node("MaxPool", ["c"], ["p"], name="pool1", kernel_shape=[2, 2],
                            strides=[2, 2])
    tail, inits = _flat_fc("r", 2 * 4)
    cases = {
        r"node 'add1' \(Add\): NN Studio reads feature maps only in Conv": [
            conv, helper.make_node("Add", ["c", "c"], ["r"], name="add1"), *tail],
        r"node 'relu1' \(Relu\): NN Studio applies an activation to feature maps only as "
        r"part of a convolution": [
            conv, pool, helper.make_node("Relu", ["p"], ["r"], name="relu1"), *_flat_fc(
                "r", 2 * 2 * 2)[0]],
        r"node 'relu1' \(Relu\): the convolution's sums before this activation are read "
        r"elsewhere too": [
            conv, helper.make_node("Relu", ["c"], ["r"], name="relu1"),
            helper.make_node("Add", ["r", "c"], ["s"], name="add1"), *tail],
        r"the output 'c' is feature maps": [conv],
    }
    for pattern, nodes in cases.items():
        out = "c" if "output 'c'" in pattern else "y"
        fc = _w("fc", (2 * 16 if "relu1" in pattern and "elsewhere" in pattern else 8, 1))
        with pytest.raises(onnx_import.OnnxImportError, match=pattern):
            onnx_import.parse(_conv_model(nodes, [_w("W", (2, 1, 2, 2)), fc], out=out)
                              .SerializeToString())
    conv_of_columns = [helper.make_node("Conv", ["x", "W"], ["y"], name="conv1")]
    with pytest.raises(onnx_import.OnnxImportError,
                       match=r"node 'conv1' \(Conv\): it works on feature maps"):
        onnx_import.parse(_conv_model(conv_of_columns, [_w("W", (2, 1, 2, 2))],
                                      in_shape=("N", 25)).SerializeToString())


def test_a_reshape_nn_studio_cannot_represent_is_refused_naming_the_node():
    from onnx import helper, numpy_helper
    _, onnx_import = _onnx()

    def shape(name, dims):
        return numpy_helper.from_array(np.array(dims, dtype=np.int64), name)
    conv = helper.make_node("Conv", ["m", "W"], ["c"], name="conv1")
    tail, inits = _flat_fc("c", 2 * 16)
    cases = {   # pattern: (nodes, initializers)
        # the pixels must be the model input's first columns, in order
        r"node 'toimage' \(Reshape\): the image must read the model input's columns 1 to 25": (
            [helper.make_node("Gather", ["x", "perm"], ["g"], name="shuffle", axis=1),
             helper.make_node("Reshape", ["g", "s"], ["m"], name="toimage"), conv, *tail],
            [numpy_helper.from_array(np.arange(26)[::-1][:25].astype(np.int64), "perm"),
             shape("s", [-1, 1, 5, 5])]),
        r"node 'toimage' \(Reshape\): it reshapes a constant": (
            [helper.make_node("Reshape", ["W", "s"], ["m"], name="toimage"), conv, *tail],
            [shape("s", [-1, 1, 5, 5])]),
        r"node 'toimage' \(Reshape\): only a reshape of each row is supported": (
            [helper.make_node("Reshape", ["x", "s"], ["m"], name="toimage"), conv, *tail],
            [shape("s", [1, 1, 5, 5])]),
    }
    for pattern, (nodes, extra) in cases.items():
        model = _conv_model(nodes, [_w("W", (2, 1, 2, 2)), *inits, *extra],
                            in_shape=("N", 26))
        with pytest.raises(onnx_import.OnnxImportError, match=pattern):
            onnx_import.parse(model.SerializeToString())
    # the same graph with the pixels in order opens, the 26th column an input neuron beside
    ok = [helper.make_node("Gather", ["x", "first"], ["g"], name="pixels", axis=1),
          helper.make_node("Reshape", ["g", "s"], ["m"], name="toimage"), conv, *tail]
    model = _conv_model(ok, [_w("W", (2, 1, 2, 2)), *inits, shape("s", [-1, 1, 5, 5]),
                             numpy_helper.from_array(np.arange(25, dtype=np.int64), "first")],
                        in_shape=("N", 26))
    net = onnx_import.parse(model.SerializeToString())
    assert net.image_input_columns() == 25 and len(net.data_inputs) == 1
