"""Runs the model manager, the REST server and (optionally) the gRPC server together.

Both front ends share one asyncio event loop (uvloop when installed) and one `SignatureRunner`:
with `--enable-batching`, REST and gRPC requests to a signature join the same batches. SIGTERM
(or SIGINT) drains: the ports stop accepting, open batches run without waiting for their
timeout, requests in flight are answered within `grace_period` seconds, then the process exits
with status 0. A second signal stops at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys

from layers.validation import check_int_in_range, check_positive_float, check_positive_int
from serving.server.batching import BatchScheduler
from serving.server.batching_config import BatchingParameters, read_batching_parameters
from serving.server.http_app import RestApp, listen, make_uvicorn_server
from serving.server.models import ModelManager
from serving.server.rest import RestApi
from serving.server.runner import SignatureRunner

READY_PREFIX = "SERVING "
DEFAULT_MAX_REQUEST_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_PENDING_REQUESTS = 1024
DEFAULT_GRACE_PERIOD = 10.0
# gRPC worker threads. With batching a worker waits for its batch, so more of them let more
# gRPC requests share a batch; more than this costs more in thread switching than it gains.
GRPC_WORKERS = 8
GRPC_WORKERS_BATCHING = 32
MAX_PORT = 65535


def batching_parameters(
    enable_batching: bool, batching_parameters_file: str | os.PathLike | None
) -> BatchingParameters | None:
    """The batching parameters `--enable-batching [--batching-parameters-file F]` ask for.

    Like `tensorflow_model_server`, a parameters file without `--enable-batching` is an error,
    and `--enable-batching` alone uses TF Serving's defaults.

    Args:
        enable_batching: whether to batch requests.
        batching_parameters_file: a text `BatchingParameters` file, or `None`.

    Example:

    ```python
    params = batching_parameters(True, "models/batching.config")
    ```
    """
    if batching_parameters_file is not None and not enable_batching:
        raise ValueError(
            "`batching_parameters_file` is set without `enable_batching` (TF Serving refuses "
            "this too); add --enable-batching. Received: "
            f"batching_parameters_file={os.fspath(batching_parameters_file)}"
        )
    if not enable_batching:
        return None
    if batching_parameters_file is None:
        return BatchingParameters()
    return read_batching_parameters(batching_parameters_file)


def serve(
    base_dir: str | os.PathLike,
    port: int = 8501,
    grpc_port: int | None = None,
    host: str = "127.0.0.1",
    poll_interval: float = 1.0,
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
    version_policy: str = "latest",
    enable_batching: bool = False,
    batching_parameters_file: str | os.PathLike | None = None,
    max_pending_requests: int = DEFAULT_MAX_PENDING_REQUESTS,
    grace_period: float = DEFAULT_GRACE_PERIOD,
) -> int:
    """Serves every model under `base_dir` until SIGINT/SIGTERM; returns the exit status.

    Once the models present at start-up are loaded and the ports are bound, prints one line
    `SERVING {"rest": "http://HOST:PORT", "grpc": "HOST:PORT" or null}` to stdout (how
    `local_server` learns the ports when 0 asked for free ones).

    Args:
        base_dir: directory of models (`NAME/VERSION/`).
        port: REST port, 0 for a free one. Defaults to `8501`.
        grpc_port: gRPC port, 0 for a free one. Defaults to `None` (no gRPC).
        host: interface to bind. Defaults to `"127.0.0.1"`.
        poll_interval: seconds between scans of `base_dir`. Defaults to `1.0`.
        max_request_bytes: largest request accepted (REST body, gRPC message). Defaults to 16 MiB.
        version_policy: `"latest"` or `"all"`. Defaults to `"latest"`.
        enable_batching: merge concurrent requests into batches (TF Serving's
            `--enable_batching`). Defaults to `False`.
        batching_parameters_file: TF Serving's batching parameters file (needs
            `enable_batching`). Defaults to `None` (TF Serving's defaults).
        max_pending_requests: requests handled at once by each front end; beyond it REST
            answers 503 and gRPC RESOURCE_EXHAUSTED. Defaults to `1024`.
        grace_period: seconds that requests in flight get to finish after SIGTERM. Defaults
            to `10.0`.

    Example:

    ```python
    serve("models", port=8501, grpc_port=8500, enable_batching=True,
          batching_parameters_file="models/batching.config")
    ```
    """
    check_int_in_range("port", port, 0, MAX_PORT)
    if grpc_port is not None:
        check_int_in_range("grpc_port", grpc_port, 0, MAX_PORT)
    check_positive_int("max_request_bytes", max_request_bytes)
    check_positive_int("max_pending_requests", max_pending_requests)
    check_positive_float("grace_period", grace_period)
    params = batching_parameters(enable_batching, batching_parameters_file)
    manager = ModelManager(base_dir, poll_interval=poll_interval, version_policy=version_policy)
    manager.start()
    scheduler = BatchScheduler(params) if params is not None else None
    if scheduler is not None:
        scheduler.start()
    runner = SignatureRunner(scheduler)
    try:
        _run_loop(
            _serve(
                manager,
                runner,
                host,
                port,
                grpc_port,
                max_request_bytes,
                max_pending_requests,
                grace_period,
            )
        )
    finally:
        runner.close()
        if scheduler is not None:
            scheduler.stop()
            sizes = ", ".join(f"{k}: {v}" for k, v in sorted(scheduler.batch_sizes.items()))
            print(f"Batches run (size: count): {sizes or 'none'}", file=sys.stderr)
        manager.stop()
    return 0


def _run_loop(main) -> None:
    try:
        import uvloop

        loop = uvloop.new_event_loop()
    except ImportError:  # uvloop has no Windows build
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(main)
    finally:
        loop.close()


async def _serve(
    manager: ModelManager,
    runner: SignatureRunner,
    host: str,
    port: int,
    grpc_port: int | None,
    max_request_bytes: int,
    max_pending_requests: int,
    grace_period: float,
) -> None:
    loop = asyncio.get_running_loop()
    app = RestApp(RestApi(manager, runner), max_request_bytes, max_pending_requests)
    sock = listen(host, port)
    rest = make_uvicorn_server(app, grace_period)
    grpc_server, grpc_target = None, None
    try:
        if grpc_port is not None:
            grpc_server, grpc_target = _start_grpc(
                manager, runner, host, grpc_port, max_request_bytes, max_pending_requests
            )
        stop = asyncio.Event()

        def on_signal():
            if stop.is_set():  # a second signal: stop now
                rest.force_exit = True
            stop.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
                loop.add_signal_handler(signum, on_signal)
        rest_task = asyncio.create_task(rest.serve(sockets=[sock]))
        while not rest.started and not rest_task.done():
            await asyncio.sleep(0.01)
        if rest_task.done():
            await rest_task  # raises why uvicorn did not start
            return
        _announce(manager, runner, f"http://{_url_host(host)}:{sock.getsockname()[1]}", grpc_target)
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({stopped, rest_task}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        print("Draining: no new connections; answering requests in flight.", file=sys.stderr)
        rest.should_exit = True
        if runner.scheduler is not None:
            runner.scheduler.drain()
        waits = [rest_task]
        if grpc_server is not None:
            stopping = grpc_server.stop(grace_period)  # refuses new calls now
            grpc_server = None
            waits.append(loop.run_in_executor(None, stopping.wait))
        await asyncio.gather(*waits, return_exceptions=True)
    finally:
        if grpc_server is not None:  # start-up failed after gRPC started
            grpc_server.stop(0)
        sock.close()


def _start_grpc(manager, runner, host, port, max_request_bytes, max_pending_requests):
    """Starts the gRPC server; returns it and its `host:port`."""
    from serving.server.grpc_service import make_grpc_server

    server, bound = make_grpc_server(
        manager,
        runner,
        host,
        port,
        max_request_bytes,
        max_pending_requests,
        workers=GRPC_WORKERS_BATCHING if runner.scheduler is not None else GRPC_WORKERS,
    )
    server.start()
    return server, f"{host}:{bound}"


def _announce(manager, runner, rest_url: str, grpc_target: str | None) -> None:
    """The `SERVING {...}` line `local_server` waits for, and a line for people."""
    print(READY_PREFIX + json.dumps({"rest": rest_url, "grpc": grpc_target}), flush=True)
    print(
        f"Serving {manager.names() or 'no models yet'} from {os.path.abspath(manager.base_dir)}: "
        f"REST at {rest_url}"
        + (f", gRPC at {grpc_target}" if grpc_target else "")
        + (", batching on" if runner.scheduler is not None else ""),
        file=sys.stderr,
        flush=True,
    )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
