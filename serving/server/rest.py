"""TF Serving's REST API: routes, status, metadata, predict, classify, regress.

Request and response bodies follow https://www.tensorflow.org/tfx/serving/api_rest; errors are
`{"error": "<message>"}` with the HTTP status TF Serving maps the error code to. `RestApi.handle`
turns one request (method, path, body) into a status and a JSON payload; `serving.server.http`
serves it over HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
from google.protobuf import json_format
from tensorflow_serving.apis import get_model_metadata_pb2

from serving import json_codec
from serving.errors import ServingError, invalid_argument
from serving.json_codec import example_from_json, to_json_value
from serving.server import methods
from serving.server.models import ModelManager
from serving.server.runner import SignatureRunner
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
    except ValueError as e:
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


async def predict_json(
    manager: ModelManager, runner: SignatureRunner, name: str, version: int | None, body: bytes
) -> dict:
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
        inputs = _instances_to_inputs(request["instances"], signature)
        outputs = await runner.run(signature, inputs)
        batch = {value.shape[0] if value.ndim else None for value in outputs.values()}
        if len(batch) != 1 or None in batch:
            raise invalid_argument(
                "Row format ('instances') needs every output to share the batch size; use "
                "columnar 'inputs' for this signature."
            )
        if len(outputs) == 1:
            ((out_name, value),) = outputs.items()
            return {"predictions": to_json_value(value, out_name)}
        columns = {key: to_json_value(value, key) for key, value in outputs.items()}
        rows = [{key: value[i] for key, value in columns.items()} for i in range(batch.pop())]
        return {"predictions": rows}
    outputs = await runner.run(signature, _columnar_inputs(request["inputs"], signature))
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


async def classify_json(
    manager: ModelManager, runner: SignatureRunner, name: str, version: int | None, body: bytes
) -> dict:
    request = _body_object(body)
    examples = _examples(request)
    servable = manager.get(name, version)
    call = methods.classify_call(servable, request.get("signature_name"), examples)
    classes, scores = methods.classify_result(await runner.run(*call), len(examples))
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


async def regress_json(
    manager: ModelManager, runner: SignatureRunner, name: str, version: int | None, body: bytes
) -> dict:
    request = _body_object(body)
    examples = _examples(request)
    servable = manager.get(name, version)
    call = methods.regress_call(servable, request.get("signature_name"), examples)
    values = methods.regress_result(await runner.run(*call), len(examples))
    return {"result": np.asarray(values, dtype=np.float64).tolist()}


_POST_HANDLERS = {":predict": predict_json, ":classify": classify_json, ":regress": regress_json}


def route(method: str, path: str) -> tuple[str, int | None, str | None]:
    """`(model name, version or None, suffix)` of a TF Serving REST path, or TF Serving's error.

    Args:
        method: the HTTP method.
        path: the request path (a query string is ignored).
    """
    match = _PATH.match(path.split("?", 1)[0])
    if not path.startswith("/v1/"):
        raise ServingError(f"Not found: {method} {path}", "NOT_FOUND")
    if match is None:
        raise invalid_argument(f"Malformed request: {method} {path}")
    version = match["version"]
    if version is not None:
        if not version.isdigit():
            raise invalid_argument(f"Malformed request: {method} {path}")
        version = int(version)
    suffix = match["suffix"]
    if method == "GET" and suffix in (None, "/metadata"):
        return match["name"], version, suffix
    if method == "POST" and suffix in _POST_HANDLERS:
        return match["name"], version, suffix
    raise invalid_argument(f"Malformed request: {method} {path}")


class RestApi:
    """TF Serving's REST API over a `ModelManager`, independent of the HTTP server.

    Args:
        manager: the loaded models.
        runner: runs signatures (batched or not).

    Example:

    ```python
    api = RestApi(manager, SignatureRunner(None))
    status, payload = await api.handle("POST", "/v1/models/digits:predict", body)
    ```
    """

    def __init__(self, manager: ModelManager, runner: SignatureRunner):
        self.manager = manager
        self.runner = runner

    async def handle(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """Answers one request: `(HTTP status, JSON payload)`; errors are `{"error": ...}`."""
        try:
            name, version, suffix = route(method, path)
            if method == "GET":
                if suffix == "/metadata":
                    return 200, metadata_json(self.manager, name, version)
                return 200, status_json(self.manager, name, version)
            handler = _POST_HANDLERS[suffix]
            return 200, await handler(self.manager, self.runner, name, version, body)
        except ServingError as e:
            return e.http_status, {"error": e.message}
        except Exception as e:  # a server bug must not take the server down
            return 500, {"error": f"Internal error: {type(e).__name__}: {e}"}
