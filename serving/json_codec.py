"""TF Serving's JSON encoding of tensors and tf.Examples, shared by the REST client and server.

JSON goes through orjson, which writes NumPy arrays directly (no `tolist()`), so encoding and
parsing large tensors is not the bottleneck. Binary strings travel as `{"b64": "<base64>"}`;
string outputs whose name ends in `_bytes` (or that are not UTF-8) are returned that way, as TF
Serving does. Non-finite floats are written `NaN`/`Infinity` and read back, as TF Serving (and
Python's `json`) do: orjson has no such literals, so those payloads take the `json` module.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson
import tensorflow as tf

from serving.errors import invalid_argument

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


def decode_b64(value: Any) -> Any:
    """Replaces every `{"b64": ...}` object in a parsed JSON value with the decoded bytes."""
    if isinstance(value, dict):
        if set(value) == {"b64"}:
            if not isinstance(value["b64"], str):
                raise invalid_argument(f"'b64' must hold a base64 string. Received: {value!r}")
            try:
                return base64.b64decode(value["b64"], validate=True)
            except ValueError as e:
                raise invalid_argument(f"Invalid base64 in 'b64' value: {e}") from None
        return {key: decode_b64(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode_b64(item) for item in value]
    return value


def loads(data: bytes | str) -> Any:
    """Parses JSON with `{"b64": ...}` objects decoded to bytes.

    Raises:
        ValueError: the text is not JSON (the message says where).
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        try:  # NaN and Infinity, which TF Serving accepts and orjson does not
            value = json.loads(data)
        except ValueError:
            raise ValueError(str(error)) from None
    if (b'"b64"' if isinstance(data, bytes) else '"b64"') in data:
        value = decode_b64(value)
    return value


def _default(value: Any) -> Any:
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()  # 0-d, non-contiguous or complex arrays
    if isinstance(value, bytes):
        return {"b64": base64.b64encode(value).decode("ascii")}
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def _finite(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return value.dtype.kind not in "fc" or bool(np.isfinite(value).all())
    if isinstance(value, (float, np.floating)):
        return bool(np.isfinite(value))
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_finite(v) for v in value)
    return True


def dumps(value: Any) -> bytes:
    """JSON bytes of `value`: dicts, lists, numbers, strings, NumPy arrays and scalars.

    `bytes` become `{"b64": ...}` objects; NaN and infinities are written as `NaN` and
    `Infinity` (orjson would write `null`).
    """
    if _finite(value):
        return orjson.dumps(value, default=_default, option=_OPTIONS)
    return json.dumps(value, default=_default).encode("utf-8")


def _encode_bytes(value: bytes, force_b64: bool) -> Any:
    if not force_b64:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return {"b64": base64.b64encode(value).decode("ascii")}


def to_json_value(value: Any, name: str = "") -> Any:
    """A value `dumps` writes as TF Serving does: numeric arrays as they are, strings decoded.

    Args:
        value: a NumPy array (or nested lists, bytes, scalars).
        name: the output's name; string outputs named `*_bytes` are always base64.
    """
    array = np.asarray(value)
    if array.dtype.kind in ("S", "O", "U"):
        force = name.endswith("_bytes")

        def convert(item):
            if isinstance(item, list):
                return [convert(x) for x in item]
            if isinstance(item, str):
                item = item.encode("utf-8")
            return _encode_bytes(bytes(item), force)

        return convert(array.tolist())
    return array


def from_json_value(value: Any) -> np.ndarray:
    """Parsed JSON (`{"b64"}` objects already decoded by `loads`) back to a NumPy array."""
    try:
        array = np.asarray(value)
    except ValueError:
        return np.asarray(value, dtype=object)
    if array.dtype.kind == "U":
        array = np.vectorize(lambda s: s.encode("utf-8"), otypes=[object])(array)
    return array


def _feature(name: str, value: Any) -> tf.train.Feature:
    values = value if isinstance(value, list) else [value]
    if all(isinstance(v, (bytes, str)) for v in values):
        data = [v.encode("utf-8") if isinstance(v, str) else v for v in values]
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=data))
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=values))
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return tf.train.Feature(float_list=tf.train.FloatList(value=values))
    raise invalid_argument(
        f"Feature {name!r} must be a number, a string, a {{'b64': ...}} object or a flat list of "
        f"one of these. Received: {value!r}"
    )


def example_from_json(features: Any, context: Mapping[str, Any] | None = None) -> tf.train.Example:
    """One JSON example (feature name -> value or flat list) as a `tf.train.Example`."""
    if not isinstance(features, dict):
        raise invalid_argument(f"Each example must be a JSON object. Received: {features!r}")
    features = decode_b64(features)
    merged = dict(decode_b64(context or {}))
    overlap = set(merged) & set(features)
    if overlap:
        raise invalid_argument(
            f"Features in 'context' must not appear in examples. Received both: {sorted(overlap)}"
        )
    merged.update(features)
    return tf.train.Example(
        features=tf.train.Features(
            feature={name: _feature(name, value) for name, value in merged.items()}
        )
    )


def example_to_json(example: tf.train.Example) -> dict[str, Any]:
    """A `tf.train.Example` as TF Serving's JSON example (the inverse of `example_from_json`)."""
    out = {}
    for name, feature in example.features.feature.items():
        kind = feature.WhichOneof("kind")
        if kind == "bytes_list":
            values = [_encode_bytes(v, False) for v in feature.bytes_list.value]
        elif kind == "int64_list":
            values = list(feature.int64_list.value)
        else:
            values = list(feature.float_list.value)
        out[name] = values[0] if len(values) == 1 else values
    return out
