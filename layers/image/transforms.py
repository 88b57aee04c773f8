"""Projective image transforms: TensorFlow Addons' `transform`, `rotate`, `translate`,
`shear_x`, `shear_y`, `translate_xy` and the helpers that build their transform vectors.

A transform is TFA's flat vector `[a0, a1, a2, b0, b1, b2, c0, c1]` (or a batch of them,
shape `(N, 8)`): it maps an *output* pixel `(x, y)` to the *input* point
`((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)` with `k = c0 x + c1 y + 1`. The sampling
runs in TensorFlow's own kernel, `tf.raw_ops.ImageProjectiveTransformV3` (TensorFlow-only).
"""

from __future__ import annotations

import tensorflow as tf

from layers.image.checks import as_image, check_lower_choice, from_4d, to_4d

IMAGE_DTYPES = (tf.uint8, tf.int32, tf.int64, tf.float16, tf.float32, tf.float64)
INTERPOLATIONS = ("nearest", "bilinear")
FILL_MODES = ("constant", "reflect", "wrap", "nearest")


def _as_transforms(value) -> tf.Tensor:
    transforms = tf.convert_to_tensor(value, dtype=tf.float32, name="transforms")
    rank = transforms.shape.rank
    if rank not in (1, 2) or transforms.shape[-1] not in (8, None):
        raise ValueError(
            "`transforms` must have shape (8,) or (num_images, 8). "
            f"Received: transforms.shape={tuple(transforms.shape) if rank is not None else None}"
        )
    return transforms[None] if rank == 1 else transforms


def transform(
    images,
    transforms,
    interpolation: str = "nearest",
    fill_mode: str = "constant",
    output_shape=None,
    name: str | None = None,
    fill_value=0.0,
) -> tf.Tensor:
    """Applies projective transform(s) to image(s), as `tfa.image.transform`.

    Args:
        images: `(N, H, W, C)`, `(H, W, C)` or `(H, W)` tensor of dtype uint8, int32, int64,
            float16, float32 or float64.
        transforms: a flat transform `[a0, a1, a2, b0, b1, b2, c0, c1]` (shape `(8,)`) for
            every image, or one per image (shape `(N, 8)`). It maps output points to input
            points (see the module docstring). No gradient flows into it.
        interpolation: `"nearest"` or `"bilinear"`. Defaults to `"nearest"`.
        fill_mode: how points outside the input are filled: `"constant"` (with
            `fill_value`), `"reflect"`, `"wrap"` or `"nearest"`. Defaults to `"constant"`.
        output_shape: `[height, width]` of the output. Defaults to the input's.
        name: name scope of the op.
        fill_value: the value used by `fill_mode="constant"`. Defaults to 0.

    Returns:
        The transformed image(s), of the dtype and rank of `images`.

    Example:

    ```python
    shifted = transform(images, [1.0, 0.0, -2.0, 0.0, 1.0, 0.0, 0.0, 0.0])  # 2 px right
    ```
    """
    with tf.name_scope(name or "transform"):
        image_tensor = as_image("images", images, dtypes=IMAGE_DTYPES)
        method = check_lower_choice("interpolation", interpolation, INTERPOLATIONS)
        mode = check_lower_choice("fill_mode", fill_mode, FILL_MODES)
        batch = to_4d(image_tensor)
        flat = _as_transforms(transforms)
        if output_shape is None:
            output_shape = tf.shape(batch)[1:3]
        output_shape = tf.convert_to_tensor(output_shape, tf.int32, name="output_shape")
        if not output_shape.shape.is_compatible_with([2]):
            raise ValueError(
                "`output_shape` must be [new_height, new_width]. "
                f"Received: output_shape.shape={tuple(output_shape.shape)}"
            )
        output = tf.raw_ops.ImageProjectiveTransformV3(
            images=batch,
            transforms=flat,
            output_shape=output_shape,
            fill_value=tf.convert_to_tensor(fill_value, tf.float32, name="fill_value"),
            interpolation=method,
            fill_mode=mode,
        )
        return from_4d(output, image_tensor)


def flat_transforms_to_matrices(transforms) -> tf.Tensor:
    """Flat transforms `(8,)` or `(N, 8)` -> `(N, 3, 3)` matrices (output to input points)."""
    flat = tf.reshape(_as_transforms(transforms), [-1, 8])
    ones = tf.ones([tf.shape(flat)[0], 1], flat.dtype)
    return tf.reshape(tf.concat([flat, ones], axis=1), [-1, 3, 3])


def matrices_to_flat_transforms(matrices) -> tf.Tensor:
    """`(3, 3)` or `(N, 3, 3)` matrices -> `(N, 8)` flat transforms (normalised by `m[2, 2]`)."""
    flat = tf.reshape(tf.convert_to_tensor(matrices, name="transform_matrices"), [-1, 9])
    return (flat / flat[:, 8:9])[:, :8]


