"""Cutout: TensorFlow Addons' `cutout` and `random_cutout` (DeVries & Taylor, "Improved
Regularization of Convolutional Neural Networks with Cutout", https://arxiv.org/abs/1708.04552;
TensorFlow-only).

As in TFA, the mask size is fixed (even sizes only) and `offset` is the mask's *centre*: rows
`[cy - h/2, cy + h/2)` and columns `[cx - w/2, cx + w/2)`, clipped to the image.
"""

from __future__ import annotations

import tensorflow as tf

from layers.image.checks import as_image


def _mask_size(mask_size) -> tf.Tensor:
    size = tf.convert_to_tensor(mask_size, name="mask_size")
    if not size.dtype.is_integer:
        raise TypeError(
            f"`mask_size` must be integers. Received: mask_size.dtype={size.dtype.name}"
        )
    if size.shape.rank not in (0, 1) or (size.shape.rank == 1 and size.shape[0] not in (2, None)):
        raise ValueError(
            "`mask_size` must be an integer or a pair (height, width). "
            f"Received: mask_size.shape={tuple(size.shape)}"
        )
    try:
        concrete = tf.get_static_value(size)
    except TypeError:
        concrete = None
    if concrete is not None and ((concrete % 2 != 0).any() or (concrete < 0).any()):
        raise ValueError(
            f"`mask_size` must be even and >= 0. Received: mask_size={concrete.tolist()}"
        )
    size = tf.cast(size, tf.int32)
    return tf.stack([size, size]) if size.shape.rank == 0 else size


def cutout(images, mask_size, offset=(0, 0), constant_values=0) -> tf.Tensor:
    """Fills a `mask_size` rectangle centred at `offset` with `constant_values`, as
    `tfa.image.cutout`.

    Args:
        images: `(N, H, W, C)` tensor.
        mask_size: even integer or pair `(height, width)` of even integers.
        offset: the mask centre `(y, x)`, for every image, or one per image (shape `(N, 2)`).
            Defaults to `(0, 0)`.
        constant_values: the fill value. Defaults to 0.

    Returns:
        The images, shape and dtype of `images`.

    Example:

    ```python
    masked = cutout(images, mask_size=(8, 8), offset=(16, 16))
    ```
    """
    with tf.name_scope("cutout"):
        images = as_image("images", images, ranks=(4,))
        half = _mask_size(mask_size) // 2
        centre = tf.cast(tf.convert_to_tensor(offset, name="offset"), tf.int32)
        if centre.shape.rank not in (1, 2) or centre.shape[-1] not in (2, None):
            raise ValueError(
                "`offset` must have shape (2,) or (batch, 2). "
                f"Received: offset.shape={tuple(centre.shape)}"
            )
        centre = tf.reshape(centre, [-1, 2])
        shape = tf.shape(images)
        rows = tf.range(shape[1])[None, :, None]
        cols = tf.range(shape[2])[None, None, :]
        cy, cx = centre[:, 0, None, None], centre[:, 1, None, None]
        inside = (rows >= cy - half[0]) & (rows < cy + half[0])
        inside = inside & (cols >= cx - half[1]) & (cols < cx + half[1])
        fill = tf.cast(constant_values, images.dtype)
        return tf.where(inside[..., None], fill, images)


def random_cutout(images, mask_size, constant_values=0, seed: int | None = None) -> tf.Tensor:
    """`cutout` at a random centre per image, as `tfa.image.random_cutout`.

    Each centre is drawn uniformly so that the whole mask fits in the image
    (`[h/2, H - h/2)` rows, `[w/2, W - w/2)` columns); a mask as large as the image or larger
    is centred.

    Args:
        images: `(N, H, W, C)` tensor.
        mask_size: even integer or pair `(height, width)` of even integers.
        constant_values: the fill value. Defaults to 0.
        seed: operation seed of the draws (`tf.random.uniform`).

    Returns:
        The images, shape and dtype of `images`.

    Example:

    ```python
    masked = random_cutout(images, mask_size=16, seed=1)
    ```
    """
    images = as_image("images", images, ranks=(4,))
    size = _mask_size(mask_size)
    shape = tf.shape(images)

    def centre(length, extent):
        half = length // 2
        drawn = tf.random.uniform(
            [shape[0]], half, tf.maximum(extent - half, half + 1), tf.int32, seed=seed
        )
        return tf.where(length >= extent, tf.fill([shape[0]], extent // 2), drawn)

    offset = tf.stack([centre(size[0], shape[1]), centre(size[1], shape[2])], axis=1)
    return cutout(images, size, offset, constant_values)
