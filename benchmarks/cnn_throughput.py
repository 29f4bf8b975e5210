"""Training throughput of a small convolutional network, in samples per second, against PyTorch.

The network: one-channel square images, a convolution of 8 filters 3 x 3 ('valid', stride 1),
ReLU, 2 x 2 max pooling, flatten, a dense layer to 10 identity outputs; MSE loss against random
targets, Adam (lr 1e-3), mini-batches of 64 drawn from 5,000 random images, float64. One
training step is: gather the next shuffled mini-batch, forward, loss, backward, Adam update, and
the trainer's checks that the loss and the gradient are finite.

    python benchmarks/cnn_throughput.py [--sizes 12,28] [--seconds S] [--rounds R]
        [--threads N] [--no-torch]

NN Studio side: the network is built with the model's own operations (an image input, a
convolution, a pooling layer, a flatten and its feature neurons fully connected to 10 output
neurons) and trained by ``Trainer.step`` on the compiled engine, as engine_throughput.py times
dense networks: the same code path as Train ▸ Play.

Each figure is the best of ``--rounds`` timed runs of at least ``--seconds`` each, NN Studio and
PyTorch alternating, so that both see the same machine load. Before timing, one step of each
is compared on the same batch and parameters: the script prints how closely the loss and every
gradient agree. ``--threads N`` limits BLAS (and PyTorch) to N threads.

PyTorch is optional and never a dependency: ``pip install torch==2.13.0`` (CPU build).
"""

from __future__ import annotations

import argparse
import math
import sys

from harness import (
    limit_threads,
    optional_torch,
    samples_per_second,
    torch_training_step,
    versions_line,
)

N_IMAGES = 5_000
BATCH = 64
FILTERS = 8
KERNEL = 3
POOL = 2
CLASSES = 10
LR = 1e-3
SIZES = (12, 28)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default=",".join(map(str, SIZES)),
                   help="image sides to time, e.g. 12,28")
    p.add_argument("--seconds", type=float, default=0.5, help="minimum time per timed run")
    p.add_argument("--rounds", type=int, default=5, help="timed runs per figure (best is kept)")
    p.add_argument("--threads", type=int, default=0, help="BLAS/torch threads (0: library default)")
    p.add_argument("--no-torch", action="store_true", help="time NN Studio only")
    args = p.parse_args(argv)
    try:
        args.sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        p.error(f"--sizes must be whole numbers separated by commas, not {args.sizes!r}")
    for s in args.sizes:
        if not 4 <= s <= 128 or (s - KERNEL + 1) % POOL:
            p.error(f"image side {s}: must be 4 to 128 with {s} - {KERNEL - 1} even "
                    "(the 2 x 2 pooling must tile the feature maps)")
    return args


# ---------------------------------------------------------------------- NN Studio
def build_network(side: int, seed: int = 0):
    """The benchmark network, made with the model's edit operations. Parameters start with
    PyTorch's default initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn with ``seed``."""
    import numpy as np

    from nnstudio.core.network import Network

    net = Network()
    net.add_image_layer("image_input", id="image", shape=(1, side, side))
    net.add_image_layer("convolution", id="conv", source="image", filters=FILTERS,
                        kernel=KERNEL, activation="relu")
    net.add_image_layer("pooling", id="pool", source="conv", window=POOL)
    net.add_image_layer("flatten", id="flat", source="pool")
    outs = [net.add_neuron("output", id=f"y{k}", activation="identity").id
            for k in range(CLASSES)]
    feats = net.feature_neurons("flat")
    net.connect_fully(feats, outs)
    rng = np.random.default_rng(seed)
    lim_c = 1.0 / math.sqrt(KERNEL * KERNEL)
    lim_d = 1.0 / math.sqrt(len(feats))
    values = {pid: rng.uniform(-lim_c, lim_c) for pid in net.layer_param_ids("conv")}
    values.update((pid, rng.uniform(-lim_d, lim_d)) for pid in net.param_ids()
                  if pid not in values)
    net.set_params(values)
    return net


def nnstudio_step(side: int, X, Y):
    """(``Trainer.step``, the trainer) for the benchmark network on (X, Y)."""
    from nnstudio.core.trainer import Trainer, TrainSettings

    net = build_network(side)
    settings = TrainSettings(loss="mse", optimizer="adam", learning_rate=LR, batch_size=BATCH,
                             epochs=1)
    trainer = Trainer(net, X, Y, settings)

    def step():
        loss, diverged = trainer.step()
        if diverged:
            raise FloatingPointError(diverged)
        return loss

    return step, trainer


def engine_parts(np, trainer):
    """The engine's parameters as (conv weights (F, 1, k, k), conv biases, dense weights
    (inputs, outputs), dense biases), and the positions of each in its flat vector."""
    eng, net = trainer.engine, trainer.net
    conv = next(b for b in eng.image_blocks if b.kind == "convolution")
    packed = np.arange(conv.p_off, conv.p_off + conv.n_params).reshape(conv.shape.param_shape)
    feats = {f: k for k, f in enumerate(net.feature_neurons("flat"))}
    outs = {o: k for k, o in enumerate(eng.output_ids)}
    w_pos = np.zeros((len(feats), len(outs)), dtype=np.intp)
    for cid, c in net.connections.items():
        w_pos[feats[c.source], outs[c.target]] = eng.param_index(cid)
    b_pos = np.array([eng.param_index(o) for o in eng.output_ids])
    return (packed[:, :-1].reshape(FILTERS, 1, KERNEL, KERNEL), packed[:, -1], w_pos, b_pos)


