"""`ServingError`: one exception for server-side failures and for errors a client receives.

TF Serving reports every failure as a canonical status code (gRPC's codes) and a message; its REST
front end maps the code to an HTTP status. The table below is TF Serving's own mapping
(`ToHTTPStatusCode` in `tensorflow_serving/model_servers/http_server.cc`), so the local server
answers with the statuses a `tensorflow_model_server` would.
"""

from __future__ import annotations

# Canonical status code name -> HTTP status.
HTTP_STATUS = {
    "OK": 200,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}

# HTTP status -> the most likely canonical code, for errors a REST client receives.
_CODE_FROM_HTTP = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    411: "INVALID_ARGUMENT",
    413: "RESOURCE_EXHAUSTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class ServingError(Exception):
    """A request the model server refused or failed, with the server's message and status.

    Args:
        message: the server's error message (the `"error"` field of TF Serving's REST error body,
            or the gRPC status details).
        code: the canonical status code name, e.g. `"INVALID_ARGUMENT"` or `"NOT_FOUND"`.
            Defaults to the code that matches `http_status`, or `"UNKNOWN"`.
        http_status: the HTTP status. Defaults to TF Serving's mapping of `code`.

    Example:

    ```python
    try:
        client.predict({"images": bad})
    except serving.ServingError as e:
        print(e.http_status, e.code, e.message)
    ```
    """

    def __init__(self, message: str, code: str | None = None, http_status: int | None = None):
        if code is None:
            code = _CODE_FROM_HTTP.get(http_status, "UNKNOWN")
        if code not in HTTP_STATUS:
            raise ValueError(
                f"`code` must be a canonical status code name ({', '.join(HTTP_STATUS)}). "
                f"Received: code={code!r}"
            )
        if http_status is None:
            http_status = HTTP_STATUS[code]
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status

    def __str__(self) -> str:
        return f"{self.code} (HTTP {self.http_status}): {self.message}"


def invalid_argument(message: str) -> ServingError:
    return ServingError(message, "INVALID_ARGUMENT")


def not_found(message: str) -> ServingError:
    return ServingError(message, "NOT_FOUND")
