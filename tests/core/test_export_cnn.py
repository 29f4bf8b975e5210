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
from tests.core.export_cases import import_script, random_cnn

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
