"""Infers feature specs from data and turns one example's values into a `tf.train.Example`.

Storage choices (why they are fast to read): every number is stored as its little-endian bytes in
a one-element bytes list, never as an int64 or float list. `tf.io.parse_example` then only copies
one string per feature and `tf.io.decode_raw` turns a whole batch into a tensor in one vectorised
op; values come back bit-exact for every dtype (float64, uint64, float16, complex, bool).
Variable-length features use the same bytes: the byte length gives the row length.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import tensorflow as tf

from tfrecords.errors import SchemaError
from tfrecords.schema import FeatureSpec


def spec_from_override(name: str, override) -> dict:
    """Normalises one `schema=` entry (`"png"` or a dict of `FeatureSpec` fields)."""
    if isinstance(override, FeatureSpec):
        return override.to_json()
    if isinstance(override, str):
        return {"encoding": override}
    if isinstance(override, Mapping):
        unknown = set(override) - {"dtype", "shape", "encoding"}
        if unknown:
            raise ValueError(
                f"`schema[{name!r}]` accepts the keys 'dtype', 'shape' and 'encoding'. "
                f"Received: {dict(override)!r}"
            )
        return dict(override)
    raise ValueError(
        f"`schema[{name!r}]` must be an encoding name, a dict or a FeatureSpec. "
        f"Received: {override!r}"
    )


def _string_kind(values) -> str | None:
    kinds = {type(v) for v in values}
    if kinds <= {str, np.str_}:
        return "str"
    if kinds <= {bytes, np.bytes_}:
        return "bytes"
    return None


def _variable_length_spec(name: str, rows) -> FeatureSpec:
    """Spec of a feature whose examples are 1-D-or-more arrays of different lengths."""
    first = None
    for row in rows:
        row = np.asarray(row)
        if row.ndim == 0:
            raise ValueError(
                f"Feature {name!r} mixes scalars and sequences; every example of a "
                f"variable-length feature must be an array of rank >= 1. Received: {row!r}"
            )
        if first is None:
            first = row
        elif row.shape[1:] != first.shape[1:]:
            raise ValueError(
                f"Variable-length feature {name!r} may vary only in its first axis. Received "
                f"example shapes {first.shape} and {row.shape}"
            )
    if first is None:
        raise ValueError(f"Feature {name!r} has no examples to infer its dtype from.")
    if first.dtype.kind in "US" or first.dtype == object:
        kind = _string_kind(np.concatenate([np.asarray(r, object).ravel() for r in rows]))
        if kind is None or first.ndim != 1:
            raise ValueError(f"Feature {name!r}: cannot store sequences of {first.dtype}.")
        return FeatureSpec(kind, (None,))
    dtype = np.result_type(*[np.asarray(r).dtype for r in rows])
    return FeatureSpec(dtype.name, (None, *first.shape[1:]))


def infer_column_spec(name: str, column) -> FeatureSpec:
    """Spec of a whole column (the first axis indexes examples)."""
    array = column if isinstance(column, np.ndarray) else as_column(column)
    if array.ndim == 0:
        raise ValueError(
            f"Feature {name!r} must have one entry per example (rank >= 1). Received a scalar."
        )
    if array.dtype.kind == "U":
        return FeatureSpec("str", array.shape[1:])
    if array.dtype.kind == "S":
        return FeatureSpec("bytes", array.shape[1:])
    if array.dtype == object:
        if array.ndim == 1:
            kind = _string_kind(array)
            if kind is not None:
                return FeatureSpec(kind, ())
            return _variable_length_spec(name, array)
        kind = _string_kind(array.ravel())
        if kind is None:
            raise ValueError(f"Feature {name!r}: cannot store an object array of {array.shape}.")
        return FeatureSpec(kind, array.shape[1:])
    return FeatureSpec(array.dtype.name, array.shape[1:])


def infer_value_spec(name: str, value) -> FeatureSpec:
    """Spec from a single example's value (iterables and datasets); fixed shape unless told."""
    if isinstance(value, str | np.str_):
        return FeatureSpec("str", ())
    if isinstance(value, bytes | np.bytes_):
        return FeatureSpec("bytes", ())
    return infer_column_spec(name, np.asarray(value)[np.newaxis])


