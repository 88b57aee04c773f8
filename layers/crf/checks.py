"""Input checks shared by the CRF functions (TensorFlow-only).

Shapes are checked wherever they are known when the function is traced. Values (tag indices,
sequence lengths) are checked on the host when the tensors are concrete (eager calls), raising
`ValueError`; inside a graph the same checks become `tf.debugging` assertions, which raise
`tf.errors.InvalidArgumentError` when the graph runs (under XLA they are compiled away).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def _is_concrete(tensor) -> bool:
    return isinstance(tensor, tf.Tensor) and hasattr(tensor, "numpy") and tf.executing_eagerly()


def as_potentials(name: str, value) -> tf.Tensor:
    """`value` as a floating `[batch_size, max_seq_len, num_tags]` tensor."""
    tensor = tf.convert_to_tensor(value)
    if not tensor.dtype.is_floating:
        raise TypeError(
            f"`{name}` must be a floating tensor of unary potentials. "
            f"Received: {name}.dtype={tensor.dtype.name}"
        )
    if tensor.shape.rank is not None and tensor.shape.rank != 3:
        raise ValueError(
            f"`{name}` must have shape [batch_size, max_seq_len, num_tags]. "
            f"Received: {name}.shape={tuple(tensor.shape)}"
        )
    return tensor


def as_transition_params(value, num_tags: int | None, dtype: tf.DType) -> tf.Tensor:
    """`value` as a `[num_tags, num_tags]` tensor of `dtype` (its shape checked when known)."""
    tensor = tf.cast(value, dtype)
    shape = tensor.shape
    square = shape.rank is None or (
        shape.rank == 2 and (shape[0] is None or shape[1] is None or shape[0] == shape[1])
    )
    matches = num_tags is None or shape.rank is None or all(d in (None, num_tags) for d in shape)
    if not square or not matches:
        expected = f"({num_tags}, {num_tags})" if num_tags is not None else "(num_tags, num_tags)"
        raise ValueError(
            f"`transition_params` must have shape {expected}, [num_tags, num_tags] with the "
            f"last dimension of the potentials. Received: transition_params.shape={tuple(shape)}"
        )
    return tensor


def as_tag_indices(name: str, value, potentials: tf.Tensor) -> tf.Tensor:
    """`value` as int32 `[batch_size, max_seq_len]` tag indices in `[0, num_tags)`."""
    tensor = tf.convert_to_tensor(value)
    if not tensor.dtype.is_integer:
        raise TypeError(f"`{name}` must hold integer tag indices. Received: dtype={tensor.dtype}")
    tensor = tf.cast(tensor, tf.int32)
    if tensor.shape.rank is not None and tensor.shape.rank != 2:
        raise ValueError(
            f"`{name}` must have shape [batch_size, max_seq_len]. "
            f"Received: {name}.shape={tuple(tensor.shape)}"
        )
    num_tags = potentials.shape[-1]
    if _is_concrete(tensor) and num_tags is not None:
        array = tensor.numpy()
        bad = array[(array < 0) | (array >= num_tags)]
        if bad.size:
            raise ValueError(
                f"`{name}` must hold tag indices in [0, num_tags={num_tags}). "
                f"Received: {name} with value {int(bad[0])}"
            )
        return tensor
    if _is_concrete(tensor):
        return tensor
    message = f"`{name}` must hold tag indices in [0, num_tags)"
    checks = [
        tf.debugging.assert_non_negative(tensor, message=message),
        tf.debugging.assert_less(tensor, tf.shape(potentials)[-1], message=message),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(tensor)


def as_sequence_lengths(name: str, value, potentials: tf.Tensor) -> tf.Tensor:
    """`value` as an int32 `[batch_size]` vector in `[0, max_seq_len]`."""
    tensor = tf.convert_to_tensor(value)
    if not tensor.dtype.is_integer:
        raise TypeError(f"`{name}` must hold integer lengths. Received: dtype={tensor.dtype}")
    tensor = tf.cast(tensor, tf.int32)
    if tensor.shape.rank is not None and tensor.shape.rank != 1:
        raise ValueError(
            f"`{name}` must have shape [batch_size]. Received: {name}.shape={tuple(tensor.shape)}"
        )
    max_seq_len = potentials.shape[1]
    if _is_concrete(tensor) and max_seq_len is not None:
        array = tensor.numpy()
        bad = array[(array < 0) | (array > max_seq_len)]
        if bad.size:
            raise ValueError(
                f"`{name}` must hold lengths in [0, max_seq_len={max_seq_len}]. "
                f"Received: {name} with value {int(np.asarray(bad)[0])}"
            )
        return tensor
    if _is_concrete(tensor):
        return tensor
    message = f"`{name}` must hold lengths in [0, max_seq_len]"
    checks = [
        tf.debugging.assert_non_negative(tensor, message=message),
        tf.debugging.assert_less_equal(tensor, tf.shape(potentials)[1], message=message),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(tensor)


def as_tag_bitmap(value, potentials: tf.Tensor) -> tf.Tensor:
    """`value` as a boolean tensor shaped like `potentials`."""
    tensor = tf.cast(value, tf.bool)
    if not tensor.shape.is_compatible_with(potentials.shape):
        raise ValueError(
            "`tag_bitmap` must have the shape of the potentials, "
            f"{tuple(potentials.shape)}. Received: tag_bitmap.shape={tuple(tensor.shape)}"
        )
    return tensor
