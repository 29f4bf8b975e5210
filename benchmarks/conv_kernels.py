"""Ways to compute a convolution and max pooling in NumPy, timed at the CNN benchmark's sizes.

This is how ``nnstudio/core/conv.py`` chose its kernels: every variant below computes the same
numbers (the script checks that), and the table says how long each takes for one mini-batch of
64 images, one channel, 8 filters 3 x 3 (``cnn_throughput.py``'s networks), and for a deeper
layer with 8 input channels. ``nnstudio`` rows are the module's own kernels.

    python benchmarks/conv_kernels.py [--threads N] [--repeats R]

Convolution forward (z of the whole batch):
  im2col + matmul     every receptive field copied once into a column matrix, one batched
                      matrix product (the bias as a row of ones): what nnstudio does
  as_strided + matmul the same with the window view made by ``as_strided`` by hand
  im2col + 2-D matmul the columns as one (C·k·k, N·positions) matrix: one plain matrix product,
                      z comes out filter-major (F, N, H, W) and needs a transposed copy
  einsum on windows   ``einsum('nchwij,fcij->nfhw')`` over the window view (no explicit copy)
  tensordot           ``tensordot`` over the window view (NumPy copies internally)
  loop over offsets   one ``einsum`` per kernel offset (k·k of them), accumulated
Convolution backward (dL/dW and dL/db; dL/dx for the deeper layer):
  batched matmul      per-sample products summed over the batch: nnstudio's dL/dW
  tensordot           one contraction over samples and positions
  col2im by offsets   dL/dcolumns by one product, added back per kernel offset: nnstudio's dL/dx
  full convolution    dL/dx as a 'full' convolution of dL/dz with the flipped kernels
Max pooling 2 x 2 (forward with the winners, then backward):
  blocks + offsets    the windows copied into one block per offset, maxima across the
                      blocks, ties to the first in reading order; backward one write per
                      offset: nnstudio
  strided views       maxima straight from the strided views (no copy)
  argmax              windows reshaped to a last axis of 4 and ``argmax`` (first maximum wins)
"""

from __future__ import annotations

import argparse
import sys
import time

from harness import limit_threads

SHAPES = {  # name: (batch, channels, side, filters, kernel)
    "1x12x12, 8 filters": (64, 1, 12, 8, 3),
    "1x28x28, 8 filters": (64, 1, 28, 8, 3),
    "8x10x10, 16 filters": (64, 8, 10, 16, 3),
}