# ---------------------------------------------------------------------- PyTorch
def torch_setup(torch, np, trainer, X, Y):
    """A PyTorch twin of the network with the same initial parameters: (step, gradient)."""
    side = trainer.net.image_layers["image"].shape[1]
    d = FILTERS * ((side - KERNEL + 1) // POOL) ** 2
    dtype = torch.float64
    conv = torch.nn.Conv2d(1, FILTERS, KERNEL, dtype=dtype)
    dense = torch.nn.Linear(d, CLASSES, dtype=dtype)
    p = trainer.engine.params
    cw, cb, w_pos, b_pos = engine_parts(np, trainer)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(p[cw]))
        conv.bias.copy_(torch.from_numpy(p[cb]))
        dense.weight.copy_(torch.from_numpy(p[w_pos].T.copy()))
        dense.bias.copy_(torch.from_numpy(p[b_pos]))
    net = torch.nn.Sequential(conv, torch.nn.ReLU(), torch.nn.MaxPool2d(POOL),
                              torch.nn.Flatten(), dense)
    Xt = torch.from_numpy(X.reshape(-1, 1, side, side).copy())
    Yt = torch.from_numpy(Y.copy())
    loss_fn = torch.nn.MSELoss()
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    step = torch_training_step(torch, net, loss_fn, opt, Xt, Yt, BATCH)

    def gradient(xb, yb):
        """(loss, conv weight, conv bias, dense weight (inputs, outputs), dense bias grads)."""
        net.zero_grad(set_to_none=True)
        loss = loss_fn(net(torch.from_numpy(xb.reshape(-1, 1, side, side))),
                       torch.from_numpy(yb))
        loss.backward()
        return (loss.item(), conv.weight.grad.numpy(), conv.bias.grad.numpy(),
                dense.weight.grad.numpy().T, dense.bias.grad.numpy())

    return step, gradient


def agreement(np, trainer, torch_gradient) -> float:
    """The largest relative difference between NN Studio's and PyTorch's loss and gradients
    on one batch at the same parameters."""
    xb = trainer.X[:BATCH].copy()
    yb = trainer.Y[:BATCH].copy()
    loss, grad = trainer.engine.gradient(xb, yb, "mse")
    t_loss, t_cw, t_cb, t_w, t_b = torch_gradient(xb, yb)
    cw, cb, w_pos, b_pos = engine_parts(np, trainer)
    ours = [np.array([loss]), grad[cw], grad[cb], grad[w_pos], grad[b_pos]]
    theirs = [np.array([t_loss]), t_cw, t_cb, t_w, t_b]
    return max(float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-300))
               for a, b in zip(ours, theirs, strict=True))


# ---------------------------------------------------------------------- main
def main(argv=None) -> int:
    args = parse_args(argv)
    limit_threads(args.threads)
    import numpy as np

    torch = optional_torch(args.no_torch, args.threads)
    print(f"# CNN throughput: conv {FILTERS} filters {KERNEL}x{KERNEL}, ReLU, {POOL}x{POOL} max "
          f"pool, dense to {CLASSES}; {N_IMAGES:,} images, batch {BATCH}, Adam lr {LR}, MSE, "
          f"float64, best of {args.rounds} runs of >= {args.seconds} s")
    print("# NN Studio side: Trainer.step on the compiled network (image input, convolution, "
          "pooling, flatten, dense outputs)")
    print(versions_line(np, torch, args.threads))

    rows = []
    for side in args.sizes:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((N_IMAGES, side * side))
        Y = rng.standard_normal((N_IMAGES, CLASSES))
        step, trainer = nnstudio_step(side, X, Y)
        runners = {"nnstudio": step}
        diff = None
        if torch is not None:
            t_step, t_gradient = torch_setup(torch, np, trainer, X, Y)
            diff = agreement(np, trainer, t_gradient)
            runners["torch"] = t_step
        best = dict.fromkeys(runners, 0.0)
        for _ in range(args.rounds):
            for key, fn in runners.items():
                best[key] = max(best[key], samples_per_second(fn, BATCH, args.seconds))
        rows.append({"side": side, "diff": diff, **best})
        print(f"#   {side}x{side}: " + ", ".join(f"{k} {v:,.0f}/s" for k, v in best.items())
              + ("" if diff is None else f"; loss and gradients agree with PyTorch to "
                 f"{diff:.1e} (largest relative difference)"), flush=True)

    print()
    head = ["input", "network", "NN Studio (samples/s)"]
    if torch is not None:
        head += ["PyTorch float64 (samples/s)", "NN Studio / PyTorch"]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for r in rows:
        s = r["side"]
        o = (s - KERNEL + 1) // POOL
        cells = [f"1x{s}x{s}", f"conv {FILTERS}x{KERNEL}x{KERNEL} → pool → {FILTERS * o * o} → "
                 f"{CLASSES}", f"{r['nnstudio']:,.0f}"]
        if torch is not None:
            cells += [f"{r['torch']:,.0f}", f"{r['nnstudio'] / r['torch']:.2f}×"]
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
