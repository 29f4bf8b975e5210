"""The ``nnstudio`` command.

``nnstudio`` or ``nnstudio FILE`` opens the desktop app. The subcommands run headless:

    nnstudio validate FILE
    nnstudio train FILE [--epochs N] [--lr X] [--optimizer NAME] [--batch-size N] [--seed N]
                        [--save OUT] [--json]
    nnstudio gradients FILE [--json]
    nnstudio trace FILE [--sample K] [--format text|markdown]
    nnstudio check FILE... [--against LESSON] [--json]
    nnstudio export FILE --to pytorch|numpy|onnx -o OUT [--dtype float64|float32]
    nnstudio predict FILE [--csv IN] [--json]

FILE may also be an ONNX model (.onnx). Bad input, whether a file or an argument, exits with
code 2 and one line on stderr.
"""

from __future__ import annotations

import os
import sys

from nnstudio.headless import SUBCOMMANDS  # the names only: the subcommands load on use


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        from nnstudio.headless.runner import run  # headless: never imports Qt

        return run(argv)
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if argv and argv[0] in ("-V", "--version"):
        from nnstudio import __version__

        print(f"nnstudio {__version__}")
        return 0
    if len(argv) > 1:
        print(f"nnstudio: expected one project file or a subcommand "
              f"({', '.join(SUBCOMMANDS)}), got {' '.join(argv)!r}", file=sys.stderr)
        return 2
    if argv and not os.path.exists(argv[0]):
        print(f"nnstudio: {argv[0]!r} is neither a project file nor a subcommand "
              f"({', '.join(SUBCOMMANDS)})", file=sys.stderr)
        return 2
    problem = _display_problem()
    if problem:
        print(f"nnstudio: {problem}", file=sys.stderr)
        return 2
    from nnstudio.gui.app import run_app

    return run_app(argv[0] if argv else None)


def _display_problem() -> str | None:
    """Why the window cannot open here (no display on Linux), or None."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return ("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset); "
            f"the subcommands run without one: {', '.join(SUBCOMMANDS)}")
