"""ONNX both ways. Exported models pass onnx.checker and onnxruntime gives NN Studio's outputs
to 1e-6 (float32 models compute in float32; float64 models in float64, except Softplus, which
onnxruntime has only in float32); an exported model opens again as the same function; models
no one here wrote (torch.onnx.export of an nn.Sequential) open and match; anything NN Studio
cannot represent, a dynamic shape or a file that is not ONNX is refused with one line.
Skipped without onnx (and onnxruntime, torch where they are used)."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.core import project
from nnstudio.core.datasets import Dataset
from nnstudio.core.engine import Engine
from nnstudio.core.export import onnx_export, onnx_import
from nnstudio.core.export.onnx_import import OnnxImportError
from nnstudio.core.export.plan import ExportError
from tests.core.export_cases import SAMPLES, random_project, sample, torch_onnx

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def _run(model, X, dtype):
    ort = pytest.importorskip("onnxruntime")
    s = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return s.run(None, {"input": np.asarray(X, dtype=dtype)})[0]


def _cases():
    return [pytest.param(sample(p), id=p.stem) for p in SAMPLES] + \
        [pytest.param(random_project(seed, step_hidden=True), id=f"random{seed}")
         for seed in range(20)] + \
        [pytest.param(random_project(seed, step_hidden=True, derived=True),
                      id=f"derived{seed}") for seed in range(6)]


@pytest.mark.parametrize("proj", _cases())
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_onnxruntime_matches_nn_studio(proj, dtype):
    X = np.random.default_rng(0).normal(size=(19, Engine.compile(proj.network).n_input_columns))
    if len(proj.dataset):
        X = np.vstack([proj.dataset.X, X])
    expected = Engine.compile(proj.network).predict(X)
    model = onnx_export.model(proj, dtype)  # (checked by onnx.checker, full check)
    got = _run(model, X, dtype)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    softplus = any(n.activation == "softplus" for n in proj.network.neurons.values())
    float32_inside = softplus or bool(proj.network.convolutions)  # (see FLOAT32_ONLY)
    if dtype == "float64" and not float32_inside:
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("proj", _cases())
def test_an_exported_model_opens_as_the_same_network(proj):
    model = onnx_export.model(proj, "float64")
    net = onnx_import.parse(model.SerializeToString())
    width = Engine.compile(proj.network).n_input_columns
    X = np.random.default_rng(1).normal(size=(13, width)) * 2
    np.testing.assert_allclose(Engine.compile(net).predict(X),
                               Engine.compile(proj.network).predict(X), rtol=1e-12, atol=1e-12)
    assert [n.activation for n in net.outputs] == \
        [n.activation for n in proj.network.outputs]
    if proj.dataset.n_inputs == len(net.inputs):
        assert [n.label for n in net.inputs] == proj.dataset.input_names
    assert [n.label for n in net.outputs] == [n.label for n in proj.network.outputs]


def test_the_written_file_opens_as_an_untitled_project(tmp_path):
    proj = sample(next(p for p in SAMPLES if p.stem == "fruit-classifier"))
    path = tmp_path / "fruit.onnx"
    onnx_export.write(proj, path)
    opened = onnx_import.load_project(path)
    assert opened.name == "Untitled"
    assert len(opened.dataset) == 0
    assert opened.dataset.input_names == proj.dataset.input_names
    assert opened.settings.loss == "cross_entropy"
    assert len(opened.network.connections) == len(proj.network.connections)
    opened.check()  # the checks a project file gets
    with_data = onnx_import.load_project(path, proj.dataset)
    assert len(with_data.dataset) == len(proj.dataset)
    with pytest.raises(OnnxImportError, match="dataset has 2 input"):
        onnx_import.load_project(path, Dataset(["a", "b"], ["c"], np.zeros((1, 2)),
                                               np.zeros((1, 1))))


# ---------------------------------------------------------------------- models from PyTorch
def _torch_model(name: str):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    return torch, {
        "relu-leaky-softplus-tanh-softmax": nn.Sequential(
            nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 5), nn.LeakyReLU(0.2), nn.Linear(5, 4),
            nn.Softplus(), nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2), nn.Softmax(dim=1)),
        "flatten-sigmoid-linear-linear": nn.Sequential(
            nn.Flatten(), nn.Linear(4, 6), nn.Sigmoid(), nn.Linear(6, 6), nn.Linear(6, 1),
            nn.Identity()),
        "no-bias": nn.Sequential(nn.Linear(4, 3, bias=False), nn.Tanh(), nn.Linear(3, 2)),
    }[name]


@pytest.mark.parametrize("name", ["relu-leaky-softplus-tanh-softmax",
                                  "flatten-sigmoid-linear-linear", "no-bias"])
def test_a_sequential_exported_by_pytorch_opens_and_matches(name):
    torch, model = _torch_model(name)
    n_in = 3 if name.startswith("relu") else 4
    x = torch.randn(9, n_in)
    data = torch_onnx(torch, model, x)
    net = onnx_import.parse(data)
    got = Engine.compile(net).predict(x.double().numpy())
    with torch.no_grad():  # the same (float32) weights, computed in float64
        expected = model.double()(x.double()).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
    ort = pytest.importorskip("onnxruntime")
    s = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(got, s.run(None, {"x": x.numpy()})[0], rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------- hand-made graphs
def _model(nodes, inits, in_shape=("N", 2), out_name="y", elem=TensorProto.FLOAT,
           opset=17, extra_inputs=()):
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", elem, list(in_shape)), *extra_inputs],
        [helper.make_tensor_value_info(out_name, elem, ["N", "columns"])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _f(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


def test_matmul_add_gemm_options_and_constants():
    W = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])
    b = np.array([0.5, -0.5, 2.0])
    W2 = np.array([[1.0, 2.0], [0.0, -1.0], [0.5, 0.5]])
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["m"], name="mm"),
        helper.make_node("Add", ["b", "m"], ["z"], name="add"),
        helper.make_node("Sigmoid", ["z"], ["a"], name="sig"),
        helper.make_node("Constant", [], ["W2"], name="const",
                         value=numpy_helper.from_array(W2.T.astype(np.float32))),
        helper.make_node("Gemm", ["a", "W2", "c"], ["y"], name="gemm", transB=1, alpha=2.0,
                         beta=0.5),
    ]
    m = _model(nodes, [_f("W", W), _f("b", b), _f("c", [1.0, -1.0])])
    onnx.checker.check_model(m)
    net = onnx_import.parse(m.SerializeToString())
    X = np.array([[0.5, -1.0], [2.0, 3.0]])
    a = 1 / (1 + np.exp(-(X @ W + b)))
    expected = 2.0 * a @ W2 + 0.5 * np.array([1.0, -1.0])
    np.testing.assert_allclose(Engine.compile(net).predict(X), expected, rtol=1e-12)


def test_gather_and_concat_route_columns_and_relu_of_sign_is_the_binary_step():
    nodes = [
        helper.make_node("Gather", ["x", "idx"], ["g"], name="pick", axis=1),
        helper.make_node("Concat", ["x", "g"], ["c"], name="cat", axis=1),
        helper.make_node("Gemm", ["c", "W", "b"], ["z"], name="fc"),
        helper.make_node("Sign", ["z"], ["s"], name="sign"),
        helper.make_node("Relu", ["s"], ["y"], name="step"),
    ]
    W = np.array([[1.0], [1.0], [-3.0]])
    m = _model(nodes, [numpy_helper.from_array(np.array([1], dtype=np.int64), "idx"),
                       _f("W", W), _f("b", [0.0])])
    net = onnx_import.parse(m.SerializeToString())
    assert [n.activation for n in net.outputs] == ["binary_step"]
    X = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    np.testing.assert_array_equal(Engine.compile(net).predict(X)[:, 0], [1.0, 0.0, 0.0])


def test_mul_and_sin_of_the_first_columns_are_derived_inputs_and_mul_by_a_constant_scales():
    """x1·x2, sin x2 and x1² of the model input become NN Studio's derived inputs (x1 and x2
    are its first two columns); Mul by a constant scales a weighted sum."""
    idx = [numpy_helper.from_array(np.array([k], dtype=np.int64), f"k{k}") for k in (0, 1)]
    nodes = [
        helper.make_node("Gather", ["x", "k0"], ["x1"], name="g0", axis=1),
        helper.make_node("Gather", ["x", "k1"], ["x2"], name="g1", axis=1),
        helper.make_node("Mul", ["x1", "x2"], ["p"], name="product"),
        helper.make_node("Sin", ["x2"], ["s"], name="wave"),
        helper.make_node("Mul", ["x1", "x1"], ["q"], name="square"),
        helper.make_node("Concat", ["x", "p", "s", "q"], ["c"], name="cat", axis=1),
        helper.make_node("Gemm", ["c", "W", "b"], ["z"], name="fc"),
        helper.make_node("Mul", ["z", "half"], ["y"], name="scale"),
    ]
    W = np.array([[1.0], [-1.0], [2.0], [0.5], [-0.25]])
    m = _model(nodes, [*idx, _f("W", W), _f("b", [0.5]), _f("half", [0.5])])
    net = onnx_import.parse(m.SerializeToString())
    assert [n.derive for n in net.inputs] == [None, None, "x1*x2", "sin(x2)", "x1^2"]
    assert [n.label for n in net.derived_inputs] == ["x1·x2", "sin x2", "x1²"]
    X = np.array([[0.5, -1.0], [2.0, 3.0], [-1.5, 0.25]])
    x1, x2 = X[:, 0], X[:, 1]
    z = x1 - x2 + 2 * x1 * x2 + 0.5 * np.sin(x2) - 0.25 * x1 * x1 + 0.5
    np.testing.assert_allclose(Engine.compile(net).predict(X)[:, 0], 0.5 * z, rtol=1e-7)


def test_mul_of_other_columns_or_of_hidden_values_is_refused():
    idx = numpy_helper.from_array(np.array([2], dtype=np.int64), "k2")
    nodes = [helper.make_node("Gather", ["x", "k2"], ["x3"], name="g2", axis=1),
             helper.make_node("Mul", ["x3", "x3"], ["y"], name="square3")]
    _refused(_model(nodes, [idx], in_shape=("N", 3)),
             r"node 'square3' \(Mul\): NN Studio represents Mul only as a derived input")
    nodes = [helper.make_node("Tanh", ["x"], ["t"], name="t"),
             helper.make_node("Mul", ["t", "x"], ["y"], name="gate")]
    _refused(_model(nodes, []), r"node 'gate' \(Mul\)")


def _refused(m, pattern):
    data = m if isinstance(m, bytes) else m.SerializeToString()
    with pytest.raises(OnnxImportError, match=pattern) as info:
        onnx_import.parse(data)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_an_unsupported_operation_is_refused_naming_the_node_and_the_op():
    nodes = [helper.make_node("LpNormalization", ["x"], ["y"], name="norm1")]
    msg = _refused(_model(nodes, []),
                   r"node 'norm1' \(LpNormalization\): NN Studio cannot represent this "
                   "operation")
    assert "Gemm" in msg and "Conv" in msg


def test_an_operator_of_another_domain_is_refused():
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="r", domain="com.example")]
    m = _model(nodes, [])
    m.opset_import.append(helper.make_opsetid("com.example", 1))
    _refused(m, r"node 'r' \(Relu of domain 'com.example'\)")


@pytest.mark.parametrize("shape, pattern", [
    (("N", "features"), r"dynamic shape \[\?, \?\]"),
    ((1, 28, 28), r"shape \[1, 28, 28\]; NN Studio networks take rows of numbers"),
    (("N", 3, "height", 28), r"dynamic shape \[\?, 3, \?, 28\]; NN Studio needs images"),
    (("N", 3, 200, 200), r"larger than NN Studio's limit of 4 channels of 128"),
])
def test_a_dynamic_or_unrepresentable_input_is_refused(shape, pattern):
    _refused(_model([helper.make_node("Relu", ["x"], ["y"], name="r")], [], in_shape=shape),
             pattern)


def test_a_file_that_is_not_onnx_is_refused(tmp_path):
    _refused(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not an ONNX model")
    _refused(b'{"format": "nnstudio-project"}', "not an ONNX model")
    _refused(b"", "not an ONNX model")
    path = tmp_path / "model.onnx"
    path.write_bytes(b"hello")
    with pytest.raises(OnnxImportError, match="not an ONNX model"):
        onnx_import.read(path)
    with pytest.raises(OnnxImportError, match="is a folder"):
        onnx_import.read(tmp_path)


def test_external_data_is_never_read(tmp_path):
    t = _f("W", np.ones((2, 1)))
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    t.external_data.append(onnx.StringStringEntryProto(key="location", value="/etc/passwd"))
    nodes = [helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")]
    _refused(_model(nodes, [t]), "external file")


def test_sizes_are_bounded_before_anything_is_decoded():
    t = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[100_000, 100_000],
                    raw_data=b"\0" * 16)  # claims 10^10 values: refused before decoding
    nodes = [helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")]
    _refused(_model(nodes, [t]), "too large")


def test_a_file_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(onnx_import, "MAX_FILE_BYTES", 10)
    path = tmp_path / "big.onnx"
    path.write_bytes(b"x" * 11)
    with pytest.raises(OnnxImportError, match="more than the limit"):
        onnx_import.read(path)


def test_softmax_inside_the_network_is_refused():
    nodes = [helper.make_node("Softmax", ["x"], ["s"], name="sm", axis=1),
             helper.make_node("Gemm", ["s", "W"], ["y"], name="fc")]
    _refused(_model(nodes, [_f("W", np.ones((2, 2)))]),
             r"node 'fc' \(Gemm\) reads the output of node 'sm' \(Softmax\)")


def test_part_of_a_softmax_in_the_output_is_refused():
    nodes = [helper.make_node("Softmax", ["x"], ["s"], name="sm", axis=1),
             helper.make_node("Gather", ["s", "i"], ["y"], name="pick", axis=1)]
    idx = numpy_helper.from_array(np.array([0], dtype=np.int64), "i")
    _refused(_model(nodes, [idx]), r"only part of the columns of node 'sm' \(Softmax\)")


def test_weights_computed_at_run_time_and_missing_tensors_are_refused():
    nodes = [helper.make_node("MatMul", ["x", "x"], ["y"], name="mm")]
    _refused(_model(nodes, []), r"node 'mm' \(MatMul\): input 2 must be a constant")
    nodes = [helper.make_node("Relu", ["nowhere"], ["y"], name="r")]
    _refused(_model(nodes, []), r"node 'r' \(Relu\) reads 'nowhere', which no earlier node")


def test_more_inputs_or_outputs_than_one_are_refused():
    extra = helper.make_tensor_value_info("x2", TensorProto.FLOAT, ["N", 2])
    m = _model([helper.make_node("Relu", ["x"], ["y"], name="r")], [], extra_inputs=[extra])
    _refused(m, "has 2 inputs")


def test_a_refused_model_builds_nothing_and_a_good_one_is_an_ordinary_network(tmp_path):
    proj = sample(next(p for p in SAMPLES if p.stem == "xor"))
    path = tmp_path / "xor.onnx"
    onnx_export.write(proj, path)
    opened = onnx_import.load_project(path)
    # it can be edited, trained and saved like any project
    opened.network.set_param(opened.network.outputs[0].id, 0.25)
    project.save(opened, tmp_path / "xor.nnproj")
    assert project.load(tmp_path / "xor.nnproj").network.get_param(
        opened.network.outputs[0].id) == 0.25


def test_without_the_onnx_package_the_message_says_how_to_install_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ExportError, match=r"pip install 'nnstudio\[onnx\]'"):
        onnx_export.model(sample(SAMPLES[0]))
    with pytest.raises(OnnxImportError, match=r"pip install 'nnstudio\[onnx\]'"):
        onnx_import.parse(b"")


def test_an_unknown_number_type_is_refused():
    with pytest.raises(ExportError, match="float64, float32"):
        onnx_export.model(sample(SAMPLES[0]), "float16")
