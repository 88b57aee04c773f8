"""`python -m serving BASE_DIR [--port P] [--grpc-port G] ...`: the local model server's process.

This is the process `serving.local_server` starts (its `extra_args` are these options); people
run `zoo serve`, whose options are the same. Each option is a keyword argument of
`serving.server.serve`, which checks the values.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from serving.server.app import (  # noqa: E402
    DEFAULT_GRACE_PERIOD,
    DEFAULT_MAX_PENDING_REQUESTS,
    DEFAULT_MAX_REQUEST_BYTES,
    serve,
)


def main(argv: list[str] | None = None) -> int:
    """Serves until SIGINT/SIGTERM; a bad option or value prints one `error:` line, status 2."""
    parser = argparse.ArgumentParser(prog="python -m serving", description=__doc__)
    parser.add_argument("base_dir", metavar="BASE_DIR")
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--grpc-port", type=int, default=None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--poll-interval", type=float, default=1.0)
    parser.add_argument("--max-request-bytes", type=int, default=DEFAULT_MAX_REQUEST_BYTES)
    parser.add_argument("--version-policy", default="latest")
    parser.add_argument("--enable-batching", action="store_true")
    parser.add_argument("--batching-parameters-file", default=None)
    parser.add_argument("--max-pending-requests", type=int, default=DEFAULT_MAX_PENDING_REQUESTS)
    parser.add_argument("--grace-period", type=float, default=DEFAULT_GRACE_PERIOD)
    try:
        return serve(**vars(parser.parse_args(argv)))
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is closed; skip TensorFlow's interpreter teardown (seconds), so a drained
    # server exits as soon as it has answered its last request.
    os._exit(status)
