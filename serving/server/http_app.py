"""The REST API as an ASGI application, served by uvicorn: body limits and the request queue.

uvicorn (with httptools) does HTTP/1.1, keep-alive and pipelining; Starlette's `Request` and
`Response` read the body and write the answer. This module adds what TF Serving's front end
does around `RestApi`: a request body larger than `--max-request-bytes` gets 413, and once
`max_pending_requests` requests are being handled a new one gets 503 with TF Serving's error
JSON at once (its body is read and discarded, so the connection stays usable and the client
reads an answer instead of a reset).
"""

from __future__ import annotations

import contextlib
import socket

import uvicorn
from starlette.requests import Request
from starlette.responses import Response

from serving import json_codec
from serving.errors import HTTP_STATUS
from serving.server.rest import RestApi

# The listen backlog: connections the kernel queues before uvicorn accepts them.
BACKLOG = 4096


def _error(status: int, message: str) -> tuple[int, dict]:
    return status, {"error": message}


class RestApp:
    """ASGI application answering TF Serving's REST API.

    Args:
        api: the `RestApi` that answers each request.
        max_request_bytes: largest request body accepted; larger ones get 413.
        max_pending_requests: requests handled at once; more get 503 (UNAVAILABLE).

    Example:

    ```python
    app = RestApp(RestApi(manager, runner), 16 * 2**20, 1024)
    uvicorn.run(app, port=8501)
    ```
    """

    def __init__(self, api: RestApi, max_request_bytes: int, max_pending_requests: int):
        self.api = api
        self.max_request_bytes = max_request_bytes
        self.max_pending_requests = max_pending_requests
        self.pending = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":  # uvicorn runs with lifespan="off"; nothing else is served
            return
        request = Request(scope, receive)
        if self.pending >= self.max_pending_requests:
            await _discard(request)
            status, payload = _error(
                HTTP_STATUS["UNAVAILABLE"],
                f"The server is handling {self.pending} requests, its limit "
                f"(max_pending_requests={self.max_pending_requests}); retry later.",
            )
        else:
            self.pending += 1
            try:
                status, payload = await self._answer(request)
            finally:
                self.pending -= 1
        response = Response(json_codec.dumps(payload), status, media_type="application/json")
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> tuple[int, dict]:
        method = request.method
        path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        if request.url.query:
            path += "?" + request.url.query
        body = b""
        if method == "POST":
            body = await self._read_body(request)
            if isinstance(body, tuple):
                return body
        else:
            await _discard(request)
        return await self.api.handle(method, path, body)

    async def _read_body(self, request: Request) -> bytes | tuple[int, dict]:
        length = request.headers.get("content-length")
        chunked = "chunked" in request.headers.get("transfer-encoding", "").lower()
        if length is None and not chunked:
            return _error(411, "POST requests need a Content-Length header.")
        too_large = _error(
            413,
            f"Request body of {length or 'more than ' + str(self.max_request_bytes)} bytes "
            f"exceeds the limit of {self.max_request_bytes} bytes (--max-request-bytes).",
        )
        if length is not None and int(length) > self.max_request_bytes:
            await _discard(request)
            return too_large
        parts, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_request_bytes:
                await _discard(request)
                return too_large
            parts.append(chunk)
        return b"".join(parts)


async def _discard(request: Request) -> None:
    """Reads what is left of the body, so the connection can carry the next request."""
    with contextlib.suppress(Exception):
        async for _ in request.stream():
            pass


class UvicornServer(uvicorn.Server):
    """uvicorn's server without its own signal handling: `serve()` in `app.py` owns SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host:port` (0 picks a free port), with a deep backlog."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    return socket.create_server((host, port), family=family, backlog=BACKLOG)


def make_uvicorn_server(app: RestApp, grace_period: float) -> UvicornServer:
    """uvicorn serving `app`: HTTP/1.1 keep-alive, quiet logs, `grace_period` s to drain."""
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_keep_alive=30,
        timeout_graceful_shutdown=grace_period,
        server_header=False,
        proxy_headers=False,
        headers=[("server", "keras-zoo-serving")],
        backlog=BACKLOG,
    )
    return UvicornServer(config)
