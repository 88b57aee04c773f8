"""TF Serving's REST API over `http.server`: status, metadata, predict, classify, regress.

Request and response bodies follow https://www.tensorflow.org/tfx/serving/api_rest; errors are
`{"error": "<message>"}` with the HTTP status TF Serving maps the error code to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
from google.protobuf import json_format
from tensorflow_serving.apis import get_model_metadata_pb2

from serving import json_codec
from serving.errors import ServingError, invalid_argument
from serving.json_codec import example_from_json, to_json_value
from serving.server import methods
from serving.server.models import ModelManager
from serving.server.signature import Signature

_PATH = re.compile(
    r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>[^/:]+))?"
    r"(?P<suffix>/metadata|:predict|:classify|:regress)?$"
)


def status_json(manager: ModelManager, name: str, version: int | None) -> dict[str, Any]:
    return {
        "model_version_status": [
            {
                "version": str(v),
                "state": state,
                "status": {"error_code": code, "error_message": message},
            }
            for v, state, code, message in manager.status(name, version)
        ]
    }


def signature_def_map(servable) -> get_model_metadata_pb2.SignatureDefMap:
    proto = get_model_metadata_pb2.SignatureDefMap()
    for key, value in servable.signature_defs.items():
        proto.signature_def[key].CopyFrom(value)
    return proto


def metadata_json(manager: ModelManager, name: str, version: int | None) -> dict[str, Any]:
    servable = manager.get(name, version)
    signature_defs = json_format.MessageToDict(
        signature_def_map(servable),
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
    )
    return {
        "model_spec": {"name": name, "signature_name": "", "version": str(servable.version)},
        "metadata": {"signature_def": signature_defs},
    }


def _body_object(body: bytes) -> dict[str, Any]:
    try:
        request = json_codec.loads(body)
    except ServingError:
        raise
    except (ValueError, UnicodeDecodeError) as e:
        raise invalid_argument(f"JSON Parse error: {e}") from None
    if not isinstance(request, dict):
        raise invalid_argument("JSON Value: request body must be a JSON object.")
    signature_name = request.get("signature_name", "")
    if not isinstance(signature_name, str):
        raise invalid_argument(f"'signature_name' must be a string. Received: {signature_name!r}")
    return request


def _instances_to_inputs(instances: Any, signature: Signature) -> dict[str, Any]:
    if not isinstance(instances, list) or not instances:
        raise invalid_argument("'instances' must be a non-empty JSON array.")
    names = list(signature.inputs)
    columns: dict[str, list[Any]] = {name: [] for name in names}
    for i, instance in enumerate(instances):
        if isinstance(instance, dict):
            if set(instance) != set(names):
                raise invalid_argument(
                    f"instances[{i}] must have exactly the inputs {sorted(names)}. "
                    f"Received: keys={sorted(instance)}"
                )
            for name in names:
                columns[name].append(instance[name])
        elif len(names) == 1:
            columns[names[0]].append(instance)
        else:
            raise invalid_argument(
                f"Signature {signature.name!r} has several inputs {sorted(names)}, so each "
                f"instance must be a JSON object. Received: instances[{i}]={instance!r:.80}"
            )
    return columns


def _columnar_inputs(inputs: Any, signature: Signature) -> dict[str, Any]:
    names = list(signature.inputs)
    if isinstance(inputs, dict):
        return inputs
    if len(names) != 1:
        raise invalid_argument(
            f"Signature {signature.name!r} has several inputs {sorted(names)}, so 'inputs' must "
            "be a JSON object keyed by input name."
        )
    return {names[0]: inputs}


def predict_json(manager: ModelManager, name: str, version: int | None, body: bytes) -> dict:
    request = _body_object(body)
    has_instances, has_inputs = "instances" in request, "inputs" in request
    if has_instances == has_inputs:
        raise invalid_argument(
            "Missing 'inputs' or 'instances' key"
            if not has_instances
            else "Not formatted correctly expecting only one of 'inputs' or 'instances' keys exists"
        )
    servable = manager.get(name, version)
    signature = servable.signature(request.get("signature_name"))
    if has_instances:
        outputs = signature.run(_instances_to_inputs(request["instances"], signature))
        batch = {value.shape[0] if value.ndim else None for value in outputs.values()}
        if len(batch) != 1 or None in batch:
            raise invalid_argument(
                "Row format ('instances') needs every output to share the batch size; use "
                "columnar 'inputs' for this signature."
            )
        if len(outputs) == 1:
            ((out_name, value),) = outputs.items()
            return {"predictions": to_json_value(value, out_name)}
        rows = [
            {key: to_json_value(value[i], key) for key, value in outputs.items()}
            for i in range(batch.pop())
        ]
        return {"predictions": rows}
    outputs = signature.run(_columnar_inputs(request["inputs"], signature))
    if len(outputs) == 1:
        ((out_name, value),) = outputs.items()
        return {"outputs": to_json_value(value, out_name)}
    return {"outputs": {key: to_json_value(value, key) for key, value in outputs.items()}}


def _examples(request: Mapping[str, Any]) -> list[bytes]:
    examples = request.get("examples")
    if not isinstance(examples, list) or not examples:
        raise invalid_argument("'examples' must be a non-empty JSON array of objects.")
    context = request.get("context")
    if context is not None and not isinstance(context, dict):
        raise invalid_argument(f"'context' must be a JSON object. Received: {context!r:.80}")
    return [example_from_json(e, context).SerializeToString() for e in examples]


def classify_json(manager: ModelManager, name: str, version: int | None, body: bytes) -> dict:
    request = _body_object(body)
    examples = _examples(request)
    servable = manager.get(name, version)
    classes, scores = methods.classify(servable, request.get("signature_name"), examples)
    k = (classes if classes is not None else scores).shape[1]
    result = []
    for i in range(len(examples)):
        row = []
        for j in range(k):
            label = classes[i, j].decode("utf-8", "replace") if classes is not None else ""
            score = float(scores[i, j]) if scores is not None else 0.0
            row.append([label, score])
        result.append(row)
    return {"result": result}


def regress_json(manager: ModelManager, name: str, version: int | None, body: bytes) -> dict:
    request = _body_object(body)
    examples = _examples(request)
    values = methods.regress(manager.get(name, version), request.get("signature_name"), examples)
    return {"result": np.asarray(values, dtype=np.float64).tolist()}


_POST_HANDLERS = {":predict": predict_json, ":classify": classify_json, ":regress": regress_json}


class RestHandler(BaseHTTPRequestHandler):
    """Routes `/v1/models/...` requests to the model manager (one thread per connection)."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes; without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK hold the body back ~40 ms on every kept-alive response.
    disable_nagle_algorithm = True
    server_version = "keras-zoo-serving"
    manager: ModelManager
    max_request_bytes: int

    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        # Per-request access logs would flood the terminal under load; errors are in responses.
        pass

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str):
        match = _PATH.match(self.path.split("?", 1)[0])
        if not self.path.startswith("/v1/"):
            raise ServingError(f"Not found: {method} {self.path}", "NOT_FOUND")
        if match is None:
            raise invalid_argument(f"Malformed request: {method} {self.path}")
        version = match["version"]
        if version is not None:
            if not version.isdigit():
                raise invalid_argument(f"Malformed request: {method} {self.path}")
            version = int(version)
        suffix = match["suffix"]
        if method == "GET" and suffix in (None, "/metadata"):
            return match["name"], version, suffix
        if method == "POST" and suffix in _POST_HANDLERS:
            return match["name"], version, suffix
        raise invalid_argument(f"Malformed request: {method} {self.path}")

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None:
            self.close_connection = True
            raise ServingError("POST requests need a Content-Length header.", http_status=411)
        if not length.isdigit():
            self.close_connection = True
            raise invalid_argument(f"Invalid Content-Length: {length!r}")
        if int(length) > self.max_request_bytes:
            # The body is not read, so the connection cannot be reused.
            self.close_connection = True
            raise ServingError(
                f"Request body of {length} bytes exceeds the limit of {self.max_request_bytes} "
                "bytes (--max-request-bytes).",
                "RESOURCE_EXHAUSTED",
                http_status=413,
            )
        return self.rfile.read(int(length))

    def _handle(self, method: str) -> None:
        if method not in ("GET", "POST"):
            # Any body was not read, so the connection cannot carry another request.
            self.close_connection = True
        try:
            body = self._read_body() if method == "POST" else b""
            name, version, suffix = self._route(method)
            if method == "GET":
                if suffix == "/metadata":
                    payload = metadata_json(self.manager, name, version)
                else:
                    payload = status_json(self.manager, name, version)
            else:
                payload = _POST_HANDLERS[suffix](self.manager, name, version, body)
            self._send(200, payload)
        except ServingError as e:
            self._send(e.http_status, {"error": e.message})
        except Exception as e:  # a server bug must not take the server down
            self._send(500, {"error": f"Internal error: {type(e).__name__}: {e}"})

    def do_GET(self):  # noqa: N802 - http.server's naming
        self._handle("GET")

    def do_POST(self):  # noqa: N802
        self._handle("POST")

    def do_PUT(self):  # noqa: N802
        self._handle("PUT")

    def do_DELETE(self):  # noqa: N802
        self._handle("DELETE")


def make_http_server(
    manager: ModelManager, host: str, port: int, max_request_bytes: int
) -> ThreadingHTTPServer:
    """A threaded HTTP server bound to `host:port` (port 0 picks a free one)."""
    handler = type(
        "BoundRestHandler",
        (RestHandler,),
        {"manager": manager, "max_request_bytes": max_request_bytes},
    )
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
