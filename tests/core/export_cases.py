"""Projects for the export tests: every shipped sample, and seeded random DAGs with skip
connections, absent connections, per-neuron activations, softmax groups, bias-only neurons and
locked parameters, with data that suits their loss."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

from nnstudio.core import losses, project
from nnstudio.core.datasets import Dataset
from nnstudio.core.derived_inputs import NAMES as DERIVED_NAMES
from nnstudio.core.network import Network, NetworkError
from nnstudio.core.project import Project
from nnstudio.core.trainer import TrainSettings

ROOT = Path(__file__).resolve().parents[2]
#: every shipped sample (the convolutional one too): the exporters write them all
SAMPLES = sorted((ROOT / "samples").glob("*.nnproj"))
HIDDEN = ["identity", "relu", "leaky_relu", "sigmoid", "tanh", "softplus"]
ELEMENTWISE_OUT = ["identity", "tanh", "sigmoid", "relu", "leaky_relu", "softplus"]


def sample(path: Path) -> Project:
    return project.load(path)


def random_project(seed: int, loss: str | None = None, optimizer: str = "adam",
                   batch_size: int = 0, validation_split: float = 0.0,
                   step_hidden: bool = False, lock: float = 0.2,
                   regularization: str = "none", regularization_rate: float = 0.0,
                   derived: bool = False) -> Project:
    """A random feed-forward DAG (see the module docstring), its data and settings; with
    ``derived``, one to three derived inputs (x1², x1·x2, sin x2, ...) among the data inputs."""
    rng = np.random.default_rng(seed)
    loss = loss or str(rng.choice(losses.NAMES))
    n_in, n_hid, n_out = int(rng.integers(1, 5)), int(rng.integers(0, 9)), int(rng.integers(1, 4))
    derive: list[str | None] = [None] * n_in
    if derived:
        names = [str(d) for d in rng.choice(DERIVED_NAMES, size=int(rng.integers(1, 4)),
                                            replace=False)]
        n_in = max(n_in, 2)
        derive = [None] * n_in
        for name in names:
            derive.insert(int(rng.integers(0, len(derive) + 1)), name)
    if loss == "bce":
        mode = rng.choice(["sigmoid", "sigmoid", "softmax+sigmoid"])
    elif loss == "cross_entropy":
        mode = rng.choice(["softmax", "softmax", "softmax+sigmoid"])
    else:
        mode = rng.choice(["any", "softmax", "softmax+any"])
    out_acts = []
    for _ in range(n_out):
        if mode in ("sigmoid", "softmax"):
            out_acts.append(str(mode))
        elif mode == "softmax+sigmoid":
            out_acts.append(str(rng.choice(["softmax", "sigmoid"])))
        elif mode == "softmax+any":
            out_acts.append(str(rng.choice(["softmax", *ELEMENTWISE_OUT])))
        else:
            out_acts.append(str(rng.choice(ELEMENTWISE_OUT)))
    hidden_pool = HIDDEN + (["binary_step"] if step_hidden else [])
    hid_acts = [str(rng.choice(hidden_pool)) for _ in range(n_hid)]
    inputs = [f"i{k}" for k in range(len(derive))]
    hidden = [f"h{k}" for k in range(n_hid)]
    outs = [f"o{k}" for k in range(n_out)]
    later = list(rng.permutation(hidden + outs))
    order = inputs + later
    net = Network()
    for nid, d in zip(inputs, derive, strict=True):
        net.add_neuron("input", id=nid, y=float(rng.uniform(-100, 100)), derive=d)
    for k, nid in enumerate(hidden):
        net.add_neuron("hidden", id=nid, activation=hid_acts[k], bias=float(rng.normal()),
                       slope=float(rng.uniform(0.01, 0.4)), y=float(rng.uniform(-100, 100)))
    for k, nid in enumerate(outs):
        net.add_neuron("output", id=nid, activation=out_acts[k], bias=float(rng.normal()),
                       slope=float(rng.uniform(0.01, 0.4)), y=float(rng.uniform(-100, 100)))
    for j, t in enumerate(order):
        if t in inputs:
            continue
        cands = [s for s in order[:j] if not s.startswith("o")]
        k = 0 if rng.random() < 0.1 else int(rng.integers(1, max(2, min(5, len(cands) + 1))))
        for s in rng.choice(len(cands), size=min(k, len(cands)), replace=False):
            net.connect(cands[int(s)], t, float(rng.normal()))
    for pid in net.param_ids():
        if rng.random() < lock:
            net.set_trainable(pid, False)
    rows = int(rng.integers(5, 40))
    X = rng.normal(size=(rows, n_in))
    if loss == "bce":
        Y = (rng.random((rows, n_out)) < 0.5).astype(float)
    elif loss == "cross_entropy":
        Y = np.eye(n_out)[rng.integers(0, n_out, rows)]
    else:
        Y = rng.normal(size=(rows, n_out))
    ds = Dataset([f"in{k}" for k in range(n_in)], [f"out{k}" for k in range(n_out)], X, Y)
    settings = TrainSettings(loss=loss, optimizer=optimizer, learning_rate=0.05,
                             batch_size=batch_size, epochs=3, seed=seed,
                             validation_split=validation_split,
                             regularization=regularization,
                             regularization_rate=regularization_rate)
    return Project(net, ds, settings, "", f"random {seed}")


def import_script(path: Path, name: str):
    """Import a generated script as a module (nothing under its ``__main__`` guard runs)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


