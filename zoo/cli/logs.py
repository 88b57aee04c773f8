"""Keeps TensorFlow's own log lines out of the `zoo` commands' output.

TensorFlow's start-up lines are held back when `import zoo` imports it
(`zoo.tensorflow_logs`); while a command runs, `TF_CPP_MIN_LOG_LEVEL=3` (inherited by the
processes it starts, such as the local model server) and the `tensorflow` and `absl` Python
loggers kept to errors keep the rest out. `zoo --verbose COMMAND` prints the start-up lines and
leaves TensorFlow's logging as it is.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence

from zoo.tensorflow_logs import STARTUP_LINES

QUIET_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3"}
QUIET_LOGGERS = ("tensorflow", "absl")
VERBOSE_FLAG = "--verbose"


def wants_tensorflow_logs(argv: Sequence[str]) -> bool:
    """Whether `argv` asks for TensorFlow's logs: `--verbose` before the command name.

    `zoo --verbose train ...` is the global flag; `zoo train --verbose 0` is `train`'s own fit
    progress option and does not count.
    """
    for token in argv:
        if token == VERBOSE_FLAG:
            return True
        if not token.startswith("-"):
            return False
    return False


def print_startup_lines() -> None:
    """Prints what TensorFlow said while `import zoo` imported it."""
    if STARTUP_LINES:
        print("\n".join(STARTUP_LINES), file=sys.stderr)


@contextlib.contextmanager
def quiet_tensorflow() -> Iterator[None]:
    """Runs the block with TensorFlow's log lines hidden; restores the settings after it.

    Example:

    ```python
    with quiet_tensorflow():
        run_the_command()
    ```
    """
    saved_environment = {name: os.environ.get(name) for name in QUIET_ENVIRONMENT}
    saved_levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    os.environ.update(QUIET_ENVIRONMENT)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        yield
    finally:
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)
        for name, value in saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
