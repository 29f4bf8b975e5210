"""What the throughput benchmarks share: thread limits, the optional PyTorch yardstick, the
timed run and the line that says what ran.

Import it from a script in this folder (``python benchmarks/x.py`` puts the folder on the
path). Call :func:`limit_threads` before anything imports NumPy: BLAS reads its thread count
once, when it loads. PyTorch is never a dependency: :func:`optional_torch` returns None (and
says so on stderr) when it is missing.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from types import ModuleType

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def limit_threads(n: int) -> None:
    """Limit BLAS (and PyTorch's OpenMP) to ``n`` threads; 0 keeps the libraries' default.
    Must run before NumPy is imported."""
    if n:
        if "numpy" in sys.modules:
            raise RuntimeError("limit_threads() must run before NumPy is imported")
        for var in THREAD_VARIABLES:
            os.environ[var] = str(n)


def optional_torch(skip: bool, threads: int) -> ModuleType | None:
    """PyTorch limited to ``threads`` (0: its default), or None when ``skip`` is set or it is
    not installed."""
    if skip:
        return None
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: timing NN Studio only "
              "(pip install torch==2.13.0 to compare)", file=sys.stderr)
        return None
    if threads:
        torch.set_num_threads(threads)
    return torch


def versions_line(np: ModuleType, torch: ModuleType | None, threads: int) -> str:
    """'# python …, numpy …, torch … (n threads), BLAS threads …' plus any OpenBLAS tuning
    variables the machine sets (they change the figures)."""
    return (f"# python {sys.version.split()[0]}, numpy {np.__version__}"
            + (f", torch {torch.__version__} ({torch.get_num_threads()} threads)" if torch
               else "")
            + f", BLAS threads {threads or 'default'}"
            + "".join(f", {v}={os.environ[v]}" for v in OPENBLAS_VARIABLES if v in os.environ))


def samples_per_second(step: Callable[[], object], batch: int, seconds: float) -> float:
    """Samples per second of ``step`` (one batch of ``batch`` samples per call) over a run of
    at least ``seconds``, after two warm-up calls (buffers, BLAS threads)."""
    step()
    step()
    n = 0
    t0 = time.perf_counter()
    while True:
        for _ in range(8):
            step()
        n += 8
        dt = time.perf_counter() - t0
        if dt >= seconds:
            return n * batch / dt


def torch_training_step(torch: ModuleType, model: object, loss_fn: object, opt: object,
                        X: object, Y: object, batch: int) -> Callable[[], object]:
    """One PyTorch training step per call, as NN Studio's trainer takes them: a seeded
    shuffle of the rows every epoch, the next mini-batch of ``batch`` rows, ``zero_grad``,
    forward, loss, backward, ``opt.step()``. Returns the step function (it returns the loss)."""
    n = X.shape[0]
    gen = torch.Generator().manual_seed(0)
    state = {"order": None, "k": 0}
    per_epoch = -(-n // batch)

    def step():
        if state["k"] == 0:
            state["order"] = torch.randperm(n, generator=gen)
        idx = state["order"][state["k"] * batch:(state["k"] + 1) * batch]
        state["k"] = (state["k"] + 1) % per_epoch
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(X[idx]), Y[idx])
        loss.backward()
        opt.step()
        return loss

    return step
