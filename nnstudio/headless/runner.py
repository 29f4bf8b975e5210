"""Running one headless subcommand: the parser built from every subcommand module, and
:func:`run`, which turns every failure into an exit code and one line on stderr."""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType
from typing import NoReturn

import numpy as np

from . import SUBCOMMANDS
from .common import PROG, InputError, UsageError, one_line


class _Exit(Exception):
    def __init__(self, code: int):
        self.code = code


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing a usage dump and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            sys.stderr.write(message)
        raise _Exit(status)


def subcommand(name: str) -> ModuleType:
    """The module of subcommand ``name`` (one of :data:`SUBCOMMANDS`)."""
    return importlib.import_module(f"{__package__}.{name}")


def make_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Build, train and understand small neural networks.",
                exit_on_error=False)
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in SUBCOMMANDS:
        subcommand(name).add_parser(sub)
    return p


def run(argv: list[str]) -> int:
    """Run one subcommand; returns the exit code. Errors are one line on stderr."""
    name = argv[0] if argv else ""
    where = f"{PROG} {name}".strip()
    args: argparse.Namespace | None = None
    try:
        parser = make_parser()
        try:
            args = parser.parse_args(argv)
        except argparse.ArgumentError as e:
            raise UsageError(str(e)) from None
        # every overflow becomes the subcommand's own message or nothing: never a NumPy
        # warning on stderr (the subcommands check what they compute)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            code: int = subcommand(args.command).run(args)
        return code
    except _Exit as e:
        return e.code
    except UsageError as e:
        print(f"{where}: {one_line(e)} (see '{where} --help')", file=sys.stderr)
        return 2
    except InputError as e:  # the message names the file
        print(f"{where}: {one_line(e)}", file=sys.stderr)
        return 2
    except ValueError as e:  # every core error (ProjectError, ...): about the file named
        file = getattr(args, "file", None)
        named = f"{file}: " if isinstance(file, str) and not str(e).startswith(file) else ""
        print(f"{where}: {named}{one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{where}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # never a traceback: one line naming the error
        print(f"{where}: internal error: {type(e).__name__}: {one_line(e)}", file=sys.stderr)
        return 1
