"""Canvas speed at scale: 1,000 neurons and 100,000 connections in a 1400x900 window, and a
convolution with 8 feature maps of 26 x 26 while it trains.

Prints three figures (issue 3's goals, and issue 9's):

1. open + first paint: load the project file, build the Document and the CanvasView, show the
   window and wait until the first frame is painted (goal < 2 s);
2. repaint after every weight changed: replace all 100,000 weights and 800 biases at once (as a
   training snapshot does), let the document re-evaluate and the canvas recolour every neuron,
   and repaint the whole view (goal < 30 ms). Reported as the median of 30 rounds, with the
   paint alone and the evaluation + recolour alone, at the fitted zoom and zoomed in;
3. a convolution repainting while training: 1 x 28 x 28 images, 8 filters of 3 x 3 (8 maps of
   26 x 26), 2 x 2 max pooling, flatten (1,352 feature neurons), 10 outputs; every parameter
   changes (a training snapshot), the canvas rebuilds the maps' images and the filter grids
   and repaints the view zoomed to the convolution (goal < 16 ms). The evaluation is reported
   beside it, not included, as in (2).

Run: python benchmarks/canvas.py [--neurons-per-layer 200] [--fan-in 125] [--rounds 30]
[--cnn-only]
(offscreen by default; set QT_QPA_PLATFORM to watch it on a real screen). Figures swing several
times over on a machine busy with other work; the "best" column shows the unloaded cost.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np


def build_project(per_layer: int, layers: int, fan_in: int, samples: int, seed: int = 0):
    from nnstudio.core import datasets
    from nnstudio.core.network import Network
    from nnstudio.core.project import Project
    from nnstudio.core.trainer import TrainSettings

    rng = np.random.default_rng(seed)
    neurons, conns = [], []
    ids = []
    for li in range(layers):
        role = "input" if li == 0 else "output" if li == layers - 1 else "hidden"
        act = "identity" if role != "hidden" else "tanh"
        layer = []
        for i in range(per_layer):
            nid = f"n{li}_{i}"
            neurons.append({"id": nid, "role": role, "activation": act,
                            "bias": 0.0 if role == "input" else float(rng.normal(0, 0.1)),
                            "x": li * 1200.0, "y": (i - (per_layer - 1) / 2) * 60.0})
            layer.append(nid)
        ids.append(layer)
    k = 0
    for li in range(1, layers):
        for t in ids[li]:
            for s in rng.choice(ids[li - 1], size=min(fan_in, per_layer), replace=False):
                conns.append({"id": f"c{k}", "source": str(s), "target": t,
                              "weight": float(rng.normal(0, 1.0 / np.sqrt(fan_in)))})
                k += 1
    net = Network.from_dict({"neurons": neurons, "connections": conns})
    X = rng.normal(size=(samples, per_layer))
    Y = rng.normal(size=(samples, per_layer))
    ds = datasets.Dataset([f"x{i}" for i in range(per_layer)],
                          [f"y{i}" for i in range(per_layer)], X, Y)
    return Project(net, ds, TrainSettings(loss="mse"), "benchmark", "canvas-benchmark")


def build_cnn(samples: int, seed: int = 0):
    """1 x 28 x 28 -> convolution 8 x 3 x 3 (8 maps of 26 x 26) -> max pool 2 x 2 -> flatten
    (1,352) -> 10 softmax outputs, on random images."""
    from nnstudio.core import datasets
    from nnstudio.core.network import Network
    from nnstudio.core.project import Project
    from nnstudio.core.trainer import TrainSettings

    net = Network()
    net.add_image_layer("image_input", id="image", x=0.0, y=0.0, shape=(1, 28, 28))
    net.add_image_layer("convolution", id="conv", x=260.0, y=0.0, source="image", filters=8,
                        seed=seed)
    net.add_image_layer("pooling", id="pool", x=560.0, y=0.0, source="conv")
    net.add_image_layer("flatten", id="flat", x=760.0, y=0.0, source="pool")
    outs = [net.add_neuron("output", activation="softmax", x=1000.0, y=(k - 4.5) * 60.0).id
            for k in range(10)]
    net.connect_fully(net.feature_neurons("flat"), outs, seed=seed)
    rng = np.random.default_rng(seed)
    X = (rng.random((samples, 28 * 28)) < 0.2).astype(float)
    Y = np.eye(10)[rng.integers(0, 10, samples)]
    ds = datasets.Dataset([f"pixels[0,{r},{c}]" for r in range(28) for c in range(28)],
                          [f"class {k}" for k in range(10)], X, Y)
    return Project(net, ds, TrainSettings(loss="cross_entropy"), "benchmark", "cnn-canvas")


def cnn_repaint(app, rounds: int, samples: int, size: tuple[int, int]) -> None:
    """Figure (3): the convolution's maps repainting while its values change."""
    from nnstudio.gui.canvas.view import CanvasView
    from nnstudio.gui.document import Document

    doc = Document(build_cnn(samples))
    view = CanvasView(doc)
    view.resize(*size)
    view.show()
    app.processEvents()
    scene = view.scene()
    conv = scene.item_for("conv")
    view.fitInView(conv.sceneBoundingRect().adjusted(-40, -40, 40, 40))
    app.processEvents()
    eng = doc.engine()
    rng = np.random.default_rng(2)
    base = eng.params.copy()
    totals, cpu, refreshes, paints, evals = [], [], [], [], []
    for _ in range(rounds):
        values = base + rng.normal(0, 0.3, base.size)
        c0 = time.thread_time()
        t0 = time.perf_counter()
        doc.apply_params_from_training(eng.slots, values)   # the snapshot: filters, weights
        t1 = time.perf_counter()
        c1 = time.thread_time()
        doc.evaluation()                                    # engine: every sample's maps
        c2 = time.thread_time()
        t2 = time.perf_counter()
        scene.refresh_values()                              # 8 map images, 8 filter grids
        t3 = time.perf_counter()
        view.viewport().repaint()
        t4 = time.perf_counter()
        c4 = time.thread_time()
        app.processEvents()
        totals.append((t1 - t0) + (t4 - t2))
        cpu.append((c1 - c0) + (c4 - c2))
        evals.append(t2 - t1)
        refreshes.append(t3 - t2)
        paints.append(t4 - t3)
    med = lambda xs: statistics.median(xs) * 1000  # noqa: E731
    maps = [g for g in conv.grids if g.key[0] == "map"]
    print(f"(3) convolution repaint while training [{len(maps)} maps of "
          f"{maps[0].rows} x {maps[0].cols}, zoom {view.scale_factor():.2f}]: "
          f"{med(totals):.1f} ms median, p90 {np.percentile(totals, 90) * 1000:.1f} ms, best "
          f"{min(totals) * 1000:.1f} ms  goal < 16 ms\n"
          f"      (the GUI thread's CPU time {med(cpu):.1f} ms median: the rest is waiting for "
          f"a core on a busy machine; map and filter images {med(refreshes):.1f} ms, paint "
          f"{med(paints):.1f} ms; not included: the evaluation of {samples} samples, "
          f"{med(evals):.1f} ms)")
    doc.deleteLater()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--neurons-per-layer", type=int, default=200)
    ap.add_argument("--layers", type=int, default=5)
    ap.add_argument("--fan-in", type=int, default=125)
    ap.add_argument("--samples", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--size", default="1400x900")
    ap.add_argument("--screenshot", default="", help="save the fitted view as PNG here")
    ap.add_argument("--cnn-only", action="store_true", help="only figure (3)")
    ap.add_argument("--cnn-samples", type=int, default=64)
    args = ap.parse_args(argv)
    w, h = (int(v) for v in args.size.lower().split("x"))

    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication(sys.argv[:1])
    if args.cnn_only:
        cnn_repaint(app, args.rounds, args.cnn_samples, (w, h))
        return 0

    from nnstudio.core import project as project_mod
    from nnstudio.gui.canvas.view import CanvasView
    from nnstudio.gui.document import Document

    proj = build_project(args.neurons_per_layer, args.layers, args.fan_in, args.samples)
    n_neurons, n_conns = len(proj.network.neurons), len(proj.network.connections)
    tmp = Path(tempfile.mkdtemp()) / "big.nnproj"
    project_mod.save(proj, tmp)
    del proj

    # ---- (1) open + first paint
    t0 = time.perf_counter()
    loaded = project_mod.load(tmp)
    t_load = time.perf_counter() - t0
    doc = Document(loaded, tmp)
    view = CanvasView(doc)
    view.resize(w, h)
    view.show()
    layer = view.scene().connections
    while layer.paint_count == 0:
        app.processEvents()
        if time.perf_counter() - t0 > 60:
            print("no paint after 60 s", file=sys.stderr)
            return 1
    t_open = time.perf_counter() - t0
    items = view.scene().item_for_node
    probe = next(n for n in loaded.network.neurons if loaded.network.neurons[n].role == "output")
    while items[probe].value is None:     # activation colours arrive right after
        app.processEvents()
    view.viewport().repaint()
    t_values = time.perf_counter() - t0
    print(f"network: {n_neurons:,} neurons, {n_conns:,} connections, "
          f"{args.samples} samples, view {w}x{h}")
    print(f"(1) open + first paint: {t_open * 1000:.0f} ms  goal < 2000 ms\n"
          f"      (reading the file {t_load * 1000:.0f} ms; activation colours painted at "
          f"{t_values * 1000:.0f} ms)")

    # ---- (2) every weight changes, then the whole view repaints
    eng = doc.engine()
    rng = np.random.default_rng(1)
    base = eng.params.copy()

    scene = view.scene()

    def round_trip(zoom_label: str) -> None:
        canvas, paints, evals = [], [], []
        for _ in range(args.rounds):
            values = base + rng.normal(0, 0.3, base.size)
            t0 = time.perf_counter()
            doc.apply_params_from_training(eng.slots, values)   # store write + change notices
            t1 = time.perf_counter()
            doc.evaluation()                          # engine: forward + backward, all samples
            t2 = time.perf_counter()
            scene.refresh_values()                    # recolour 1,000 neurons
            t3 = time.perf_counter()
            before = layer.paint_count
            view.viewport().repaint()                 # re-bucket 100k weights + paint
            t4 = time.perf_counter()
            if layer.paint_count == before:           # a platform that defers: force a paint
                view.viewport().grab()
                t4 = time.perf_counter()
            app.processEvents()                       # drain (coalesced evaluationChanged)
            canvas.append((t1 - t0) + (t4 - t2))
            evals.append(t2 - t1)
            paints.append(t4 - t3)
        med = lambda xs: statistics.median(xs) * 1000  # noqa: E731
        shown = f"{layer.shown_fraction * layer.visible_count:,.0f} of {layer.visible_count:,}"
        print(f"(2) repaint after every weight changed [{zoom_label}]: "
              f"{med(canvas):.1f} ms median, "
              f"p90 {np.percentile(canvas, 90) * 1000:.1f} ms, best {min(canvas) * 1000:.1f} ms"
              f"  goal < 30 ms\n"
              f"      (paint {med(paints):.1f} ms; lines drawn {shown}; not included: the "
              f"document's evaluation of all {args.samples} samples, {med(evals):.1f} ms)")

    view.fit()
    app.processEvents()
    round_trip(f"fit, zoom {view.scale_factor():.3f}")
    if args.screenshot:
        view.grab().save(args.screenshot)
    view.resetTransform()
    view.centerOn(2 * 1200.0 - 500.0, 0)
    app.processEvents()
    round_trip("zoom 1.0, centre")
    doc.deleteLater()
    cnn_repaint(app, args.rounds, args.cnn_samples, (w, h))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
