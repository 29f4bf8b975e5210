"""Export and import speed, and the exported models' prediction speed, at four sizes.

Networks: the spiral lesson (2-16-16-1, 304 connections); a dense 784-256-10 (203,264
connections, MNIST-sized); the canvas benchmark's sparse network (5 layers of 200 neurons, each
fed by 125 of the layer before: 100,000 connections, so every layer is a masked linear layer);
a convolutional network on 28 x 28 images (conv 8 x 3 x 3 'same' ReLU, max pooling 2, conv
16 x 3 x 3 'same' ReLU, max pooling 2, flatten 784, dense 10 softmax: 1,224 filter weights and
7,840 connections).
For each it prints the median of several rounds of

* ``plan``: building the export plan from the network;
* ``pytorch``, ``numpy``, ``onnx``: writing the PyTorch script, the NumPy script and the ONNX
  model (float64, with onnx.checker's full check) as text/bytes, and their sizes;
* ``compile``: Python compiling the PyTorch script (the cost of importing it, weights included);
* ``onnx import``: reading the ONNX model back into a Network;

then predictions on 10,000 rows: NN Studio's engine, the NumPy script's ``predict``, the
PyTorch script's model (float64, no_grad) and onnxruntime (float64) in the same run, in rows/s.
torch, onnx and onnxruntime are optional: what is missing is skipped and said so.

Run: python benchmarks/export.py [--rounds 3] [--rows 10000] [--threads 1]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402  (this folder's shared benchmark pieces)


def timed(fn, rounds: int):
    times, result = [], None
    for _ in range(rounds):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def projects():
    import numpy as np
    from canvas import build_project  # the canvas benchmark's network

    from nnstudio.core import project
    from nnstudio.core.datasets import Dataset, ImageColumns, image_column_names
    from nnstudio.core.network import Network, dense
    from nnstudio.core.project import Project
    from nnstudio.core.trainer import TrainSettings

    rng = np.random.default_rng(0)
    big = dense([784, 256, 10], hidden="relu", output="softmax", seed=0)
    ds = Dataset([f"p{i}" for i in range(784)], [f"c{i}" for i in range(10)],
                 rng.random((100, 784)), np.eye(10)[rng.integers(0, 10, 100)])
    cnn = Network()
    cnn.add_image_layer("image_input", id="image", shape=(1, 28, 28))
    source = "image"
    for k, filters in enumerate((8, 16)):
        cnn.add_image_layer("convolution", id=f"conv{k}", source=source, seed=k,
                            filters=filters, kernel=3, padding="same", activation="relu")
        cnn.add_image_layer("pooling", id=f"pool{k}", source=f"conv{k}", window=2, stride=2)
        source = f"pool{k}"
    cnn.add_image_layer("flatten", id="flat", source=source)
    outs = [cnn.add_neuron("output", id=f"c{i}", activation="softmax").id for i in range(10)]
    cnn.connect_fully(cnn.feature_neurons("flat"), outs, seed=0)
    pixels = ImageColumns("pixels", (1, 28, 28), 0)
    images = Dataset(image_column_names("pixels", (1, 28, 28)), outs, rng.random((100, 784)),
                     np.eye(10)[rng.integers(0, 10, 100)], images=(pixels,))
    return [
        ("spiral 2-16-16-1", project.load(ROOT / "samples" / "spiral.nnproj")),
        ("dense 784-256-10", Project(big, ds, TrainSettings(loss="cross_entropy"), "", "big")),
        ("sparse 5x200, fan-in 125", build_project(200, 5, 125, 100)),
        ("cnn 28x28 conv8-pool-conv16-pool-10",
         Project(cnn, images, TrainSettings(loss="cross_entropy"), "", "cnn")),
    ]


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def optional(name: str):
    """The module ``name``, or None (said on stderr) when it is not installed."""
    try:
        return __import__(name)
    except ImportError:
        print(f"{name} is not installed: its figures are skipped", file=sys.stderr)
        return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS and PyTorch threads (1 gives steady figures on a shared machine)")
    args = ap.parse_args(argv)
    harness.limit_threads(args.threads)
    import numpy as np

    torch = harness.optional_torch(False, args.threads)
    onnx = optional("onnx")
    ort = optional("onnxruntime") if onnx else None
    print(harness.versions_line(np, torch, args.threads)
          + (f", onnx {onnx.__version__}" if onnx else "")
          + (f", onnxruntime {ort.__version__}" if ort else "")
          + f"; median of {args.rounds} round(s)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (name, proj) in enumerate(projects()):
            r = measure(Path(tmp), k, name, proj, args, torch, onnx, ort)
            rows.append(r)
            print(", ".join(f"{key} {_fmt(v)}" for key, v in r.items()), flush=True)
    keys = list(dict.fromkeys(k for r in rows for k in r))
    print()
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        print("| " + " | ".join(_fmt(r.get(k, "")) for k in keys) + " |")
    return 0


def measure(tmp: Path, k: int, name: str, proj, args, torch, onnx, ort) -> dict:
    """Every figure of one network (see the module docstring)."""
    import numpy as np

    from nnstudio.core.engine import Engine
    from nnstudio.core.export import numpy_script, onnx_export, onnx_import, plan, pytorch

    net, loss = proj.network, proj.settings.loss
    r = {"net": name, "connections": len(net.connections)}
    r["plan"], _ = timed(lambda: plan.build(net, loss), args.rounds)
    r["pytorch"], text = timed(lambda: pytorch.script(proj, f"m{k}.csv"), args.rounds)
    r["pytorch MB"] = len(text.encode()) / 1e6
    r["compile"], _ = timed(lambda: compile(text, "m.py", "exec"), args.rounds)
    r["numpy"], np_text = timed(lambda: numpy_script.script(proj), args.rounds)
    engine = Engine.compile(net)
    X = np.random.default_rng(1).normal(size=(args.rows, engine.n_input_columns))
    t, _ = timed(lambda: engine.predict(X), args.rounds)
    r["engine rows/s"] = args.rows / t
    path = tmp / f"np{k}.py"
    path.write_text(np_text)
    predict = load_module(path, f"np{k}").predict
    t, _ = timed(lambda: predict(X), args.rounds)
    r["numpy rows/s"] = args.rows / t
    if torch:
        tpath = tmp / f"t{k}.py"
        pytorch.write(proj, tpath)
        model = load_module(tpath, f"t{k}").Net()
        Xt = torch.tensor(X)

        def forward():
            with torch.no_grad():
                return model(Xt)

        t, _ = timed(forward, args.rounds)
        r["torch rows/s"] = args.rows / t
    if onnx:
        r["onnx"], m = timed(lambda: onnx_export.model(proj), args.rounds)
        data = m.SerializeToString()
        r["onnx MB"] = len(data) / 1e6
        r["onnx import"], _ = timed(lambda: onnx_import.parse(data), args.rounds)
        if ort:
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = args.threads
            s = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
            t, _ = timed(lambda: s.run(None, {"input": X}), args.rounds)
            r["onnxruntime rows/s"] = args.rows / t
    return r


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:,.0f}" if v >= 1000 else f"{v:.3g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


if __name__ == "__main__":
    sys.exit(main())
