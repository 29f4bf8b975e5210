"""``nnstudio train FILE``: train a project with its settings, or with overrides, headless.

Overrides (``--epochs``, ``--lr``, ``--optimizer``, ``--batch-size``, ``--seed``,
``--regularization``, ``--regularization-rate``, ``--min-step``) replace the project's settings
and are checked by ``TrainSettings.validate``, whose message a bad one reports; a run that
stops early at the minimum step says so. ``--json`` prints one JSON object (initial and final
loss, the loss after each completed epoch, the final penalty, every parameter by id, and why
training stopped early, if it did): ``epochs_completed`` is the number of epochs whose updates
are kept, ``losses`` has one entry per completed epoch, and ``final_loss`` is the loss at the
kept parameters. ``--save OUT`` writes the trained project atomically, unless training
diverged (exit code 1, and nothing is saved). On a terminal a progress bar runs on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TextIO

import numpy as np

from nnstudio.core import optimizers, regularization
from nnstudio.core.project import save
from nnstudio.core.trainer import SettingsError, Snapshot, Trainer, split

from .common import (
    PROG,
    UsageError,
    finite_or_none,
    load_project,
    number_or_text,
    one_line,
    require_rows,
    whole_or_text,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser("train", help="train a project with its settings (or overrides)",
                       exit_on_error=False)
    t.add_argument("file", help="a .nnproj project file")
    t.add_argument("--epochs", type=whole_or_text, help="number of epochs")
    t.add_argument("--lr", type=number_or_text, help="learning rate")
    t.add_argument("--optimizer", help=", ".join(optimizers.NAMES))
    t.add_argument("--batch-size", type=whole_or_text,
                   help="rows per step (0 = the whole dataset)")
    t.add_argument("--seed", type=whole_or_text, help="seed for shuffling and the split")
    t.add_argument("--regularization", metavar="KIND",
                   help=f"penalty on the weights: {', '.join(regularization.NAMES)}")
    t.add_argument("--regularization-rate", metavar="RATE", type=number_or_text,
                   help="the penalty's rate lambda (l1: lambda * sum |w|, l2: lambda * sum w^2)")
    t.add_argument("--min-step", type=number_or_text, metavar="TOL",
                   help="stop once an update changes no parameter by TOL or more (0: off)")
    t.add_argument("--save", metavar="OUT", help="write the trained project to OUT (atomic)")
    t.add_argument("--json", action="store_true", help="print one JSON object on stdout")


class Progress:
    """A one-line progress bar on a terminal's stderr (nothing when it is not a terminal)."""

    def __init__(self, total: int, stream: TextIO | None = None):
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


def run(args: argparse.Namespace) -> int:
    proj = load_project(args.file)
    require_rows(proj, args.file)
    changes = {k: v for k, v in (("epochs", args.epochs), ("learning_rate", args.lr),
                                 ("optimizer", args.optimizer), ("batch_size", args.batch_size),
                                 ("seed", args.seed), ("regularization", args.regularization),
                                 ("regularization_rate", args.regularization_rate),
                                 ("min_step", args.min_step))
               if v is not None}
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
    bar = Progress(settings.epochs)
    bar.update(0, initial, force=True)
    t0 = time.perf_counter()
    last: Snapshot | None = None
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
        converged = last.converged if last is not None else None
        # one epoch count: the epochs whose updates are kept (a diverged run undid its last)
        epochs_done = trainer.state.epoch
        del losses_[epochs_done:], val_losses[epochs_done:]
        final = trainer.full_loss()  # at the kept parameters: what --save would write
        eng.store_params(proj.network, eng.params.copy())
        values = {pid: proj.network.get_param(pid) for pid in proj.network.param_ids()}
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
            "regularization": settings.regularization,
            "regularization_rate": settings.regularization_rate,
            "final_penalty": finite_or_none(eng.penalty(settings.penalty)),
            "epochs_completed": epochs_done,
            "steps": trainer.state.step,
            "initial_loss": finite_or_none(initial),
            "final_loss": finite_or_none(final),
            "losses": [finite_or_none(v) for v in losses_],
            "params": values,
            "diverged": diverged,
            "converged": converged,
            "seconds": seconds,
            "saved": saved,
        }
        if val_losses:
            out["val_losses"] = [finite_or_none(v) for v in val_losses]
        if accuracy is not None:
            out["accuracy"] = accuracy
        print(json.dumps(out, allow_nan=False))
    else:
        acc = f", accuracy {accuracy:.1%}" if accuracy is not None else ""
        pen = settings.penalty
        reg = (f", {pen.info.title} penalty {eng.penalty(pen):.6g} (rate {pen.rate:g})"
               if pen is not None else "")
        print(f"{settings.optimizer}, learning rate {settings.learning_rate:g}: {settings.loss} "
              f"loss {initial:.6g} → {final:.6g} after {epochs_done} epoch(s) "
              f"({trainer.state.step} steps, {seconds:.2f} s){acc}{reg}")
        if converged:
            print(f"stopped early: {converged}")
        if saved:
            print(f"saved the trained project to {saved}")
    if diverged:
        note = "; nothing was saved" if args.save else ""
        print(f"{PROG} train: training diverged: {one_line(diverged)}{note}", file=sys.stderr)
        return 1
    return 0
