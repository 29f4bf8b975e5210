"""Training throughput of the NumPy engine, in samples per second, against PyTorch when present.

One training step is: draw the next shuffled mini-batch, forward, backward, optimizer update
(NN Studio: ``Trainer.step()``, which also checks the loss, gradient and parameters for NaN/inf).
The PyTorch side runs the same network (Linear/ReLU layers of the same sizes), the same loss
(MSE), the same optimizer and batch size, on the same random data, in float64, in the same run;
``--float32`` adds a float32 PyTorch column for reference.

    python benchmarks/engine_throughput.py [--optimizer adam|sgd] [--nets tiny,medium,large]
        [--seconds S] [--rounds R] [--threads N] [--float32] [--no-torch] [--epoch]

Each figure is the best of ``--rounds`` timed runs of at least ``--seconds`` each, NN Studio and
PyTorch alternating, so that both see the same machine load. ``--epoch`` also times one whole
training epoch of the Trainer, including the full-dataset loss it computes for every epoch's
snapshot (and the same for PyTorch). ``--threads N`` limits BLAS (and PyTorch) to N threads.

PyTorch is optional and never a dependency: ``pip install torch==2.13.0`` (CPU build).
"""

from __future__ import annotations

import argparse
import sys
import time

from harness import (
    limit_threads,
    optional_torch,
    samples_per_second,
    torch_training_step,
    versions_line,
)

NETS = {
    "tiny": ([2, 8, 8, 1], 256, 32),
    "medium": ([64, 128, 128, 10], 10_000, 256),
    "large": ([784, 256, 10], 60_000, 256),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    p.add_argument("--nets", default="tiny,medium,large")
    p.add_argument("--seconds", type=float, default=0.5, help="minimum time per timed run")
    p.add_argument("--rounds", type=int, default=5, help="timed runs per figure (best is kept)")
    p.add_argument("--threads", type=int, default=0, help="BLAS/torch threads (0: library default)")
    p.add_argument("--float32", action="store_true", help="also time PyTorch in float32")
    p.add_argument("--no-torch", action="store_true", help="time NN Studio only")
    p.add_argument("--epoch", action="store_true", help="also time one Trainer epoch per net")
    args = p.parse_args(argv)
    for name in args.nets.split(","):
        if name not in NETS:
            p.error(f"unknown net {name!r} (known: {', '.join(NETS)})")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    limit_threads(args.threads)  # before NumPy (and its BLAS) is loaded
    import numpy as np

    from nnstudio.core.network import dense
    from nnstudio.core.trainer import Trainer, TrainSettings

    torch = optional_torch(args.no_torch, args.threads)
    lr = 1e-3 if args.optimizer == "adam" else 1e-2
    print(f"# engine throughput: optimizer {args.optimizer}, loss mse, float64, "
          f"best of {args.rounds} runs of >= {args.seconds} s")
    print(versions_line(np, torch, args.threads))

    def timed(step, batch):
        return samples_per_second(step, batch, args.seconds)

    rows = []
    for name in args.nets.split(","):
        sizes, n_samples, batch = NETS[name]
        rng = np.random.default_rng(0)
        X = rng.standard_normal((n_samples, sizes[0]))
        Y = rng.standard_normal((n_samples, sizes[-1]))
        net = dense(sizes, hidden="relu", output="identity", seed=0)
        settings = TrainSettings(loss="mse", optimizer=args.optimizer, learning_rate=lr,
                                 batch_size=batch, epochs=1, seed=0)
        trainer = Trainer(net, X, Y, settings)

        runners = {"nnstudio": (trainer.step, batch)}
        tmods = {}
        if torch is not None:
            for dtype in [torch.float64] + ([torch.float32] if args.float32 else []):
                tmods[dtype] = _torch_setup(torch, sizes, X, Y, batch, args.optimizer, lr, dtype)
                runners[str(dtype)] = (tmods[dtype][0], batch)
        best = dict.fromkeys(runners, 0.0)
        for _ in range(args.rounds):
            for key, (fn, b) in runners.items():
                best[key] = max(best[key], timed(fn, b))
        row = {"name": name, "sizes": sizes, "n": n_samples, "batch": batch, **best}
        if args.epoch:
            fresh = Trainer(net, X, Y, settings)
            t0 = time.perf_counter()
            snap = fresh.run_epoch()
            row["epoch_s"] = time.perf_counter() - t0
            assert snap.epoch == 1 and np.isfinite(snap.loss)
            if torch is not None:
                row["torch_epoch_s"] = tmods[torch.float64][1]()
        rows.append(row)
        print(f"#   {name}: " + ", ".join(f"{k} {v:,.0f}/s" for k, v in best.items()
                                          if isinstance(v, float)), flush=True)

    # ---------------------------------------------------------------- the Markdown table
    print()
    head = ["net", "samples", "batch", "NN Studio (samples/s)"]
    if torch is not None:
        head += ["PyTorch float64 (samples/s)", "NN Studio / PyTorch"]
        if args.float32:
            head += ["PyTorch float32 (samples/s)"]
    if args.epoch:
        head += ["one Trainer epoch (s)"] + (["PyTorch epoch (s)"] if torch is not None else [])
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for r in rows:
        cells = [f"{r['name']} {'-'.join(map(str, r['sizes']))}", f"{r['n']:,}", str(r["batch"]),
                 f"{r['nnstudio']:,.0f}"]
        if torch is not None:
            t64 = r[str(torch.float64)]
            cells += [f"{t64:,.0f}", f"{r['nnstudio'] / t64:.2f}×"]
            if args.float32:
                cells += [f"{r[str(torch.float32)]:,.0f}"]
        if args.epoch:
            cells += [f"{r['epoch_s']:.3f}"]
            if torch is not None:
                cells += [f"{r['torch_epoch_s']:.3f}"]
        print("| " + " | ".join(cells) + " |")
    return 0


def _torch_setup(torch, sizes, X, Y, batch, optimizer, lr, dtype):
    """A PyTorch twin of the NN Studio run: (step function, epoch timer)."""
    torch.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:], strict=False)):
        layers.append(torch.nn.Linear(a, b, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    Xt = torch.from_numpy(X).to(dtype)
    Yt = torch.from_numpy(Y).to(dtype)
    loss_fn = torch.nn.MSELoss()

    def make_opt():
        return torch.optim.Adam(model.parameters(), lr=lr) if optimizer == "adam" \
            else torch.optim.SGD(model.parameters(), lr=lr)

    step = torch_training_step(torch, model, loss_fn, make_opt(), Xt, Yt, batch)

    def epoch():
        """One epoch from a fresh optimizer and shuffle, plus the full-dataset loss."""
        epoch_step = torch_training_step(torch, model, loss_fn, make_opt(), Xt, Yt, batch)
        t0 = time.perf_counter()
        for _ in range(-(-Xt.shape[0] // batch)):
            epoch_step()
        with torch.no_grad():
            float(loss_fn(model(Xt), Yt))
        return time.perf_counter() - t0

    return step, epoch


if __name__ == "__main__":
    sys.exit(main())