def as_column(column) -> np.ndarray:
    """A list of equal-shape arrays becomes one array; of unequal ones an object array."""
    try:
        return np.asarray(column)
    except ValueError:
        array = np.empty(len(column), dtype=object)
        array[:] = [np.asarray(row) for row in column]
        return array


def merge_override(name: str, inferred: FeatureSpec | None, override: dict) -> FeatureSpec:
    fields = inferred.to_json() if inferred is not None else {"dtype": None, "shape": []}
    fields.update(override)
    if fields["dtype"] is None:
        raise ValueError(f"`schema[{name!r}]` must give a 'dtype' for a feature with no data.")
    spec = FeatureSpec.from_json(fields)
    check_image_spec(name, spec)
    return spec


def check_image_spec(name: str, spec: FeatureSpec) -> None:
    if not spec.is_image:
        return
    allowed = ("uint8", "uint16") if spec.encoding == "png" else ("uint8",)
    channels = (1, 3, 4) if spec.encoding == "png" else (1, 3)
    if spec.dtype not in allowed or len(spec.shape) != 3 or spec.shape[2] not in channels:
        raise SchemaError(
            f"{spec.encoding.upper()} encoding of feature {name!r} needs a fixed "
            f"(height, width, channels) shape with channels in {channels} and dtype in "
            f"{allowed}. Received: dtype={spec.dtype!r}, shape={spec.shape}"
        )
    if None in spec.shape:
        raise SchemaError(f"Image feature {name!r} must have a fixed shape. Received {spec.shape}")


def _cast(name: str, value, dtype: np.dtype) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype == dtype:
        return array
    cast = array.astype(dtype)
    # Refuse casts that change a value (e.g. 300 into uint8, 0.5 into int32): nothing is lost.
    if not np.array_equal(cast.astype(array.dtype), array, equal_nan=array.dtype.kind in "fc"):
        raise ValueError(
            f"Feature {name!r} is declared {dtype.name} but holds values of {array.dtype} that "
            f"{dtype.name} cannot represent exactly. Received: {array!r}"
        )
    return cast


def _check_shape(name: str, spec: FeatureSpec, shape: tuple) -> None:
    if spec.is_ragged:
        ok = len(shape) == len(spec.shape) and shape[1:] == spec.shape[1:]
    else:
        ok = shape == spec.shape
    if not ok:
        raise ValueError(
            f"Feature {name!r} has shape {tuple(spec.shape)} in the schema but an example of "
            f"shape {shape}. Declare variable-length features with a leading None, e.g. "
            f"schema={{{name!r}: {{'shape': [None]}}}}."
        )


def encode_value(name: str, spec: FeatureSpec, value) -> tf.train.Feature:
    """One example's value as a `tf.train.Feature`, checked against `spec`."""
    if spec.is_string:
        array = np.asarray(value, dtype=object)
        _check_shape(name, spec, array.shape)
        items = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in array.ravel()]
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=items))
    dtype = np.dtype(spec.dtype).newbyteorder("<")
    array = _cast(name, value, dtype)
    _check_shape(name, spec, array.shape)
    if spec.encoding == "png":
        data = tf.io.encode_png(array).numpy()
    elif spec.encoding == "jpeg":
        data = tf.io.encode_jpeg(array, quality=95).numpy()
    else:
        data = np.ascontiguousarray(array).tobytes()
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[data]))


def encode_example(specs: dict[str, FeatureSpec], values: Mapping) -> bytes:
    """One serialised `tf.train.Example` holding exactly the features of `specs`."""
    if set(values) != set(specs):
        raise ValueError(
            f"Every example must hold the features {sorted(specs)}. Received an example with "
            f"{sorted(values)}"
        )
    feature = {name: encode_value(name, spec, values[name]) for name, spec in specs.items()}
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()
