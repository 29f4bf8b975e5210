"""Editor speed at scale: the Document's undoable edits on a 1,000-neuron, 100,000-connection
network (the canvas benchmark's), timed as the user meets them: the edit (validate + push +
redo), its undo and its redo, with no window (the model's notices reach the document only).

Rows: delete 300 neurons (with their 37,500 connections), add a dense layer of 100 after layer
1, connect two columns fully (100 new neurons to the 200 of layer 4), auto-layout, randomize,
move 200 neurons. Each cell is the median wall-clock time and the best CPU time of this process
(steadier when other programs share the machine) of several rounds, each on a fresh copy of
the project.

Goal: every step under 1 s at this size (most well under), and no step slower than before a
change that claims to keep speed.

Run: python benchmarks/edits.py [--neurons-per-layer 200] [--fan-in 125] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from canvas import build_project


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--neurons-per-layer", type=int, default=200)
    ap.add_argument("--fan-in", type=int, default=125)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    from nnstudio.core.project import Project
    from nnstudio.gui.document import Document

    app = QApplication.instance() or QApplication([])
    proj = build_project(args.neurons_per_layer, 5, args.fan_in, samples=16)
    layers = proj.network.layers()

    def fresh() -> Document:
        return Document(Project(proj.network.copy(), proj.dataset, proj.settings))

    def drop_300(doc):
        doc.remove(layers[2][:150] + layers[3][:150])

    def dense_100(doc):
        doc.add_dense_layer(1, 100)

    def connect_columns(doc):
        net = doc.network
        x = max(net.neurons[n].x for n in layers[3]) + 600.0
        hs = [doc.add_neuron("hidden", x, 60.0 * i) for i in range(100)]
        doc.undo_stack.setClean()
        return lambda: doc.connect_fully(layers[3] + hs)

    def move_200(doc):
        net = doc.network
        doc.move_items({n: (net.neurons[n].x + 30.0, net.neurons[n].y) for n in layers[1]})

    cases = [("delete 300 neurons", drop_300, None), ("add dense layer of 100", dense_100, None),
             ("connect 200 -> 100 fully", None, connect_columns),
             ("auto-layout", lambda d: d.auto_layout(), None),
             ("randomize", lambda d: d.randomize(seed=1), None),
             ("move 200 neurons", move_200, None)]
    print(f"network: {len(proj.network.neurons):,} neurons, {len(proj.network.connections):,} "
          f"connections; median wall / best CPU time of {args.rounds} rounds")
    print(f"{'':28}{'edit':>18}{'undo':>18}{'redo':>18}")
    for name, edit, prepare in cases:
        wall: dict[str, list[float]] = {"edit": [], "undo": [], "redo": []}
        cpu: dict[str, list[float]] = {"edit": [], "undo": [], "redo": []}
        for _ in range(args.rounds):
            doc = fresh()
            run = prepare(doc) if prepare else (lambda doc=doc, edit=edit: edit(doc))
            app.processEvents()
            for step, fn in (("edit", run), ("undo", doc.undo_stack.undo),
                             ("redo", doc.undo_stack.redo)):
                t0, c0 = time.perf_counter(), time.process_time()
                fn()
                wall[step].append(time.perf_counter() - t0)
                cpu[step].append(time.process_time() - c0)
            app.processEvents()
            doc.deleteLater()
        cells = "".join(f"{statistics.median(wall[k]) * 1e3:>10.0f} / {min(cpu[k]) * 1e3:<5.0f}"
                        for k in wall)
        print(f"{name:28}{cells}  ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
