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
from nnstudio.core.network import Network
from nnstudio.core.project import Project
from nnstudio.core.trainer import TrainSettings

ROOT = Path(__file__).resolve().parents[2]
#: the shipped samples the exporters write (not yet the ones with image layers: see
#: test_export_numpy.py's test of their refusal)
SAMPLES = sorted(p for p in (ROOT / "samples").glob("*.nnproj")
                 if '"image_layers"' not in p.read_text(encoding="utf-8"))
IMAGE_SAMPLES = sorted(p for p in (ROOT / "samples").glob("*.nnproj") if p not in SAMPLES)
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
