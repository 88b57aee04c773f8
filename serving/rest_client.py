"""`Client`: TF Serving's REST API from Python, over a thread-safe keep-alive connection pool.

Connections come from urllib3's pool (shared by every thread using the client); JSON is written
and read by orjson (`serving.json_codec`), which writes NumPy arrays without `tolist()`.
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import urllib3
from urllib3.exceptions import HTTPError, ProtocolError
from urllib3.exceptions import TimeoutError as UrllibTimeoutError

from layers.validation import check_positive_int
from serving import json_codec
from serving.errors import ServingError
from serving.json_codec import from_json_value


def encode_json_value(value: Any) -> Any:
    """Arrays, lists and scalars as values `json_codec.dumps` writes; `bytes` become `{"b64"}`.

    Numeric arrays are returned as C-contiguous arrays, which orjson writes directly.
    """
    if isinstance(value, Mapping):
        return {key: encode_json_value(item) for key, item in value.items()}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return np.ascontiguousarray(value)
    array = np.asarray(value, dtype=object if _has_bytes(value) else None)
    if array.dtype.kind in ("S", "O"):

        def convert(item):
            if isinstance(item, list):
                return [convert(x) for x in item]
            if isinstance(item, bytes):
                return {"b64": base64.b64encode(item).decode("ascii")}
            return item.item() if isinstance(item, np.generic) else item

        return convert(array.tolist())
    if array.dtype.kind == "U":
        return array.tolist()
    return np.ascontiguousarray(array)


def _has_bytes(value: Any) -> bool:
    if isinstance(value, bytes):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind in ("S", "O")
    if isinstance(value, (list, tuple)):
        return any(_has_bytes(v) for v in value)
    return False


def _decode_outputs(value: Any) -> np.ndarray | dict[str, np.ndarray]:
    if isinstance(value, dict):
        return {key: from_json_value(item) for key, item in value.items()}
    return from_json_value(value)


def _decode_rows(rows: list[Any]) -> np.ndarray | dict[str, np.ndarray]:
    if rows and isinstance(rows[0], dict):
        return {key: from_json_value([row[key] for row in rows]) for key in rows[0]}
    return from_json_value(rows)


def _json_examples(examples: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(examples, Mapping) or not examples:
        raise ValueError(
            "`examples` must be a non-empty list of dicts (feature name -> value). "
            f"Received: examples={examples!r:.80}"
        )
    out = []
    for example in examples:
        if not isinstance(example, Mapping):
            raise ValueError(f"Each example must be a dict. Received: {example!r:.80}")
        out.append(
            {
                name: encode_json_value(np.ravel(v) if isinstance(v, np.ndarray) else v)
                for name, v in example.items()
            }
        )
    return out


class Client:
    """A client for TF Serving's REST API (also the local `zoo serve` server).

    Thread-safe: threads sharing a client share a pool of keep-alive connections (at most
    `max_connections` open at once; a caller waits for a free one). Server errors raise
    `ServingError` with the server's message, HTTP status and error code; a server that cannot
    be reached raises `ServingError` with code UNAVAILABLE (DEADLINE_EXCEEDED after `timeout`).

    Args:
        url: the server, e.g. `"http://localhost:8501"`.
        model: the model name.
        version: a version number to address. Defaults to `None` (the server's latest).
        timeout: seconds to wait for a connection and for each response. Defaults to `30.0`.
        max_connections: the pool's size: connections kept open for concurrent callers.
            Defaults to `64`.

    Example:

    ```python
    client = serving.Client("http://localhost:8501", "digits")
    logits = client.predict({"images": batch})            # columnar "inputs"
    rows = client.predict(instances=[{"images": image}])  # row "instances"
    print(client.status()[0]["state"])  # "AVAILABLE"
    ```
    """

    def __init__(
        self,
        url: str,
        model: str,
        version: int | None = None,
        timeout: float = 30.0,
        max_connections: int = 64,
    ):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"`url` must look like 'http://host:port'. Received: url={url!r}")
        if not isinstance(model, str) or not model:
            raise ValueError(f"`model` must be a non-empty string. Received: model={model!r}")
        check_positive_int("version", version, allow_none=True)
        check_positive_int("max_connections", max_connections)
        self.url = url.rstrip("/")
        self.model = model
        self.version = version
        self.timeout = timeout
        # Blocking pool: at most `max_connections` sockets; urllib3 sets TCP_NODELAY.
        self._pool = urllib3.connection_from_url(
            self.url, maxsize=max_connections, block=True, timeout=timeout, retries=False
        )

    @property
    def model_path(self) -> str:
        path = f"/v1/models/{urllib.parse.quote(self.model)}"
        return path if self.version is None else f"{path}/versions/{self.version}"

    def close(self) -> None:
        """Closes the pooled connections; the client cannot be used afterwards."""
        self._pool.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def request(self, method: str, path: str, payload: Any = None) -> dict[str, Any]:
        """Sends one request (`payload` as JSON) and returns the decoded JSON response."""
        body = None if payload is None else json_codec.dumps(payload)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        for attempt in range(2):
            try:
                response = self._pool.urlopen(
                    method, path, body=body, headers=headers, pool_timeout=self.timeout
                )
                break
            except ProtocolError as e:
                # A kept-alive connection the server closed as it was reused: retry once on a
                # new one (predict, classify and regress have no side effects).
                if attempt:
                    raise ServingError(f"Cannot reach {self.url}: {e}", "UNAVAILABLE") from e
            except UrllibTimeoutError as e:
                raise ServingError(
                    f"No answer from {self.url} within {self.timeout} s: {e}", "DEADLINE_EXCEEDED"
                ) from e
            except (HTTPError, OSError) as e:
                raise ServingError(f"Cannot reach {self.url}: {e}", "UNAVAILABLE") from e
        data = response.data
        try:
            decoded = json_codec.loads(data) if data else {}
        except ValueError:
            decoded = {"error": data.decode("utf-8", "replace")}
        if response.status >= 300:
            message = decoded.get("error", "") if isinstance(decoded, dict) else str(decoded)
            raise ServingError(message or response.reason or "", http_status=response.status)
        return decoded

    def predict(
        self,
        inputs: Any = None,
        *,
        instances: Sequence[Any] | None = None,
        signature_name: str | None = None,
    ) -> np.ndarray | dict[str, np.ndarray]:
        """Runs a predict signature, in columnar (`inputs`) or row (`instances`) format.

        Args:
            inputs: a batched array (single-input signature) or a dict of input name -> batched
                array, sent as TF Serving's columnar `"inputs"`.
            instances: a list of per-example values (or dicts of input name -> value), sent as
                the row format `"instances"`. Give exactly one of `inputs` and `instances`.
            signature_name: the signature to run. Defaults to the server's `serving_default`.

        Returns:
            A NumPy array when the signature has one output (TF Serving's JSON omits its name),
            else a dict of output name -> array. `bytes` values travel as base64.
        """
        if (inputs is None) == (instances is None):
            raise ValueError("Pass exactly one of `inputs` (columnar) and `instances` (row).")
        payload: dict[str, Any] = {}
        if signature_name:
            payload["signature_name"] = signature_name
        if instances is not None:
            if isinstance(instances, (Mapping, str, bytes)) or not len(instances):
                raise ValueError(
                    f"`instances` must be a non-empty list. Received: {instances!r:.80}"
                )
            payload["instances"] = [encode_json_value(x) for x in instances]
            return _decode_rows(
                self.request("POST", self.model_path + ":predict", payload)["predictions"]
            )
        payload["inputs"] = encode_json_value(inputs)
        return _decode_outputs(
            self.request("POST", self.model_path + ":predict", payload)["outputs"]
        )

    def classify(
        self,
        examples: Sequence[Mapping[str, Any]],
        *,
        context: Mapping[str, Any] | None = None,
        signature_name: str | None = None,
    ) -> list[list[tuple[str, float]]]:
        """Runs a classification signature on examples (dicts of feature name -> values).

        Returns one list of `(label, score)` pairs per example, as the server orders them.
        """
        payload: dict[str, Any] = {"examples": _json_examples(examples)}
        if context:
            payload["context"] = _json_examples([context])[0]
        if signature_name:
            payload["signature_name"] = signature_name
        result = self.request("POST", self.model_path + ":classify", payload)["result"]
        return [[(str(label), float(score)) for label, score in row] for row in result]

    def regress(
        self,
        examples: Sequence[Mapping[str, Any]],
        *,
        context: Mapping[str, Any] | None = None,
        signature_name: str | None = None,
    ) -> list[float]:
        """Runs a regression signature on examples; one float per example."""
        payload: dict[str, Any] = {"examples": _json_examples(examples)}
        if context:
            payload["context"] = _json_examples([context])[0]
        if signature_name:
            payload["signature_name"] = signature_name
        return [
            float(v) for v in self.request("POST", self.model_path + ":regress", payload)["result"]
        ]

    def metadata(self) -> dict[str, Any]:
        """The model's metadata JSON (`model_spec`, `metadata.signature_def`)."""
        return self.request("GET", self.model_path + "/metadata")

    def status(self) -> list[dict[str, Any]]:
        """The `model_version_status` list: version, state and status of each version."""
        return self.request("GET", self.model_path)["model_version_status"]