def compose_transforms(transforms, name: str | None = None) -> tf.Tensor:
    """Composes flat transforms, as `tfa.image.compose_transforms`.

    Args:
        transforms: a non-empty list of transforms, each `(8,)` or `(N, 8)`.
        name: name scope of the op.

    Returns:
        `(N, 8)` transform; `transform(images, composed)` equals applying the given
        transforms to the image in order.

    Example:

    ```python
    both = compose_transforms([angles_to_projective_transforms(0.3, 32, 32), shift])
    ```
    """
    if not isinstance(transforms, list | tuple) or not transforms:
        raise ValueError(
            "`transforms` must be a non-empty list of transforms. "
            f"Received: transforms={transforms!r}"
        )
    with tf.name_scope(name or "compose_transforms"):
        composed = flat_transforms_to_matrices(transforms[0])
        for item in transforms[1:]:
            composed = tf.matmul(composed, flat_transforms_to_matrices(item))
        return matrices_to_flat_transforms(composed)


def angles_to_projective_transforms(
    angles, image_height, image_width, name: str | None = None
) -> tf.Tensor:
    """Transforms that rotate images about their centre, as
    `tfa.image.angles_to_projective_transforms`.

    Args:
        angles: a scalar angle in radians (counter-clockwise), or one per image (shape `(N,)`).
        image_height: height of the image(s).
        image_width: width of the image(s).
        name: name scope of the op.

    Returns:
        `(N, 8)` float32 transforms for `transform`.

    Example:

    ```python
    t = angles_to_projective_transforms([0.1, -0.2], 64.0, 64.0)  # shape (2, 8)
    ```
    """
    with tf.name_scope(name or "angles_to_projective_transforms"):
        angle_tensor = tf.convert_to_tensor(angles, tf.float32, name="angles")
        if angle_tensor.shape.rank not in (0, 1):
            raise ValueError(
                "`angles` must be a scalar or a vector (rank 0 or 1). "
                f"Received: angles.shape={tuple(angle_tensor.shape)}"
            )
        angle_tensor = tf.reshape(angle_tensor, [-1])
        height = tf.cast(image_height, tf.float32) - 1.0
        width = tf.cast(image_width, tf.float32) - 1.0
        cos, sin = tf.cos(angle_tensor), tf.sin(angle_tensor)
        x_offset = (width - (cos * width - sin * height)) / 2.0
        y_offset = (height - (sin * width + cos * height)) / 2.0
        zeros = tf.zeros_like(cos)
        return tf.stack([cos, -sin, x_offset, sin, cos, y_offset, zeros, zeros], axis=1)


def translations_to_projective_transforms(translations, name: str | None = None) -> tf.Tensor:
    """Transforms that shift images by `[dx, dy]`, as
    `tfa.image.translations_to_projective_transforms`.

    Args:
        translations: `[dx, dy]` for every image, or one pair per image (shape `(N, 2)`).
        name: name scope of the op.

    Returns:
        `(N, 8)` float32 transforms for `transform`.

    Example:

    ```python
    t = translations_to_projective_transforms([3.0, -1.0])  # 3 px right, 1 px up
    ```
    """
    with tf.name_scope(name or "translations_to_projective_transforms"):
        shifts = tf.convert_to_tensor(translations, tf.float32, name="translations")
        if shifts.shape.rank not in (1, 2) or shifts.shape[-1] not in (2, None):
            shape = tuple(shifts.shape) if shifts.shape.rank is not None else None
            raise ValueError(
                "`translations` must have shape (2,) or (num_images, 2). "
                f"Received: translations.shape={shape}"
            )
        shifts = tf.reshape(shifts, [-1, 2])
        ones = tf.ones_like(shifts[:, 0])
        zeros = tf.zeros_like(ones)
        columns = [ones, zeros, -shifts[:, 0], zeros, ones, -shifts[:, 1], zeros, zeros]
        return tf.stack(columns, axis=1)


def rotate(
    images,
    angles,
    interpolation: str = "nearest",
    fill_mode: str = "constant",
    name: str | None = None,
    fill_value=0.0,
) -> tf.Tensor:
    """Rotates image(s) counter-clockwise by `angles` radians, as `tfa.image.rotate`.

    Args:
        images: `(N, H, W, C)`, `(H, W, C)` or `(H, W)` tensor.
        angles: a scalar angle for every image, or one per image (shape `(N,)`).
        interpolation: `"nearest"` or `"bilinear"`. Defaults to `"nearest"`.
        fill_mode: `"constant"`, `"reflect"`, `"wrap"` or `"nearest"`. Defaults to
            `"constant"`.
        name: name scope of the op.
        fill_value: the value used by `fill_mode="constant"`. Defaults to 0.

    Returns:
        The rotated image(s), of the dtype and shape of `images`.

    Example:

    ```python
    rotated = rotate(images, math.pi / 2)
    ```
    """
    with tf.name_scope(name or "rotate"):
        image_tensor = as_image("images", images, dtypes=IMAGE_DTYPES)
        size = tf.shape(to_4d(image_tensor))
        return transform(
            image_tensor,
            angles_to_projective_transforms(angles, size[1], size[2]),
            interpolation=interpolation,
            fill_mode=fill_mode,
            fill_value=fill_value,
        )


