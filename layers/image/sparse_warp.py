"""Warping by sparse control points: TensorFlow Addons' `sparse_image_warp`
(TensorFlow-only).

The displacements of the control points are spread to a dense flow by `interpolate_spline`
(evaluated at every pixel), and the image is warped by that flow with `dense_image_warp`.
"""

from __future__ import annotations

import tensorflow as tf

from layers.image.checks import FLOAT_DTYPES, as_image, from_4d, to_4d
from layers.image.spline import interpolate_spline
from layers.image.warping import dense_image_warp


def _boundary_points(height, width, per_edge: int) -> tf.Tensor:
    """Evenly spaced `(y, x)` points on the image border (corners included), row-major."""
    height = tf.cast(height, tf.float32)
    width = tf.cast(width, tf.float32)
    ys, xs = tf.meshgrid(
        tf.linspace(0.0, height - 1.0, per_edge + 2),
        tf.linspace(0.0, width - 1.0, per_edge + 2),
        indexing="ij",
    )
    on_border = (
        tf.equal(xs, 0.0)
        | tf.equal(xs, width - 1.0)
        | tf.equal(ys, 0.0)
        | tf.equal(ys, height - 1.0)
    )
    return tf.stack([tf.boolean_mask(ys, on_border), tf.boolean_mask(xs, on_border)], axis=-1)


def sparse_image_warp(
    image,
    source_control_point_locations,
    dest_control_point_locations,
    interpolation_order: int = 2,
    regularization_weight=0.0,
    num_boundary_points: int = 0,
    name: str = "sparse_image_warp",
):
    """Warps image(s) so that source control points move to their destinations, as
    `tfa.image.sparse_image_warp`.

    Args:
        image: float `(N, H, W, C)`, `(H, W, C)` or `(H, W)` tensor (a single image is a batch
            of one).
        source_control_point_locations: float `(N, P, 2)` `(y, x)` points.
        dest_control_point_locations: float `(N, P, 2)` `(y, x)` points.
        interpolation_order: order of the spline (see `interpolate_spline`). Defaults to 2.
        regularization_weight: smoothness weight of the spline. Defaults to 0.
        num_boundary_points: zero-flow points pinned on each image edge: 0 none, 1 the four
            corners, `n` the corners and `n - 1` more per edge. Defaults to 0.
        name: name scope of the op.

    Returns:
        `(warped_image, flow_field)`: the warped image(s), shape and dtype of `image`, and
        the dense `(N, H, W, 2)` flow.

    Example:

    ```python
    warped, flow = sparse_image_warp(image, [[[4.0, 4.0]]], [[[5.0, 6.0]]], num_boundary_points=2)
    ```
    """
    if not isinstance(num_boundary_points, int) or num_boundary_points < 0:
        raise ValueError(
            "`num_boundary_points` must be an integer >= 0. "
            f"Received: num_boundary_points={num_boundary_points!r}"
        )
    with tf.name_scope(name or "sparse_image_warp"):
        tensor = as_image("image", image, dtypes=FLOAT_DTYPES)
        batch_image = to_4d(tensor)
        source = tf.convert_to_tensor(
            source_control_point_locations, name="source_control_point_locations"
        )
        dest = tf.convert_to_tensor(
            dest_control_point_locations, name="dest_control_point_locations"
        )
        if not source.shape.is_compatible_with(dest.shape):
            raise ValueError(
                "`dest_control_point_locations` must have the shape of "
                f"`source_control_point_locations` {tuple(source.shape)}. "
                f"Received: dest_control_point_locations.shape={tuple(dest.shape)}"
            )
        flows = dest - source
        shape = tf.shape(batch_image)
        batch, height, width = shape[0], shape[1], shape[2]
        if num_boundary_points > 0:
            border = _boundary_points(height, width, num_boundary_points - 1)
            border = tf.tile(tf.cast(border, dest.dtype)[None], [batch, 1, 1])
            dest = tf.concat([dest, border], axis=1)
            flows = tf.concat([flows, tf.zeros_like(border)], axis=1)
        ys, xs = tf.meshgrid(tf.range(height), tf.range(width), indexing="ij")
        pixels = tf.cast(tf.reshape(tf.stack([ys, xs], axis=-1), [-1, 2]), batch_image.dtype)
        pixels = tf.tile(pixels[None], [batch, 1, 1])
        dense = interpolate_spline(dest, flows, pixels, interpolation_order, regularization_weight)
        dense = tf.reshape(dense, [batch, height, width, 2])
        warped = dense_image_warp(batch_image, dense)
        return from_4d(warped, tensor), dense
