"""TensorFlow's start-up lines, kept off the terminal and available on request.

Importing TensorFlow writes lines such as `WARNING: All log messages before absl::InitializeLog()
is called are written to STDERR`, `I0000 ... cudart_stub.cc:31] Could not find cuda drivers`
and, at the first device query on a machine without a GPU, `E0000 ... failed call to cuInit`
straight to file descriptor 2, before Python's `logging` exists and whatever
`TF_CPP_MIN_LOG_LEVEL` says. `import zoo` imports TensorFlow through
`import_tensorflow_quietly`: those known start-up lines go to `STARTUP_LINES` (the `zoo` command
prints them with `zoo --verbose`), every other line TensorFlow writes then is passed through.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator

# Lines TensorFlow prints on every start on a machine without a GPU; nothing a user acts on.
STARTUP_NOISE = re.compile(
    r"absl::InitializeLog\(\)"
    r"|cudart_stub\.cc"
    r"|cuda_platform\.cc.*cuInit"
    r"|cpu_feature_guard\.cc"
    r"|^To enable the following instructions"
    r"|Unable to register cu(DNN|FFT|BLAS) factory"
    r"|TF-TRT Warning"
    r"|oneDNN custom operations are on"
)
STARTUP_LINES: list[str] = []


@contextlib.contextmanager
def _file_descriptor_2_captured() -> Iterator[list[str]]:
    """Points file descriptor 2 at a temporary file; yields the list its lines end up in."""
    lines: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines.extend(capture.read().decode("utf-8", "replace").splitlines())


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow (and queries its devices) with its known start-up lines held back.

    The held-back lines go to `STARTUP_LINES`; any other line written meanwhile is printed to
    standard error as usual, and everything is printed if the import fails. Does nothing when
    TensorFlow is already imported or when standard error is not a real file descriptor.

    Example:

    ```python
    import_tensorflow_quietly()
    print("\\n".join(STARTUP_LINES))  # what TensorFlow said while starting
    ```
    """
    if "tensorflow" in sys.modules:
        return
    try:
        sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # e.g. a captured stream in a notebook
        return
    error = None
    with _file_descriptor_2_captured() as lines:
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
        except BaseException as raised:  # replayed below with everything TensorFlow said
            error = raised
    if error is not None:
        sys.stderr.write("\n".join(lines) + "\n")
        raise error
    STARTUP_LINES.extend(line for line in lines if STARTUP_NOISE.search(line))
    kept = [line for line in lines if not STARTUP_NOISE.search(line)]
    if kept:
        sys.stderr.write("\n".join(kept) + "\n")
