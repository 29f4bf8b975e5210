"""Training throughput of a small convolutional network, in samples per second, against PyTorch.

The network: one-channel square images, a convolution of 8 filters 3 x 3 ('valid', stride 1),
ReLU, 2 x 2 max pooling, flatten, a dense layer to 10 identity outputs; MSE loss against random
targets, Adam (lr 1e-3), mini-batches of 64 drawn from 5,000 random images, float64. One
training step is: gather the next shuffled mini-batch, forward, loss, backward, Adam update, and
the trainer's checks that the loss and the gradient are finite.

    python benchmarks/cnn_throughput.py [--sizes 12,28] [--seconds S] [--rounds R]
        [--threads N] [--no-torch]

NN Studio side: until the engine compiles image layers, the step is built here from the
kernels of ``nnstudio.core.conv`` (convolution, max pooling, flatten), a NumPy dense head, the
core's MSE loss and the core's Adam over one flat parameter vector, which is how the engine
lays its parameters out. :func:`kernels_step` is that step; its docstring says how to time the
engine's ``Trainer.step`` instead once the engine compiles image layers.

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
from collections.abc import Callable

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
        if not 4 <= s <= 256 or (s - KERNEL + 1) % POOL:
            p.error(f"image side {s}: must be 4 to 256 with {s} - {KERNEL - 1} even "
                    "(the 2 x 2 pooling must tile the feature maps)")
    return args


# ---------------------------------------------------------------------- NN Studio
class KernelsCNN:
    """The benchmark network built from NN Studio's image kernels and a NumPy dense head.

    All parameters live in one flat vector, as in the engine: the convolution's packed
    (filters, 3·3 + 1) matrix, then the dense weights (inputs, outputs) and biases, each a view.
    """

    def __init__(self, side: int, X, Y, seed: int = 0):
        import numpy as np

        from nnstudio.core import losses, optimizers
        from nnstudio.core.conv import Conv2D, Flatten, Pool2D

        self.np = np
        self.conv = Conv2D((1, side, side), FILTERS, KERNEL, name="conv")
        self.pool = Pool2D(self.conv.out_shape, POOL, name="pool")
        self.flat = Flatten(self.pool.out_shape)
        d = self.flat.size
        nc = self.conv.n_params
        self.params = np.empty(nc + d * CLASSES + CLASSES)
        self.grad = np.empty_like(self.params)
        self.trainable = np.ones(self.params.size, dtype=bool)
        views = self._views(self.params)
        self.conv_p, self.dense_w, self.dense_b = views
        self.g_conv, self.g_w, self.g_b = self._views(self.grad)
        rng = np.random.default_rng(seed)
        lim_c = 1.0 / math.sqrt(self.conv.fan_in)    # PyTorch's default initialisation
        lim_d = 1.0 / math.sqrt(d)
        self.conv_p[:] = rng.uniform(-lim_c, lim_c, self.conv_p.shape)
        self.dense_w[:] = rng.uniform(-lim_d, lim_d, self.dense_w.shape)
        self.dense_b[:] = rng.uniform(-lim_d, lim_d, self.dense_b.shape)
        self.loss = losses.get("mse")
        self.opt = optimizers.make("adam", LR)
        self.X = np.ascontiguousarray(X).reshape(X.shape[0], 1, side, side)
        self.Y = np.ascontiguousarray(Y)
        self.rng = np.random.default_rng(seed)
        self.order = None
        self.k = 0
        self.n_batches = -(-self.X.shape[0] // BATCH)
        self.xb = np.empty((BATCH, 1, side, side))
        self.yb = np.empty((BATCH, CLASSES))
        self.cs = self.conv.state(BATCH)
        self.ps = self.pool.state(BATCH)
        self.a = np.empty(self.cs.z.shape)
        self.out = np.empty((BATCH, CLASSES))

    def _views(self, vec):
        nc, d = self.conv.n_params, self.flat.size
        return (vec[:nc].reshape(self.conv.param_shape),
                vec[nc:nc + d * CLASSES].reshape(d, CLASSES), vec[nc + d * CLASSES:])

    def next_batch(self):
        np = self.np
        if self.k == 0:
            self.order = self.rng.permutation(self.X.shape[0])
        idx = self.order[self.k * BATCH:(self.k + 1) * BATCH]
        self.k = (self.k + 1) % self.n_batches
        if idx.size != BATCH:
            return self.X[idx], self.Y[idx]
        return (np.take(self.X, idx, axis=0, out=self.xb, mode="clip"),
                np.take(self.Y, idx, axis=0, out=self.yb, mode="clip"))

    def gradient(self, xb, yb) -> float:
        """Forward and backward over one batch; fills ``self.grad``, returns the loss."""
        np = self.np
        full = xb.shape[0] == BATCH
        z, cs = self.conv.forward(xb, self.conv_p, self.cs if full else None)
        a = np.maximum(z, 0.0, out=self.a if full else None)
        y, ps = self.pool.forward(a, self.ps if full else None)
        f = self.flat.forward(y)
        out = np.matmul(f, self.dense_w, out=self.out if full else None)
        out += self.dense_b
        loss = self.loss.value(out, yb)
        dout = self.loss.grad(out, yb)
        np.matmul(f.T, dout, out=self.g_w)
        np.sum(dout, axis=0, out=self.g_b)
        dy = self.flat.backward(dout @ self.dense_w.T)
        da = self.pool.backward(dy, ps)
        np.multiply(da, z > 0.0, out=da)
        self.conv.backward(da, self.conv_p, cs, grad=self.g_conv, input_grad=False)
        return loss

    def step(self) -> float:
        xb, yb = self.next_batch()
        loss = self.gradient(xb, yb)
        if not math.isfinite(loss) or not math.isfinite(self.grad.sum()):
            raise FloatingPointError("the benchmark diverged")
        self.opt.step(self.params, self.grad, self.trainable)
        return loss


def kernels_step(side: int, X, Y) -> tuple[Callable[[], float], KernelsCNN]:
    """NN Studio's training step from its image kernels (see the module docstring).

    To time the engine instead, once it compiles image layers: build the same network
    (image input 1 x side x side, convolution 8 x 3 x 3 with ReLU, 2 x 2 max pooling, flatten,
    dense to 10) and return ``Trainer(net, X, Y, TrainSettings(loss="mse", optimizer="adam",
    learning_rate=LR, batch_size=BATCH, epochs=1)).step`` as engine_throughput.py does; the
    PyTorch twin and the agreement check need the initial parameters, taken from the engine's
    parameter vector in the same layout."""
    model = KernelsCNN(side, X, Y)
    return model.step, model


# ---------------------------------------------------------------------- PyTorch
def torch_setup(torch, model: KernelsCNN, X, Y):
    """A PyTorch twin of the network with the same initial parameters: (step, gradient)."""
    side = model.conv.in_shape[1]
    d = model.flat.size
    dtype = torch.float64
    conv = torch.nn.Conv2d(1, FILTERS, KERNEL, dtype=dtype)
    dense = torch.nn.Linear(d, CLASSES, dtype=dtype)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(model.conv.weights(model.conv_p).copy()))
        conv.bias.copy_(torch.from_numpy(model.conv.biases(model.conv_p).copy()))
        dense.weight.copy_(torch.from_numpy(model.dense_w.T.copy()))
        dense.bias.copy_(torch.from_numpy(model.dense_b.copy()))
    net = torch.nn.Sequential(conv, torch.nn.ReLU(), torch.nn.MaxPool2d(POOL),
                              torch.nn.Flatten(), dense)
    Xt = torch.from_numpy(X.reshape(-1, 1, side, side).copy())
    Yt = torch.from_numpy(Y.copy())
    loss_fn = torch.nn.MSELoss()
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    step = torch_training_step(torch, net, loss_fn, opt, Xt, Yt, BATCH)

    def gradient(xb, yb):
        """(loss, conv weight, conv bias, dense weight, dense bias gradients) of one batch."""
        net.zero_grad(set_to_none=True)
        loss = loss_fn(net(torch.from_numpy(xb)), torch.from_numpy(yb))
        loss.backward()
        return (loss.item(), conv.weight.grad.numpy(), conv.bias.grad.numpy(),
                dense.weight.grad.numpy().T, dense.bias.grad.numpy())

    return step, gradient


def agreement(np, model: KernelsCNN, torch_gradient) -> float:
    """The largest relative difference between NN Studio's and PyTorch's loss and gradients
    on one batch at the same parameters."""
    xb = model.X[:BATCH].copy()
    yb = model.Y[:BATCH].copy()
    loss = model.gradient(xb, yb)
    t_loss, t_cw, t_cb, t_w, t_b = torch_gradient(xb, yb)
    ours = [np.array([loss]), model.conv.weights(model.g_conv), model.conv.biases(model.g_conv),
            model.g_w, model.g_b]
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
    print("# NN Studio side: the image kernels of nnstudio.core.conv + a NumPy dense head + the "
          "core's Adam (the engine does not compile image layers yet)")
    print(versions_line(np, torch, args.threads))

    rows = []
    for side in args.sizes:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((N_IMAGES, side * side))
        Y = rng.standard_normal((N_IMAGES, CLASSES))
        step, model = kernels_step(side, X, Y)
        runners = {"nnstudio": step}
        diff = None
        if torch is not None:
            t_step, t_gradient = torch_setup(torch, model, X, Y)
            diff = agreement(np, model, t_gradient)
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
