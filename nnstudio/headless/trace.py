"""``nnstudio trace FILE``: the backprop walkthrough of one iteration as a worksheet, in plain
text or Markdown, for one sample (``--sample K``) or the whole dataset as one batch."""

from __future__ import annotations

import argparse
import sys

from .common import load_project, require_rows


def _sample(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"the sample must be a row number, not {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"the sample must be a row number >= 0, not {v}")
    return v


def add_parser(sub: argparse._SubParsersAction) -> None:
    w = sub.add_parser("trace", help="print the backprop walkthrough as a worksheet",
                       exit_on_error=False)
    w.add_argument("file", help="a .nnproj project file")
    w.add_argument("--sample", type=_sample, default=None,
                   help="row number (from 0); default: the whole dataset as one batch")
    w.add_argument("--format", choices=("text", "markdown"), default="text")


def run(args: argparse.Namespace) -> int:
    from nnstudio.core import trace  # on use: the other subcommands need not load it

    proj = load_project(args.file)
    require_rows(proj, args.file, "trace")
    text = trace.worksheet(proj, args.sample, args.format)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
