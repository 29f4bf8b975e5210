"""The headless subcommands of ``nnstudio``: one module per subcommand, never importing Qt.

    nnstudio validate FILE
    nnstudio train FILE [--epochs N] [--lr X] [--optimizer NAME] [--batch-size N] [--seed N]
                        [--min-step TOL] [--save OUT] [--json]
    nnstudio gradients FILE [--json]
    nnstudio trace FILE [--sample K] [--format text|markdown]
    nnstudio check FILE... [--against LESSON] [--json]
    nnstudio export FILE --to pytorch|numpy|onnx -o OUT [--dtype float64|float32]
    nnstudio predict FILE [--csv IN] [--json]

A project FILE is a ``.nnproj`` file or an ONNX model (``.onnx``, opened as an untitled project
with an empty dataset; see :func:`.common.load_project`).

Each subcommand is the module of its name here (:mod:`.validate`, :mod:`.train`,
:mod:`.gradients`, :mod:`.trace`, :mod:`.check`, :mod:`.export`, :mod:`.predict`), with
``add_parser(subparsers)`` and ``run(args) -> int``; :mod:`.runner` builds the parser from them
and runs one, and :mod:`.common` holds what they share. To add a subcommand: write its module
and add its name to :data:`SUBCOMMANDS`.

Exit codes: 0 success; 1 training diverged, or a goal that ``check`` grades is not met (or an
unexpected internal error); 2 bad input, a file or an argument, reported as ONE line on stderr
(never a traceback, never a usage dump). ``check`` grades the other projects after one that
does not load, and still exits 2. The checks of a value belong to the core (a training setting
is checked by ``TrainSettings.validate``); a subcommand only turns text into numbers and reports
the core's message.
"""

#: every subcommand, in the order ``nnstudio --help`` lists them; each is the module of that name
SUBCOMMANDS = ("validate", "train", "gradients", "trace", "check", "export", "predict")
