"""`python -m serving BASE_DIR [--port P] [--grpc-port G] ...`: the local model server's process.

This is the process `serving.local_server` starts (its `extra_args` are these options); people
run `zoo serve`, whose options are the same. Each option is a keyword argument of
`serving.server.serve`, which checks the values.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from serving.server.app import DEFAULT_MAX_REQUEST_BYTES, serve  # noqa: E402


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
    try:
        return serve(**vars(parser.parse_args(argv)))
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
