"""The headless subcommands of ``nnstudio``: validate, train, gradients, trace.

    nnstudio validate FILE
    nnstudio train FILE [--epochs N] [--lr X] [--optimizer NAME] [--batch-size N] [--seed N]
                        [--save OUT] [--json]
    nnstudio gradients FILE [--json]
    nnstudio trace FILE [--sample K] [--format text|markdown]

Exit codes: 0 success; 1 training diverged (or an unexpected internal error); 2 bad input, a
file or an argument, reported as ONE line on stderr (never a traceback, never a usage dump).
This module never imports Qt.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np

from nnstudio.core import losses, optimizers
from nnstudio.core.datasets import DatasetError
from nnstudio.core.engine import Engine, EngineError
from nnstudio.core.network import NetworkError
from nnstudio.core.project import Project, ProjectError, load, save
from nnstudio.core.trainer import SettingsError, Trainer, split

PROG = "nnstudio"


class UsageError(Exception):
    """A bad command-line argument (exit code 2)."""


class InputError(Exception):
    """A bad input file (exit code 2); the message starts with the file name."""


def _load(path: str) -> Project:
    try:
        return load(path)
    except ProjectError as e:
        raise InputError(f"{path}: {e}") from None


class _Exit(Exception):
    def __init__(self, code: int):
        self.code = code


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing a usage dump and exiting."""

    def error(self, message: str):
        raise UsageError(message)

    def exit(self, status: int = 0, message: str | None = None):
        if message:
            sys.stderr.write(message)
        raise _Exit(status)


