"""`local_server`: the local model server as a subprocess, for demos, notebooks and tests."""

from __future__ import annotations

import collections
import contextlib
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import NamedTuple

from serving.server.app import READY_PREFIX


class LocalServer(NamedTuple):
    """Where a `local_server` listens: `url` (REST) and `grpc_target` (`None` without gRPC)."""

    url: str
    grpc_target: str | None
    process: subprocess.Popen


def _drain(stream, lines: collections.deque, ready: dict, event: threading.Event) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip("\n")
        if line.startswith(READY_PREFIX) and "info" not in ready:
            ready["info"] = json.loads(line[len(READY_PREFIX) :])
            event.set()
        else:
            lines.append(line)
    event.set()


def _answers(url: str, timeout: float) -> bool:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", "/v1/models/__ping__")
        conn.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        conn.close()


@contextlib.contextmanager
def local_server(
    base_dir: str | os.PathLike,
    port: int = 0,
    grpc_port: int | None = None,
    host: str = "127.0.0.1",
    poll_interval: float = 0.5,
    startup_timeout: float = 120.0,
    extra_args: tuple[str, ...] = (),
    enable_batching: bool = False,
    batching_parameters_file: str | os.PathLike | None = None,
    grace_period: float = 10.0,
) -> Iterator[LocalServer]:
    """Runs `python -m serving base_dir` in a subprocess until the `with` block ends.

    Waits until the models present in `base_dir` are loaded and the server answers, then yields
    a `LocalServer(url, grpc_target, process)`; on exit the process gets SIGTERM, answers the
    requests in flight, and is killed if it has not exited `grace_period` + 10 seconds later.

    Args:
        base_dir: directory of models (`NAME/VERSION/`), e.g. written by `serving.export`.
        port: REST port. Defaults to `0` (a free port).
        grpc_port: gRPC port, `0` for a free one. Defaults to `None` (no gRPC).
        host: interface to bind. Defaults to `"127.0.0.1"`.
        poll_interval: seconds between scans for new versions. Defaults to `0.5`.
        startup_timeout: seconds to wait for the server to come up. Defaults to `120.0`.
        extra_args: further command-line arguments (e.g. `("--max-request-bytes", "1000")`).
        enable_batching: batch concurrent requests, as `tensorflow_model_server
            --enable_batching`. Defaults to `False`.
        batching_parameters_file: TF Serving's batching parameters file (e.g. the one
            `write_model_config` writes); needs `enable_batching`. Defaults to `None`.
        grace_period: seconds the server gives requests in flight when stopped. Defaults to
            `10.0`.

    Example:

    ```python
    with serving.local_server("models", grpc_port=0) as server:
        print(serving.Client(server.url, "digits").status())
    config = serving.write_model_config("models", ["digits"])
    with serving.local_server(
        "models", enable_batching=True, batching_parameters_file=config.batching_config
    ) as server:
        print(serving.Client(server.url, "digits").predict(images))
    ```
    """
    if not os.path.isdir(base_dir):
        raise FileNotFoundError(f"`base_dir` must be an existing directory. Received: {base_dir}")
    command = [
        sys.executable,
        "-m",
        "serving",
        os.fspath(base_dir),
        "--port",
        str(port),
        "--host",
        host,
        "--poll-interval",
        str(poll_interval),
        "--grace-period",
        str(grace_period),
        *extra_args,
    ]
    if grpc_port is not None:
        command += ["--grpc-port", str(grpc_port)]
    if enable_batching:
        command.append("--enable-batching")
    if batching_parameters_file is not None:
        command += ["--batching-parameters-file", os.fspath(batching_parameters_file)]
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # `-m serving` must find this package even when it is not installed.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    log: collections.deque = collections.deque(maxlen=50)
    ready: dict = {}
    event = threading.Event()
    threading.Thread(target=_drain, args=(process.stdout, log, ready, event), daemon=True).start()
    try:
        deadline = time.monotonic() + startup_timeout
        event.wait(startup_timeout)
        info = ready.get("info")
        while info is not None and not _answers(info["rest"], 5.0):
            if process.poll() is not None or time.monotonic() > deadline:
                info = None
                break
            time.sleep(0.05)
        if info is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(1)  # its output ended: it is probably exiting
            status = process.poll()
            reason = f"exited with status {status}" if status is not None else "timed out"
            raise RuntimeError(
                f"The local model server {reason} before answering. Command: "
                f"{' '.join(command)}\nLast output:\n" + "\n".join(log)
            )
        yield LocalServer(info["rest"], info["grpc"], process)
    finally:
        process.terminate()
        try:
            process.wait(grace_period + 10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
