"""Polyharmonic spline interpolation: TensorFlow Addons' `interpolate_spline`
(TensorFlow-only: `tf.linalg.solve`).

The interpolant is `f(x) = sum_i w_i phi(|x - c_i|) + v^T [x, 1]` over the centres `c_i`
(https://en.wikipedia.org/wiki/Polyharmonic_spline), with `phi(r) = r^k` for odd order `k`
and `r^k log r` for even `k` (order 2: the thin-plate spline). `w` and `v` solve the square
system that fits the training values exactly (or, with `regularization_weight > 0`, trades the
fit for smoothness) with `w` orthogonal to the linear part.
"""

from __future__ import annotations

import tensorflow as tf

from layers.image.checks import FLOAT_DTYPES

FLOOR = 1e-10  # smallest squared distance fed to the logarithm / root


def _squared_distances(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    """`(b, n, d)`, `(b, m, d)` -> `(b, n, m)` squared Euclidean distances."""
    x_sq = tf.reduce_sum(tf.square(x), axis=-1)[:, :, None]
    y_sq = tf.reduce_sum(tf.square(y), axis=-1)[:, None, :]
    return x_sq - 2.0 * tf.matmul(x, y, transpose_b=True) + y_sq


def _self_squared_distances(x: tf.Tensor) -> tf.Tensor:
    """`(b, n, d)` -> `(b, n, n)` squared distances among the rows, norms from the Gram
    diagonal (the rounding TFA's numbers carry: order 1 is sensitive to it)."""
    gram = tf.matmul(x, x, transpose_b=True)
    norms = tf.linalg.diag_part(gram)
    return norms[:, :, None] - 2.0 * gram + norms[:, None, :]


def _phi(squared: tf.Tensor, order: int) -> tf.Tensor:
    """The radial basis function of `order`, as a function of the *squared* distance."""
    safe = tf.maximum(squared, FLOOR)
    if order == 1:
        return tf.sqrt(safe)
    if order == 2:
        return 0.5 * squared * tf.math.log(safe)
    if order == 4:
        return 0.5 * tf.square(squared) * tf.math.log(safe)
    if order % 2 == 0:
        return 0.5 * tf.pow(safe, 0.5 * order) * tf.math.log(safe)
    return tf.pow(safe, 0.5 * order)


def _as_points(name: str, value, dims=None) -> tf.Tensor:
    tensor = tf.convert_to_tensor(value, name=name)
    if tensor.dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"`{name}` must be a float tensor. Received: {name}.dtype={tensor.dtype.name}"
        )
    if tensor.shape.rank != 3 or tensor.shape[-1] is None:
        shape = tuple(tensor.shape) if tensor.shape.rank is not None else None
        raise ValueError(
            f"`{name}` must have shape (batch, num_points, dims) with a known last dimension. "
            f"Received: {name}.shape={shape}"
        )
    if dims is not None and tensor.shape[-1] != dims:
        raise ValueError(
            f"`{name}` must have {dims} coordinates per point, as `train_points`. "
            f"Received: {name}.shape={tuple(tensor.shape)}"
        )
    return tensor


def interpolate_spline(
    train_points,
    train_values,
    query_points,
    order: int,
    regularization_weight=0.0,
    name: str = "interpolate_spline",
) -> tf.Tensor:
    """Polyharmonic spline interpolation, as `tfa.image.interpolate_spline`.

    Differentiable with respect to every input except `order`.

    Args:
        train_points: float `(batch, n, d)` centres.
        train_values: float `(batch, n, k)` values at the centres.
        query_points: float `(batch, m, d)` points to evaluate.
        order: a positive integer: 1 (`phi = r`), 2 (thin-plate, `r^2 log r`), 3 (`r^3`), ...
        regularization_weight: >= 0; 0 interpolates exactly, a small value such as 0.001
            smooths. Defaults to 0.
        name: name scope of the op.

    Returns:
        `(batch, m, k)` values of the interpolant at `query_points`.

    Example:

    ```python
    values = interpolate_spline(centres, values_at_centres, queries, order=2)
    ```
    """
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ValueError(f"`order` must be a positive integer. Received: order={order!r}")
    if isinstance(regularization_weight, int | float) and regularization_weight < 0:
        raise ValueError(
            "`regularization_weight` must be >= 0. "
            f"Received: regularization_weight={regularization_weight!r}"
        )
    with tf.name_scope(name or "interpolate_spline"):
        centres = _as_points("train_points", train_points)
        dims = centres.shape[-1]
        values = _as_points("train_values", train_values)
        queries = _as_points("query_points", query_points, dims)
        num_values = values.shape[-1]
        batch, count = tf.shape(centres)[0], tf.shape(centres)[1]
        kernel = _phi(_self_squared_distances(centres), order)
        if not isinstance(regularization_weight, int | float) or regularization_weight > 0:
            kernel += tf.cast(regularization_weight, centres.dtype) * tf.eye(
                count, dtype=centres.dtype
            )
        linear = tf.concat([centres, tf.ones_like(centres[..., :1])], axis=-1)  # (b, n, d + 1)
        top = tf.concat([kernel, linear], axis=2)
        bottom = tf.concat(
            [tf.transpose(linear, [0, 2, 1]), tf.zeros([batch, dims + 1, dims + 1], centres.dtype)],
            axis=2,
        )
        rhs = tf.concat([values, tf.zeros([batch, dims + 1, num_values], values.dtype)], axis=1)
        solution = tf.linalg.solve(tf.concat([top, bottom], axis=1), rhs)
        weights, linear_weights = solution[:, :count], solution[:, count:]
        radial = tf.matmul(_phi(_squared_distances(queries, centres), order), weights)
        padded = tf.concat([queries, tf.ones_like(queries[..., :1])], axis=-1)
        return radial + tf.matmul(padded, linear_weights)