CONV_ACTIVATIONS = ["identity", "relu", "leaky_relu", "sigmoid", "tanh", "softplus"]


def random_cnn(seed: int, loss: str | None = None, optimizer: str = "adam",
               batch_size: int = 0, regularization: str = "none",
               regularization_rate: float = 0.0) -> Project:
    """A random convolutional network: an image input (1-2 channels, 3-7 pixels a side), a
    chain of 1-3 convolutions ('valid' or 'same' padding, strides, every activation) and
    max/average pooling layers, a flatten (sometimes a second one from an earlier layer),
    input neurons beside the image sometimes, a dense part reading part of the features, locked
    filters sometimes, data that suits the loss and the project's settings."""
    rng = np.random.default_rng(seed)
    loss = loss or str(rng.choice(["mse", "cross_entropy", "ssr", "bce"]))
    while True:
        net = Network()
        c, h, w = int(rng.integers(1, 3)), int(rng.integers(3, 8)), int(rng.integers(3, 8))
        net.add_image_layer("image_input", id="img", shape=(c, h, w))
        chain = ["img"]
        try:
            for i in range(int(rng.integers(1, 4))):
                if i == 0 or rng.random() < 0.6:
                    net.add_image_layer(
                        "convolution", id=f"conv{i}", source=chain[-1], seed=seed + i,
                        init="uniform", filters=int(rng.integers(1, 4)),
                        kernel=int(rng.integers(1, 4)), stride=int(rng.integers(1, 3)),
                        padding=str(rng.choice(["valid", "same"])),
                        activation=str(rng.choice(CONV_ACTIVATIONS)),
                        slope=float(rng.uniform(0.05, 0.3)))
                    chain.append(f"conv{i}")
                else:
                    window = int(rng.integers(1, 3))
                    net.add_image_layer("pooling", id=f"pool{i}", source=chain[-1],
                                        window=window, stride=int(rng.integers(1, window + 1)),
                                        mode=str(rng.choice(["max", "average"])))
                    chain.append(f"pool{i}")
        except NetworkError:
            continue   # a layer that does not fit its input: draw another network
        net.add_image_layer("flatten", id="flat", source=chain[-1])
        flats = ["flat"]
        if len(chain) > 2 and rng.random() < 0.5:
            side = chain[int(rng.integers(1, len(chain) - 1))]
            net.add_image_layer("flatten", id="side", source=side)
            flats.append("side")
        features = [f for fl in flats for f in net.feature_neurons(fl)]
        if len(features) <= 60:
            break
    n_in = int(rng.integers(0, 3))
    for k in range(n_in):
        net.add_neuron("input", id=f"x{k}")
    n_out = int(rng.integers(1, 4)) if loss != "cross_entropy" else int(rng.integers(2, 4))
    out_act = {"cross_entropy": "softmax", "bce": "sigmoid"}.get(loss) or \
        str(rng.choice(["identity", "tanh", "sigmoid"]))
    outs = [net.add_neuron("output", id=f"o{k}", activation=out_act,
                           bias=float(rng.uniform(-1, 1))).id for k in range(n_out)]
    sources = features + [f"x{k}" for k in range(n_in)]
    hidden: list[str] = []
    if rng.random() < 0.5:
        hidden = [net.add_neuron("hidden", id=f"h{k}", activation="tanh",
                                 bias=float(rng.uniform(-1, 1))).id for k in range(2)]
        net.connect_fully(sources, hidden, seed=seed)
    for o in outs:
        for s in sources + hidden:
            if rng.random() < 0.6:
                net.connect(s, o, float(rng.uniform(-1, 1)))
    for conv in [lid for lid in net.image_layers if lid.startswith("conv")]:
        for f in range(net.image_layers[conv].filters):
            if rng.random() < 0.2:
                net.set_filter_trainable(conv, f, False)
    rows = int(rng.integers(3, 9))
    X = rng.uniform(-1, 1, size=(rows, c * h * w + n_in))
    if loss == "cross_entropy":
        Y = np.eye(n_out)[rng.integers(0, n_out, rows)]
    elif loss == "bce":
        Y = (rng.random((rows, n_out)) < 0.5).astype(float)
    else:
        Y = rng.uniform(-1, 1, size=(rows, n_out))
    names = [f"p{k}" for k in range(c * h * w)] + [f"x{k}" for k in range(n_in)]
    ds = Dataset(names, [f"y{k}" for k in range(n_out)], X, Y)
    settings = TrainSettings(loss=loss, optimizer=optimizer, learning_rate=0.05,
                             batch_size=batch_size, epochs=3, seed=seed,
                             regularization=regularization,
                             regularization_rate=regularization_rate)
    return Project(net, ds, settings, "", f"cnn {seed}")


def torch_onnx(torch, model, x) -> bytes:
    """``torch.onnx.export`` of ``model`` (input "x" with a dynamic batch, output "y"): a
    model no one here wrote, for the import tests."""
    import io
    import warnings
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), f, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}}, dynamo=False)
    return f.getvalue()