def variants(np, n: int, c: int, side: int, f: int, k: int) -> dict:
    """Every variant for one layer shape, as name -> function; each is checked against the
    module's own result first."""
    from numpy.lib.stride_tricks import as_strided, sliding_window_view

    from nnstudio.core.conv import Conv2D, Pool2D

    rng = np.random.default_rng(0)
    layer = Conv2D((c, side, side), f, k)
    oh = ow = layer.out_height
    x = rng.standard_normal((n, c, side, side))
    w = rng.standard_normal((f, c, k, k))
    b = rng.standard_normal(f)
    params = layer.pack(w, b)
    state = layer.state(n)
    z_ref, _ = layer.forward(x, params, state)
    z_ref = z_ref.copy()
    w2 = w.reshape(f, -1)

    cols = np.empty((n, c * k * k + 1, oh * ow))  # reused from call to call, as nnstudio's
    cols[:, -1] = 1.0
    z_out = np.empty((n, f, oh * ow))

    def as_strided_matmul():
        s0, s1, s2, s3 = x.strides
        win = as_strided(x, (n, c, k, k, oh, ow), (s0, s1, s2, s3, s2, s3), writeable=False)
        cols[:, :-1].reshape(n, c, k, k, oh, ow)[...] = win
        return np.matmul(params, cols, out=z_out).reshape(n, f, oh, ow)

    def im2col_2d():
        win = sliding_window_view(x, (k, k), axis=(2, 3))
        cols = win.transpose(1, 4, 5, 0, 2, 3).reshape(c * k * k, n * oh * ow)
        z = w2 @ cols
        z += b[:, None]
        return np.ascontiguousarray(z.reshape(f, n, oh, ow).transpose(1, 0, 2, 3))

    def einsum_windows():
        win = sliding_window_view(x, (k, k), axis=(2, 3))
        return np.einsum("nchwij,fcij->nfhw", win, w, optimize=True) + b[None, :, None, None]

    def tensordot():
        win = sliding_window_view(x, (k, k), axis=(2, 3))
        z = np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3]))
        z += b
        return z.transpose(0, 3, 1, 2)

    def offsets():
        z = np.empty((n, f, oh, ow))
        z[...] = b[None, :, None, None]
        for i in range(k):
            for j in range(k):
                z += np.einsum("fc,nchw->nfhw", w[:, :, i, j], x[:, :, i:i + oh, j:j + ow])
        return z

    row = {"forward: nnstudio (im2col + matmul)": lambda: layer.forward(x, params, state)}
    for name, fn in (("forward: as_strided + matmul", as_strided_matmul),
                     ("forward: im2col + 2-D matmul", im2col_2d),
                     ("forward: einsum on windows", einsum_windows),
                     ("forward: tensordot", tensordot),
                     ("forward: loop over offsets", offsets)):
        assert np.allclose(fn(), z_ref, rtol=1e-12, atol=1e-12), name
        row[name] = fn

    dz = rng.standard_normal(z_ref.shape)
    grad = np.empty(layer.param_shape)
    layer.forward(x, params, state)
    _, g_ref = layer.backward(dz, params, state, grad=grad, input_grad=False)
    g_ref = g_ref.copy()

    def dw_tensordot():
        return np.tensordot(dz.reshape(n, f, -1), state.cols, axes=([0, 2], [0, 2]))

    assert np.allclose(dw_tensordot(), g_ref, rtol=1e-12, atol=1e-12)
    row["dW, db: nnstudio (batched matmul)"] = \
        lambda: layer.backward(dz, params, state, grad=grad, input_grad=False)
    row["dW, db: tensordot"] = dw_tensordot
    if c > 1:
        dx_ref = layer.backward(dz, params, state)[0].copy()

        def dx_full():
            dzp = np.pad(dz, ((0, 0), (0, 0), (k - 1, k - 1), (k - 1, k - 1)))
            win = sliding_window_view(dzp, (k, k), axis=(2, 3))
            flipped = w[:, :, ::-1, ::-1]
            return np.einsum("nfhwij,fcij->nchw", win, flipped, optimize=True)

        assert np.allclose(dx_full(), dx_ref, rtol=1e-12, atol=1e-12)
        row["dx: nnstudio (col2im by offsets)"] = lambda: layer.backward(dz, params, state)
        row["dx: full convolution"] = dx_full

    # max pooling of the (ReLU'd) feature maps, 2 x 2
    pool = Pool2D(layer.out_shape, 2)
    a = np.maximum(z_ref, 0.0)
    ps = pool.state(n)
    po = pool.out_height
    dy = rng.standard_normal((n, f, po, po))
    y_ref, _ = pool.forward(a, ps)
    y_ref = y_ref.copy()
    dx_ref = pool.backward(dy, ps).copy()

    def pool_views():
        views = [a[:, :, i::2, j::2] for i in range(2) for j in range(2)]
        y = np.maximum(np.maximum(views[0], views[1]), np.maximum(views[2], views[3]))
        won = [np.equal(v, y) for v in views]
        taken = won[0].copy()
        for m in won[1:]:
            m &= ~taken
            taken |= m
        dx = np.empty_like(a)
        for (i, j), m in zip(((0, 0), (0, 1), (1, 0), (1, 1)), won, strict=True):
            dx[:, :, i::2, j::2] = m * dy
        return y, dx

    def pool_argmax():
        v = a.reshape(n, f, po, 2, po, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, f, po, po, 4)
        idx = v.argmax(-1)
        y = np.take_along_axis(v, idx[..., None], -1)[..., 0]
        d = np.zeros((n, f, po, po, 4))
        np.put_along_axis(d, idx[..., None], dy[..., None], -1)
        return y, d.reshape(n, f, po, po, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(a.shape)

    for fn in (pool_views, pool_argmax):
        y, dx = fn()
        assert np.array_equal(y, y_ref) and np.array_equal(dx, dx_ref)

    def pool_nnstudio():
        pool.forward(a, ps)
        pool.backward(dy, ps)

    row["max pool: nnstudio (blocks + offsets)"] = pool_nnstudio
    row["max pool: strided views"] = pool_views
    row["max pool: argmax"] = pool_argmax
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (0: library default)")
    p.add_argument("--repeats", type=int, default=200, help="calls per timing (best of 5)")
    args = p.parse_args(argv)
    limit_threads(args.threads)
    import numpy as np

    def best_us(fn) -> float:
        fn()
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(args.repeats):
                fn()
            times.append((time.perf_counter() - t0) / args.repeats)
        return min(times) * 1e6

    print(f"# convolution and pooling variants, float64, microseconds per batch (best of 5 x "
          f"{args.repeats}); numpy {np.__version__}, BLAS threads {args.threads or 'default'}")
    results: dict[str, dict[str, float]] = {}
    for shape_name, shape in SHAPES.items():
        row = variants(np, *shape)
        results[shape_name] = {name: best_us(fn) for name, fn in row.items()}
        print(f"#   {shape_name} done", flush=True)

    names = list(dict.fromkeys(name for r in results.values() for name in r))
    print()
    print("| variant | " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))
    for name in names:
        cells = [f"{results[s][name]:,.0f}" if name in results[s] else "" for s in results]
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
