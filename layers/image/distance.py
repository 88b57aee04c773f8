"""Euclidean distance transform: TensorFlow Addons' `euclidean_dist_transform` (TFA's C++
kernel, here written with TensorFlow ops; TensorFlow-only).

Exact Euclidean distance from every non-zero pixel to the nearest zero pixel of its image and
channel (zero pixels get 0), separable as in Felzenszwalb & Huttenlocher, "Distance Transforms
of Sampled Functions" (Theory of Computing, 2012): a pass along each column gives the distance
to the nearest zero of the column (cumulative max / min of zero positions), then a pass along
each row takes `min_x' (x - x')^2 + column_distance(x')^2` for every pixel.
"""

from __future__ import annotations

import tensorflow as tf

from layers.image.checks import FLOAT_DTYPES, as_image, from_4d, to_4d


def _column_distance(zero: tf.Tensor) -> tf.Tensor:
    """`(B, H, W)` bool -> float32 distance along axis 1 to the nearest True (inf if none)."""
    height = tf.shape(zero)[1]
    rows = tf.range(height)[None, :, None]
    big = tf.int32.max // 4
    above = tf.where(zero, rows, -big)
    above = tf.scan(tf.maximum, tf.transpose(above, [1, 0, 2]))
    below = tf.where(zero, rows, 2 * big)
    below = tf.reverse(tf.scan(tf.minimum, tf.reverse(tf.transpose(below, [1, 0, 2]), [0])), [0])
    rows_t = tf.transpose(rows, [1, 0, 2])
    nearest = tf.minimum(rows_t - above, below - rows_t)
    nearest = tf.transpose(nearest, [1, 0, 2])
    return tf.where(nearest >= big, float("inf"), tf.cast(nearest, tf.float32))


def _row_pass(column_distance: tf.Tensor) -> tf.Tensor:
    """`(B, H, W)` -> squared distance `min_x' (x - x')^2 + d(x')^2`, one image at a time."""
    width = tf.shape(column_distance)[2]
    cols = tf.cast(tf.range(width), tf.float32)
    offsets = tf.square(cols[:, None] - cols[None, :])  # (x, x')

    def one(d):  # d: (H, W)
        return tf.reduce_min(tf.square(d)[:, None, :] + offsets[None], axis=-1)

    return tf.map_fn(one, column_distance, fn_output_signature=tf.float32)


def euclidean_dist_transform(images, dtype=tf.float32, name: str | None = None) -> tf.Tensor:
    """Euclidean distance transform of binary image(s), as `tfa.image.euclidean_dist_transform`
    (the same as `scipy.ndimage.distance_transform_edt`, per image and channel).

    Args:
        images: uint8 `(N, H, W, C)`, `(H, W, C)` or `(H, W)` tensor; 0 marks the targets.
        dtype: float16, float32 or float64 dtype of the output. Defaults to float32.
        name: name scope of the op.

    Returns:
        The distance of every pixel to the nearest zero of its image and channel, shape of
        `images`; an image and channel without any zero is filled with `sqrt(dtype.max)` (as
        TFA does; TFA's docstring says `dtype.max`).

    Example:

    ```python
    dist = euclidean_dist_transform(tf.constant([[0, 1, 1]], tf.uint8))  # [[0, 1, 2]]
    ```
    """
    with tf.name_scope(name or "euclidean_distance_transform"):
        tensor = as_image("images", images, dtypes=(tf.uint8,))
        dtype = tf.as_dtype(dtype)
        if dtype not in FLOAT_DTYPES:
            raise TypeError(
                f"`dtype` must be float16, float32 or float64. Received: dtype={dtype.name}"
            )
        batch = to_4d(tensor)
        shape = tf.shape(batch)
        planes = tf.reshape(tf.transpose(batch, [0, 3, 1, 2]), [-1, shape[1], shape[2]])
        squared = _row_pass(_column_distance(tf.equal(planes, 0)))
        work = tf.float64 if dtype == tf.float64 else tf.float32
        distance = tf.cast(tf.sqrt(tf.cast(squared, work)), dtype)
        # No zero in the plane: TFA's kernel gives the square root of the dtype's largest value.
        no_zero = tf.sqrt(tf.constant(dtype.max, dtype))
        distance = tf.where(tf.math.is_inf(distance), no_zero, distance)
        distance = tf.reshape(distance, [shape[0], shape[3], shape[1], shape[2]])
        return from_4d(tf.transpose(distance, [0, 2, 3, 1]), tensor)