# ---------------------------------------------------------------------- argument types
def _whole(lo: int, what: str):
    def conv(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a whole number, not {text!r}")
        if v < lo:
            raise argparse.ArgumentTypeError(f"{what} must be at least {lo}, not {v}")
        return v
    conv.__name__ = what
    return conv


def _rate(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the learning rate must be a number, not {text!r}")
    if not math.isfinite(v) or not 0 < v <= 1e3:
        raise argparse.ArgumentTypeError(f"the learning rate must be in (0, 1000], not {text}")
    return v


def _optimizer(text: str) -> str:
    if text not in optimizers.INFO:
        raise argparse.ArgumentTypeError(
            f"unknown optimizer {text!r} (known: {', '.join(optimizers.NAMES)})")
    return text


def _sample(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the sample must be a row number, not {text!r}")
    if v < 0:
        raise argparse.ArgumentTypeError(f"the sample must be a row number >= 0, not {v}")
    return v


def make_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Build, train and understand small neural networks.",
                exit_on_error=False)
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    v = sub.add_parser("validate", help="check a project file and summarise it",
                       exit_on_error=False)
    v.add_argument("file", help="a .nnproj project file")
    v.set_defaults(func=cmd_validate)

    t = sub.add_parser("train", help="train a project with its settings (or overrides)",
                       exit_on_error=False)
    t.add_argument("file", help="a .nnproj project file")
    t.add_argument("--epochs", type=_whole(0, "epochs"), help="number of epochs")
    t.add_argument("--lr", type=_rate, help="learning rate")
    t.add_argument("--optimizer", type=_optimizer, help=", ".join(optimizers.NAMES))
    t.add_argument("--batch-size", type=_whole(0, "batch size"),
                   help="rows per step (0 = the whole dataset)")
    t.add_argument("--seed", type=_whole(0, "seed"), help="seed for shuffling and the split")
    t.add_argument("--save", metavar="OUT", help="write the trained project to OUT (atomic)")
    t.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    t.set_defaults(func=cmd_train)

    g = sub.add_parser("gradients", help="the loss and every parameter's gradient",
                       exit_on_error=False)
    g.add_argument("file", help="a .nnproj project file")
    g.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    g.set_defaults(func=cmd_gradients)

    w = sub.add_parser("trace", help="print the backprop walkthrough as a worksheet",
                       exit_on_error=False)
    w.add_argument("file", help="a .nnproj project file")
    w.add_argument("--sample", type=_sample, default=None,
                   help="row number (from 0); default: the whole dataset as one batch")
    w.add_argument("--format", choices=("text", "markdown"), default="text")
    w.set_defaults(func=cmd_trace)
    return p


# ---------------------------------------------------------------------- helpers
def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _finite_or_none(v: float) -> float | None:
    """JSON has no NaN or infinity: a diverged loss is written as null."""
    return float(v) if math.isfinite(v) else None


def _ordered_ids(proj: Project) -> list[str]:
    return proj.network.param_ids()


def _engine(proj: Project) -> Engine:
    eng = Engine.compile(proj.network)
    eng.check_data(proj.dataset.X, proj.dataset.Y)
    return eng


def _describe_param(proj: Project, pid: str) -> str:
    net = proj.network
    if pid in net.connections:
        c = net.connections[pid]
        return f"weight {net.neurons[c.source].label} → {net.neurons[c.target].label}"
    return f"bias of {net.neurons[pid].label}"


class _Progress:
    """A one-line progress bar on a terminal's stderr (nothing when it is not a terminal)."""

    def __init__(self, total: int, stream=None):
        self.stream = stream or sys.stderr
        self.total = max(total, 1)
        self.on = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = 0.0

    def update(self, epoch: int, loss: float, force: bool = False) -> None:
        if not self.on:
            return
        now = time.monotonic()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        frac = min(epoch / self.total, 1.0)
        width = 30
        fill = int(round(frac * width))
        bar = "█" * fill + "░" * (width - fill)
        self.stream.write(f"\r{bar} {frac:4.0%}  epoch {epoch}/{self.total}  loss {loss:.6g}  ")
        self.stream.flush()

    def close(self) -> None:
        if self.on:
            self.stream.write("\n")
            self.stream.flush()


# ---------------------------------------------------------------------- commands
def cmd_validate(args) -> int:
    proj = _load(args.file)
    eng = _engine(proj)
    net, ds, st = proj.network, proj.dataset, proj.settings
    n_hidden = len(net.by_role("hidden"))
    n_train = int(eng.trainable.sum())
    loss = eng.loss(ds.X, ds.Y, st.loss) if len(ds) else float("nan")
    kind = f", {len(ds.class_names)} classes" if ds.is_classification else ""
    print(f"{args.file}: OK: {proj.name!r}: {len(net.neurons)} neurons ({len(net.inputs)} input, "
          f"{n_hidden} hidden, {len(net.outputs)} output), {len(net.connections)} connections, "
          f"{eng.n_params} parameters ({n_train} trainable), {len(ds)} rows{kind}; "
          f"{st.loss} loss {loss:.6g}; {st.optimizer}, learning rate {st.learning_rate:g}, "
          f"{st.epochs} epochs")
    return 0


def cmd_train(args) -> int:
    proj = _load(args.file)
    changes = {k: v for k, v in (("epochs", args.epochs), ("learning_rate", args.lr),
                                 ("optimizer", args.optimizer), ("batch_size", args.batch_size),
                                 ("seed", args.seed)) if v is not None}
    try:
        settings = proj.settings.with_(**changes)
    except SettingsError as e:
        raise UsageError(str(e)) from None
    ds = proj.dataset
    X, Y, Xv, Yv = split(ds.X, ds.Y, settings.validation_split, settings.seed)
    trainer = Trainer(proj.network, X, Y, settings, X_val=Xv, Y_val=Yv)
    eng = trainer.engine
    initial = trainer.full_loss()
    losses_: list[float] = []
    val_losses: list[float] = []
    bar = _Progress(settings.epochs)
    bar.update(0, initial, force=True)
    t0 = time.perf_counter()
    last = None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        try:
            for snap in trainer.run("epoch"):
                last = snap
                if snap.diverged:
                    break
                losses_.append(snap.loss)
                if snap.val_loss is not None:
                    val_losses.append(snap.val_loss)
                bar.update(snap.epoch, snap.loss)
        finally:
            if last is not None and not last.diverged:
                bar.update(last.epoch, last.loss, force=True)
            bar.close()
        seconds = time.perf_counter() - t0
        diverged = last.diverged if last is not None else None
        final = losses_[-1] if losses_ else initial
        eng.store_params(proj.network, eng.params.copy())
        values = {pid: proj.network.get_param(pid) for pid in _ordered_ids(proj)}
        accuracy = None
        if ds.is_classification and len(ds):
            accuracy = ds.accuracy(eng.predict(ds.X))
    saved = None
    if args.save and not diverged:
        proj.settings = settings
        save(proj, args.save)
        saved = args.save
    if args.json:
        out = {
            "file": args.file,
            "loss_function": settings.loss,
            "optimizer": settings.optimizer,
            "learning_rate": settings.learning_rate,
            "batch_size": settings.batch_size,
            "seed": settings.seed,
            "epochs": settings.epochs,
            "epochs_completed": trainer.state.epoch,
            "steps": trainer.state.step,
            "initial_loss": _finite_or_none(initial),
            "final_loss": _finite_or_none(final),
            "losses": [_finite_or_none(v) for v in losses_],
            "params": values,
            "diverged": diverged,
            "seconds": seconds,
            "saved": saved,
        }
        if val_losses:
            out["val_losses"] = [_finite_or_none(v) for v in val_losses]
        if accuracy is not None:
            out["accuracy"] = accuracy
        print(json.dumps(out, allow_nan=False))
    else:
        acc = f", accuracy {accuracy:.1%}" if accuracy is not None else ""
        print(f"{settings.optimizer}, learning rate {settings.learning_rate:g}: {settings.loss} "
              f"loss {initial:.6g} → {final:.6g} after {trainer.state.epoch} epoch(s) "
              f"({trainer.state.step} steps, {seconds:.2f} s){acc}")
        if saved:
            print(f"saved the trained project to {saved}")
    if diverged:
        note = "; nothing was saved" if args.save else ""
        print(f"{PROG} train: training diverged: {_one_line(diverged)}{note}", file=sys.stderr)
        return 1
    return 0


def cmd_gradients(args) -> int:
    proj = _load(args.file)
    eng = _engine(proj)
    ds, st = proj.dataset, proj.settings
    if len(ds) == 0:
        raise UsageError("the dataset has no rows to compute gradients over")
    value, grad = eng.gradient(ds.X, ds.Y, st.loss)
    by_id = dict(zip(eng.param_ids, grad.tolist()))
    ids = _ordered_ids(proj)
    net = proj.network
    if args.json:
        print(json.dumps({
            "file": args.file,
            "loss_function": st.loss,
            "loss": value,
            "rows": len(ds),
            "gradients": {pid: by_id[pid] for pid in ids},
            "params": {pid: net.get_param(pid) for pid in ids},
            "trainable": {pid: bool(net.store.trainable[net.param_slot(pid)]) for pid in ids},
        }, allow_nan=False))
        return 0
    title = losses.LOSSES[st.loss].title
    print(f"{title} ({st.loss}) over all {len(ds)} row(s): {value:.10g}")
    rows = [(pid, _describe_param(proj, pid), f"{net.get_param(pid):.6g}",
             f"{by_id[pid]:.10g}", "" if net.store.trainable[net.param_slot(pid)] else "locked")
            for pid in ids]
    headers = ("id", "parameter", "value", "dL/dp", "")
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    print("  ".join("-" * w for w in widths[:-1]))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return 0


def cmd_trace(args) -> int:
    from nnstudio.core import trace  # written by the backprop engineer

    proj = _load(args.file)
    text = trace.worksheet(proj, args.sample, args.format)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


# ---------------------------------------------------------------------- entry
def run(argv: list[str]) -> int:
    """Run one subcommand; returns the exit code. Errors are one line on stderr."""
    name = argv[0] if argv else ""
    where = f"{PROG} {name}".strip()
    try:
        parser = make_parser()
        try:
            args = parser.parse_args(argv)
        except argparse.ArgumentError as e:
            raise UsageError(str(e)) from None
        return args.func(args)
    except _Exit as e:
        return e.code
    except UsageError as e:
        print(f"{where}: {_one_line(e)} (see '{where} --help')", file=sys.stderr)
        return 2
    except (InputError, ProjectError, EngineError, NetworkError, SettingsError, DatasetError,
            ValueError) as e:
        print(f"{where}: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{where}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # never a traceback: one line naming the error
        print(f"{where}: internal error: {type(e).__name__}: {_one_line(e)}", file=sys.stderr)
        return 1


__all__ = ["run", "make_parser", "UsageError"]
