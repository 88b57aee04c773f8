"""Runs the model manager, the REST server and (optionally) the gRPC server together."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading

from layers.validation import check_int_in_range, check_positive_int
from serving.server.models import ModelManager
from serving.server.rest import make_http_server

READY_PREFIX = "SERVING "
DEFAULT_MAX_REQUEST_BYTES = 16 * 1024 * 1024
MAX_PORT = 65535


def serve(
    base_dir: str | os.PathLike,
    port: int = 8501,
    grpc_port: int | None = None,
    host: str = "127.0.0.1",
    poll_interval: float = 1.0,
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
    version_policy: str = "latest",
) -> int:
    """Serves every model under `base_dir` until SIGINT/SIGTERM; returns the exit status.

    Once the models present at start-up are loaded and the ports are bound, prints one line
    `SERVING {"rest": "http://HOST:PORT", "grpc": "HOST:PORT" or null}` to stdout (how
    `local_server` learns the ports when 0 asked for free ones).
    """
    check_int_in_range("port", port, 0, MAX_PORT)
    if grpc_port is not None:
        check_int_in_range("grpc_port", grpc_port, 0, MAX_PORT)
    check_positive_int("max_request_bytes", max_request_bytes)
    manager = ModelManager(base_dir, poll_interval=poll_interval, version_policy=version_policy)
    manager.start()
    http_server = make_http_server(manager, host, port, max_request_bytes)
    grpc_server, grpc_target = None, None
    if grpc_port is not None:
        from serving.server.grpc_service import make_grpc_server

        grpc_server, bound = make_grpc_server(manager, host, grpc_port, max_request_bytes)
        grpc_server.start()
        grpc_target = f"{host}:{bound}"

    stop = threading.Event()

    def shutdown(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    thread = threading.Thread(target=http_server.serve_forever, name="rest", daemon=True)
    thread.start()
    rest_url = f"http://{host}:{http_server.server_address[1]}"
    print(READY_PREFIX + json.dumps({"rest": rest_url, "grpc": grpc_target}), flush=True)
    print(
        f"Serving {manager.names() or 'no models yet'} from {os.path.abspath(base_dir)}: REST at "
        f"{rest_url}" + (f", gRPC at {grpc_target}" if grpc_target else ""),
        file=sys.stderr,
        flush=True,
    )
    stop.wait()
    http_server.shutdown()
    http_server.server_close()
    if grpc_server is not None:
        grpc_server.stop(grace=1).wait()
    manager.stop()
    return 0
