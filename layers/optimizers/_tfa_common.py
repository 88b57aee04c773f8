"""Shared pieces of the optimizers that reproduce TensorFlow Addons' update rules.

TFA's optimizers were Keras 2 `OptimizerV2`s: a sparse (`tf.IndexedSlices`) gradient had its
repeated rows summed first, and each optimizer then decided which slots and which rows of the
variable move. `densify` gives the summed gradient as a dense tensor plus the mask of the rows
it touched (static shapes, so the sparse path compiles under XLA), and each optimizer applies
TFA's rule for untouched rows with `where_touched`.
"""

from __future__ import annotations

import re

import keras
import tensorflow as tf
from keras import ops

from layers.validation import check_non_negative_float
from layers.xla import compiling_with_xla


def densify(gradient, variable):
    """`(dense_gradient, touched)`: the gradient as a dense tensor, and for a sparse one the
    `[rows, 1, ..., 1]` mask of the rows it holds (`None` for a dense gradient).

    Repeated rows of an `IndexedSlices` are summed, as Keras 2 optimizers did before a sparse
    update. TensorFlow-only (`tf.IndexedSlices`, `tf.math.unsorted_segment_sum`).
    """
    dtype = variable.dtype
    if not isinstance(gradient, tf.IndexedSlices):
        return ops.cast(gradient, dtype), None
    rows = variable.shape[0]
    values = tf.cast(gradient.values, dtype)
    dense = tf.math.unsorted_segment_sum(values, gradient.indices, rows)
    hits = tf.math.unsorted_segment_sum(tf.ones_like(gradient.indices), gradient.indices, rows)
    touched = tf.reshape(hits > 0, [rows] + [1] * (len(variable.shape) - 1))
    return dense, touched


def where_touched(touched, new, old):
    """`new` on the rows a sparse gradient touched and `old` elsewhere; `new` for dense ones."""
    if touched is None:
        return new
    return tf.where(touched, new, old)


def check_learning_rate(learning_rate) -> None:
    """A number must be non-negative; schedules and callables are taken as they are."""
    if isinstance(learning_rate, int | float) and not isinstance(learning_rate, bool):
        check_non_negative_float("learning_rate", learning_rate)


def check_hyper_parameter(name: str, value) -> None:
    """A number (TFA's hyper-parameters may also be schedules or callables) must be >= 0."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        check_non_negative_float(name, value)
    elif not (
        isinstance(value, keras.optimizers.schedules.LearningRateSchedule) or callable(value)
    ):
        raise TypeError(
            f"`{name}` must be a number, a `LearningRateSchedule` or a callable. "
            f"Received: {name}={value!r}"
        )


def current_value(value, iterations, dtype):
    """A hyper-parameter's value at this step: a schedule is called with the iteration count,
    another callable with no argument, as TFA's `_decayed_wd` and `_get_hyper` did."""
    if isinstance(value, keras.optimizers.schedules.LearningRateSchedule):
        value = value(iterations)
    elif callable(value):
        value = value()
    return ops.cast(value, dtype)


def serialize_hyper_parameter(value):
    """A config entry for a number or a schedule."""
    if isinstance(value, keras.optimizers.schedules.LearningRateSchedule):
        return keras.optimizers.schedules.serialize(value)
    return value


def deserialize_hyper_parameter(value, custom_objects=None):
    """The inverse of `serialize_hyper_parameter`."""
    if isinstance(value, dict):
        return keras.optimizers.schedules.deserialize(value, custom_objects=custom_objects)
    return value


def check_patterns(name: str, patterns):
    """`None` or a list of regular expressions (TFA's variable-name filters)."""
    if patterns is None:
        return None
    if isinstance(patterns, str) or not all(isinstance(p, str) for p in patterns):
        raise TypeError(
            f"`{name}` must be a list of regular expressions. Received: {name}={patterns!r}"
        )
    return list(patterns)


def matches_any(variable, patterns) -> bool:
    """Whether a variable's name or path (`"dense/kernel"`, what TFA's names looked like)
    matches one of the regular expressions."""
    if not patterns:
        return False
    names = {variable.name, getattr(variable, "path", variable.name)}
    return any(re.search(pattern, name) for pattern in patterns for name in names)


def squared_norm(x):
    """`sum(x**2)`. Under XLA a dot product: XLA on CPU compiles a reduction over a large
    weight into a slow loop and a dot product into a fast one; without XLA the reduction is
    the faster kernel."""
    if not compiling_with_xla():
        return ops.sum(ops.square(x))
    flat = ops.reshape(x, (-1,))
    return ops.dot(flat, flat)
