"""NumPy arrays to and from `TensorProto`, with a fast path for numeric arrays.

`tf.make_tensor_proto` and `tf.make_ndarray` handle every dtype but cost tens of microseconds
per call, a large share of a small gRPC request. Numeric arrays travel as `tensor_content`
(raw little-endian bytes, what `make_tensor_proto` writes for them too) and are built and read
here directly; strings, and protos holding typed value lists (`float_val`, ... as TF Serving
writes), go through TensorFlow's functions.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2

_NUMERIC_KINDS = "biufc"
_DIM = tensor_shape_pb2.TensorShapeProto.Dim


def to_tensor_proto(value) -> tensor_pb2.TensorProto:
    """A `TensorProto` of `value` (array-like), as `tf.make_tensor_proto` makes it.

    Args:
        value: an array, nested lists or a scalar; `str` values are encoded as UTF-8.

    Example:

    ```python
    proto = to_tensor_proto(np.zeros((2, 3), np.float32))
    ```
    """
    array = np.asarray(value)
    if array.dtype.kind not in _NUMERIC_KINDS or array.dtype.byteorder == ">":
        if array.dtype.kind == "U":
            array = np.char.encode(array, "utf-8")
        return tf.make_tensor_proto(array)
    proto = tensor_pb2.TensorProto(
        dtype=tf.as_dtype(array.dtype).as_datatype_enum,
        tensor_content=np.ascontiguousarray(array).tobytes(),
    )
    proto.tensor_shape.dim.extend(_DIM(size=d) for d in array.shape)
    return proto


def from_tensor_proto(proto: tensor_pb2.TensorProto) -> np.ndarray:
    """The NumPy array a `TensorProto` holds, as `tf.make_ndarray` returns it.

    Example:

    ```python
    array = from_tensor_proto(response.outputs["logits"])
    ```
    """
    dtype = tf.as_dtype(proto.dtype)
    if proto.tensor_content and dtype.is_numpy_compatible and dtype != tf.string:
        numpy_dtype = np.dtype(dtype.as_numpy_dtype)
        if numpy_dtype.kind in _NUMERIC_KINDS:
            shape = [d.size for d in proto.tensor_shape.dim]
            array = np.frombuffer(proto.tensor_content, dtype=numpy_dtype)
            return array.reshape(shape).copy()
    return tf.make_ndarray(proto)
