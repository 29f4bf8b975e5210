"""Project file speed at scale: load and save a .nnproj of 1,000 neurons and 100,000 connections.

The same network as benchmarks/canvas.py (5 layers of 200 neurons, each fed by 125 neurons of
the layer before). Prints the median and best of several rounds for

* load: ``project.load(path)`` (read, parse, nesting check, validate, build the Network), split
  into its stages: parse (JSON text -> Python values, with the nesting check), validate (every
  field, with JSON paths) and build (``Network.from_dict`` and the dataset);
* save: ``project.save(proj, path)`` (validate, format, atomic write with fsync), and
  ``project.dumps`` alone.

Goal: loading well under 0.5 s, so the canvas benchmark's "open + first paint" (< 2 s) is spent
on the window, not the file.

Then big edits on a dense 100-300-300-10 network (123,000 connections): ``Network.copy`` (what
every undoable whole-network edit starts with), ``add_dense_layer(1, 100)`` (replaces the
90,000 connections between the hidden layers by 60,000 through 100 new neurons),
``disconnect_many`` / ``add_connection_dicts`` of those 60,000 (the bulk undo/redo primitives)
and ``connect_fully`` of 100 inputs to 100 new neurons.

Run: python benchmarks/load.py [--neurons-per-layer 200] [--fan-in 125] [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from canvas import build_project


def timed(fn, rounds: int) -> tuple[float, float, float, object]:
    """Median and best wall-clock time, best CPU time of this process (steadier when other
    programs share the machine), and the result."""
    times, cpu, result = [], [], None
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(times), min(times), min(cpu), result


def edit_rows(rounds: int) -> list[tuple]:
    from nnstudio.core.network import dense

    base = dense([100, 300, 300, 10], seed=0)
    rows = []
    *t, _ = timed(base.copy, rounds)
    rows.append((f"copy ({len(base.connections):,} connections)", *t))

    def fresh(fn):
        def run():
            return fn(nets.pop())
        nets = [base.copy() for _ in range(rounds)]
        return run
    *t, _ = timed(fresh(lambda n: n.add_dense_layer(1, 100, seed=0)), rounds)
    rows.append(("add_dense_layer(1, 100)", *t))
    grown = base.copy()
    new = grown.add_dense_layer(1, 100, seed=0)
    cids = [c.id for n in new for c in grown.incoming(n) + grown.outgoing(n)]
    nets = [grown.copy() for _ in range(rounds)]
    *t, dicts = timed(lambda: nets.pop().disconnect_many(cids), rounds)
    rows.append((f"disconnect_many ({len(cids):,})", *t))
    nets = [grown.copy() for _ in range(rounds)]
    for n in nets:
        n.disconnect_many(cids)
    *t, _ = timed(lambda: nets.pop().add_connection_dicts(dicts), rounds)
    rows.append((f"add_connection_dicts ({len(cids):,})", *t))

    def hundred_new(n):
        hs = [n.add_neuron("hidden").id for _ in range(100)]
        return lambda: n.connect_fully([x.id for x in n.inputs], hs, seed=0)
    runs = [hundred_new(base.copy()) for _ in range(rounds)]
    *t, made = timed(lambda: runs.pop()(), rounds)
    rows.append((f"connect_fully ({len(made):,} new)", *t))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--neurons-per-layer", type=int, default=200)
    ap.add_argument("--fan-in", type=int, default=125)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args(argv)

    from nnstudio.core import project as P

    proj = build_project(args.neurons_per_layer, 5, args.fan_in, samples=16)
    net = proj.network
    with tempfile.TemporaryDirectory() as tmpdir:
        path = os.path.join(tmpdir, "big.nnproj")
        P.save(proj, path)
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            data = f.read()
        print(f"project: {len(net.neurons):,} neurons, {len(net.connections):,} connections, "
              f"file {size / 1e6:.1f} MB; median / best of {args.rounds} rounds")

        rows = []
        *t, loaded = timed(lambda: P.load(path), args.rounds)
        assert len(loaded.network.connections) == len(net.connections)
        rows.append(("load (read + parse + validate + build)", *t))
        *t, doc = timed(lambda: P.parse(data), args.rounds)
        rows.append(("  parse (JSON + nesting check)", *t))
        *t, valid = timed(lambda: P.validate_document(P.migrate(doc)), args.rounds)
        rows.append(("  validate", *t))
        *t, _ = timed(lambda: P.build(valid), args.rounds)
        rows.append(("  build (Network from the checked columns + dataset)", *t))
        out = os.path.join(tmpdir, "out.nnproj")
        *t, _ = timed(lambda: P.save(loaded, out), args.rounds)
        rows.append(("save (validate + format + atomic write)", *t))
        *t, _ = timed(lambda: P.dumps(loaded), args.rounds)
        rows.append(("  dumps", *t))
        with open(out, "rb") as f:
            assert f.read() == data, "save after load must give the same bytes"

    rows += edit_rows(args.rounds)
    width = max(len(r[0]) for r in rows)
    print(f"{'':{width}}  {'median':>9}  {'best':>9}  {'best CPU':>9}")
    for name, med, best, cpu in rows:
        print(f"{name:{width}}  {med * 1000:7.0f} ms  {best * 1000:7.0f} ms  {cpu * 1000:7.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
