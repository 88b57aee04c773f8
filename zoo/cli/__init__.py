"""The `zoo` command line: `zoo [--verbose] list | demo | train | tune | export | serve | data |
explain | federated | nas | experiments | rl`.

One module per command group: `models` (list), `demo`, `train`, `tune`, `serving` (export and
serve), `data`, `explain`, `federated`, `nas`, `experiments` and `rl`; each adds its
sub-commands with `add_commands(subparsers)` and sets a `handler(args) -> exit status`.
Argument values are checked by `zoo.cli.arguments`, argparse types built on
`layers.validation`.

User mistakes (an unknown model, a missing file, a bad value) print one `zoo: error: ...` line
and exit with status 2; anything else is a bug and shows its traceback. TensorFlow's own start-up
and C++ log lines are hidden unless `--verbose` comes before the command (`zoo --verbose list`).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence

from zoo.cli.logs import (
    VERBOSE_FLAG,
    print_startup_lines,
    quiet_tensorflow,
    wants_tensorflow_logs,
)
from zoo.extras import MissingExtraError

# `MissingExtraError`: a command that needs an optional extra which is not installed.
USER_ERRORS = (
    ValueError,
    FileNotFoundError,
    FileExistsError,
    NotADirectoryError,
    MissingExtraError,
)


def build_parser() -> argparse.ArgumentParser:
    """The `zoo` parser with every sub-command."""
    from zoo.cli import (
        data,
        demo,
        experiments,
        explain,
        federated,
        models,
        nas,
        rl,
        serving,
        train,
        tune,
    )

    parser = argparse.ArgumentParser(
        prog="zoo",
        description="keras-zoo: prebuilt Keras 3 models, training recipes and TF Serving tools.",
    )
    parser.add_argument(
        VERBOSE_FLAG,
        dest="tensorflow_logs",
        action="store_true",
        help="also show TensorFlow's own log lines (start-up, C++ and absl); give it before "
        "COMMAND. A command's own --verbose sets its progress output",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (
        models,
        demo,
        train,
        tune,
        serving,
        data,
        explain,
        federated,
        nas,
        experiments,
        rl,
    ):
        module.add_commands(commands)
    return parser


def _run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except USER_ERRORS as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        print(f"zoo: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("zoo: interrupted", file=sys.stderr)
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the `zoo` command line on `argv` (default: `sys.argv[1:]`); returns the exit status.

    Example:

    ```python
    from zoo.cli import main

    main(["train", "mlp_digits", "--epochs", "2"])
    ```
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    with contextlib.ExitStack() as stack:
        if wants_tensorflow_logs(argv):
            print_startup_lines()
        else:
            stack.enter_context(quiet_tensorflow())
        return _run(argv)