def translate(
    images,
    translations,
    interpolation: str = "nearest",
    fill_mode: str = "constant",
    name: str | None = None,
    fill_value=0.0,
) -> tf.Tensor:
    """Shifts image(s) by `[dx, dy]` pixels, as `tfa.image.translate`.

    Args:
        images: `(N, H, W, C)`, `(H, W, C)` or `(H, W)` tensor.
        translations: `[dx, dy]` for every image, or one pair per image (shape `(N, 2)`).
        interpolation: `"nearest"` or `"bilinear"`. Defaults to `"nearest"`.
        fill_mode: `"constant"`, `"reflect"`, `"wrap"` or `"nearest"`. Defaults to
            `"constant"`.
        name: name scope of the op.
        fill_value: the value used by `fill_mode="constant"`. Defaults to 0.

    Returns:
        The shifted image(s), of the dtype and shape of `images`.

    Example:

    ```python
    shifted = translate(images, [4.0, 0.0])
    ```
    """
    with tf.name_scope(name or "translate"):
        return transform(
            images,
            translations_to_projective_transforms(translations),
            interpolation=interpolation,
            fill_mode=fill_mode,
            fill_value=fill_value,
        )


def _with_alpha(image: tf.Tensor) -> tf.Tensor:
    """`(H, W, C)` -> `(H, W, C + 1)` with a channel of ones that marks real pixels."""
    return tf.concat([image, tf.ones_like(image[..., :1])], axis=-1)


def _fill_outside(image: tf.Tensor, replace) -> tf.Tensor:
    """Drops the marker channel of `_with_alpha`; pixels whose marker is not 1 get `replace`."""
    channels = tf.shape(image)[-1] - 1
    replace = tf.cast(replace, image.dtype)
    replace = tf.broadcast_to(tf.reshape(replace, [-1]), [channels])
    inside = tf.equal(image[..., -1:], 1)
    return tf.where(inside, image[..., :-1], replace)


def _with_replace(image, replace, flat_transform) -> tf.Tensor:
    image_tensor = as_image("image", image, ranks=(3,), dtypes=IMAGE_DTYPES)
    moved = transform(_with_alpha(image_tensor), flat_transform)
    return _fill_outside(moved, replace)


def shear_x(image, level, replace) -> tf.Tensor:
    """Shears an image along x (`x' = x + level * y`), as `tfa.image.shear_x`.

    Args:
        image: `(H, W, C)` tensor.
        level: the shear factor.
        replace: the fill value of the pixels that come from outside the image: a scalar or
            one value per channel.

    Returns:
        The sheared image (nearest-neighbour sampling).

    Example:

    ```python
    sheared = shear_x(image, 0.3, [128, 128, 128])
    ```
    """
    return _with_replace(image, replace, [1.0, level, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0])


def shear_y(image, level, replace) -> tf.Tensor:
    """Shears an image along y (`y' = level * x + y`), as `tfa.image.shear_y`.

    Args:
        image: `(H, W, C)` tensor.
        level: the shear factor.
        replace: the fill value of the pixels that come from outside the image: a scalar or
            one value per channel.

    Returns:
        The sheared image (nearest-neighbour sampling).

    Example:

    ```python
    sheared = shear_y(image, 0.3, 0)
    ```
    """
    return _with_replace(image, replace, [1.0, 0.0, 0.0, level, 1.0, 0.0, 0.0, 0.0])


def translate_xy(image, translate_to, replace) -> tf.Tensor:
    """Shifts an image by `translate_to = [dx, dy]`, as `tfa.image.translate_xy`.

    Args:
        image: `(H, W, C)` tensor.
        translate_to: `[dx, dy]` in pixels.
        replace: the fill value of the pixels that come from outside the image: a scalar or
            one value per channel.

    Returns:
        The shifted image (nearest-neighbour sampling).

    Example:

    ```python
    shifted = translate_xy(image, [5, -3], 0)
    ```
    """
    shift = tf.cast(tf.reshape(translate_to, [2]), tf.float32)
    return _with_replace(image, replace, translations_to_projective_transforms(shift))
