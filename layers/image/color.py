"""Colour and contrast ops: TensorFlow Addons' `blend`, `sharpness`, `equalize`,
`adjust_hsv_in_yiq` and `random_hsv_in_yiq` (PIL's ImageEnhance semantics for the first three;
TensorFlow-only).
"""

from __future__ import annotations

import numbers

import tensorflow as tf

from layers.image.checks import as_image, from_4d, to_4d

# RGB -> YIQ and YIQ -> RGB, as row-vector matrices (pixel @ matrix).
RGB_TO_YIQ = [[0.299, 0.596, 0.211], [0.587, -0.274, -0.523], [0.114, -0.322, 0.312]]
YIQ_TO_RGB = [
    [1.0, 1.0, 1.0],
    [0.95617069, -0.2726886, -1.103744],
    [0.62143257, -0.64681324, 1.70062309],
]


def blend(image1, image2, factor) -> tf.Tensor:
    """Blends two images, as `tfa.image.blend` (PIL's `ImageEnhance` blending).

    `image1 + factor * (image2 - image1)`, rounded; for `factor` outside `[0, 1]`
    (extrapolation) the result is clipped to `[0, 255]` before rounding. `factor == 0`
    returns `image1` and `factor == 1` returns `image2` unchanged (their own dtype, when the
    factor is a Python number).

    Args:
        image1: image tensor, any shape.
        image2: image tensor of the shape of `image1`.
        factor: a number or scalar tensor >= 0.

    Returns:
        float32 tensor (or `image1` / `image2` as given, see above).

    Example:

    ```python
    halfway = blend(black, white, 0.5)  # 128 everywhere for 0 and 255
    ```
    """
    if isinstance(factor, numbers.Real):
        if factor == 0.0:
            return tf.convert_to_tensor(image1)
        if factor == 1.0:
            return tf.convert_to_tensor(image2)
    first = tf.cast(image1, tf.float32)
    second = tf.cast(image2, tf.float32)
    factor = tf.cast(factor, tf.float32)
    mixed = first + factor * (second - first)
    interpolating = (factor > 0.0) & (factor < 1.0)
    out = tf.round(tf.where(interpolating, mixed, tf.clip_by_value(mixed, 0.0, 255.0)))
    out = tf.where(tf.equal(factor, 0.0), first, out)
    return tf.where(tf.equal(factor, 1.0), second, out)


def sharpness(image, factor, name: str | None = None) -> tf.Tensor:
    """Changes the sharpness of image(s), as `tfa.image.sharpness` (PIL's
    `ImageEnhance.Sharpness`).

    The image is blended with its smoothed copy (kernel `[[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13`;
    border pixels keep their values): `factor` 0 gives the smoothed image, 1 the original,
    above 1 a sharper one.

    Args:
        image: `(N, H, W, C)`, `(H, W, C)` or `(H, W)` tensor, values in `[0, 255]`.
        factor: a number or scalar tensor >= 0.
        name: name scope of the op.

    Returns:
        The image(s), shape and dtype of `image`.

    Example:

    ```python
    sharper = sharpness(images, 2.0)
    ```
    """
    with tf.name_scope(name or "sharpness"):
        tensor = as_image("image", image)
        batch = to_4d(tensor)
        channels = tf.shape(batch)[-1]
        kernel = tf.constant([[1.0, 1.0, 1.0], [1.0, 5.0, 1.0], [1.0, 1.0, 1.0]]) / 13.0
        kernel = tf.tile(kernel[:, :, None, None], [1, 1, channels, 1])
        smooth = tf.nn.depthwise_conv2d(tf.cast(batch, tf.float32), kernel, [1, 1, 1, 1], "VALID")
        smooth = tf.cast(smooth, batch.dtype)
        inner = tf.pad(tf.ones_like(smooth, tf.bool), [[0, 0], [1, 1], [1, 1], [0, 0]])
        degenerate = tf.where(inner, tf.pad(smooth, [[0, 0], [1, 1], [1, 1], [0, 0]]), batch)
        blended = tf.cast(blend(degenerate, batch, factor), batch.dtype)
        return from_4d(blended, tensor)


def equalize(image, bins: int = 256, name: str | None = None) -> tf.Tensor:
    """Histogram equalisation per image and channel, as `tfa.image.equalize` (PIL's
    `ImageOps.equalize`).

    Values are truncated to integers and binned over `[0, bins - 1]`; a channel whose
    histogram is (nearly) a single value is returned unchanged (as integers).

    Args:
        image: `(N, H, W, C)`, `(H, W, C)` or `(H, W)` tensor of values in `[0, bins - 1]`.
        bins: number of histogram bins. Defaults to 256.
        name: name scope of the op.

    Returns:
        The equalised image(s), shape and dtype of `image`.

    Example:

    ```python
    flat = equalize(tf.constant(uint8_images))
    ```
    """
    if not isinstance(bins, int) or isinstance(bins, bool) or bins < 2:
        raise ValueError(f"`bins` must be an integer >= 2. Received: bins={bins!r}")
    with tf.name_scope(name or "equalize"):
        tensor = as_image("image", image)
        batch = to_4d(tensor)
        shape = tf.shape(batch)
        # One row per (image, channel) plane: (planes, H * W) int32 values.
        planes = tf.reshape(tf.transpose(batch, [0, 3, 1, 2]), [shape[0] * shape[3], -1])
        values = tf.cast(planes, tf.int32)
        # The bin of tf.histogram_fixed_width over [0, bins - 1] (computed in float64 there).
        width = (bins - 1) / bins
        index = tf.cast(tf.maximum(values, 0), tf.float64) / width
        index = tf.cast(tf.minimum(index, float(bins - 1)), tf.int32)
        count = tf.shape(values)[0]
        offsets = tf.range(count)[:, None] * bins
        histogram = tf.math.bincount(
            tf.reshape(index + offsets, [-1]), minlength=count * bins, maxlength=count * bins
        )
        histogram = tf.reshape(histogram, [count, bins])
        # The count of the last non-empty bin.
        last = tf.reduce_max(tf.where(histogram > 0, tf.range(bins)[None], -1), axis=1)
        last_count = tf.gather(histogram, tf.maximum(last, 0), batch_dims=1)
        step = (tf.reduce_sum(histogram, axis=1) - last_count) // (bins - 1)
        safe_step = tf.maximum(step, 1)[:, None]
        lut = (tf.cumsum(histogram, axis=1, exclusive=True) + safe_step // 2) // safe_step
        lut = tf.clip_by_value(lut, 0, bins - 1)
        mapped = tf.gather(lut, tf.clip_by_value(values, 0, bins - 1), batch_dims=1)
        result = tf.where(step[:, None] == 0, values, mapped)
        result = tf.reshape(result, [shape[0], shape[3], shape[1], shape[2]])
        result = tf.cast(tf.transpose(result, [0, 2, 3, 1]), batch.dtype)
        return from_4d(result, tensor)


def _as_rgb(image) -> tf.Tensor:
    tensor = tf.convert_to_tensor(image, name="image")
    rank, channels = tensor.shape.rank, tensor.shape[-1] if tensor.shape.rank else None
    if rank is not None and rank < 3:
        raise ValueError(
            "`image` must have rank >= 3 (..., height, width, 3). "
            f"Received: image.shape={tuple(tensor.shape)}"
        )
    if channels is not None and channels != 3:
        raise ValueError(
            f"`image` must have 3 (RGB) channels. Received: image.shape={tuple(tensor.shape)}"
        )
    return tensor


def adjust_hsv_in_yiq(
    image,
    delta_hue=0,
    scale_saturation=1,
    scale_value=1,
    name: str | None = None,
) -> tf.Tensor:
    """Adjusts hue, saturation and value of RGB image(s) in YIQ space, as
    `tfa.image.adjust_hsv_in_yiq`.

    The colours are rotated around the Y (luma) axis by `delta_hue` radians, I and Q are
    scaled by `scale_saturation`, and Y, I, Q by `scale_value`. Integer images are converted
    to float in `[0, 1]` and back (`tf.image.convert_image_dtype`).

    Args:
        image: `(..., H, W, 3)` RGB tensor.
        delta_hue: hue rotation in radians. Defaults to 0.
        scale_saturation: factor on the saturation. Defaults to 1.
        scale_value: factor on the value. Defaults to 1.
        name: name scope of the op.

    Returns:
        The adjusted image(s), shape and dtype of `image`.

    Example:

    ```python
    shifted = adjust_hsv_in_yiq(images, delta_hue=0.3, scale_saturation=1.2)
    ```
    """
    with tf.name_scope(name or "adjust_hsv_in_yiq"):
        tensor = _as_rgb(image)
        work = (
            tensor if tensor.dtype.is_floating else tf.image.convert_image_dtype(tensor, tf.float32)
        )
        dtype = work.dtype
        hue = tf.cast(delta_hue, dtype)
        saturation = tf.cast(scale_saturation, dtype)
        value = tf.cast(scale_value, dtype)
        cos = value * saturation * tf.cos(hue)
        sin = value * saturation * tf.sin(hue)
        zero = tf.zeros_like(cos)
        rotation = tf.stack(
            [tf.stack([value, zero, zero]), tf.stack([zero, cos, sin]), tf.stack([zero, -sin, cos])]
        )
        matrix = tf.constant(RGB_TO_YIQ, dtype) @ rotation @ tf.constant(YIQ_TO_RGB, dtype)
        return tf.image.convert_image_dtype(work @ matrix, tensor.dtype)


def _check_range(low_name, low, high_name, high):
    for name, value in ((low_name, low), (high_name, high)):
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or value < 0:
            raise ValueError(f"`{name}` must be a number >= 0. Received: {name}={value!r}")
    if low > high:
        raise ValueError(
            f"`{low_name}` must not be greater than `{high_name}`={high}. "
            f"Received: {low_name}={low!r}"
        )


def random_hsv_in_yiq(
    image,
    max_delta_hue=0,
    lower_saturation=1,
    upper_saturation=1,
    lower_value=1,
    upper_value=1,
    seed: int | None = None,
    name: str | None = None,
) -> tf.Tensor:
    """`adjust_hsv_in_yiq` with random parameters, as `tfa.image.random_hsv_in_yiq`.

    `delta_hue` is drawn uniformly from `[-max_delta_hue, max_delta_hue]`,
    `scale_saturation` from `[lower_saturation, upper_saturation]` and `scale_value` from
    `[lower_value, upper_value]` (one draw for the whole call; a range of one value is used as
    is).

    Args:
        image: `(..., H, W, 3)` RGB tensor.
        max_delta_hue: largest hue rotation in radians, >= 0. Defaults to 0.
        lower_saturation: lower bound of the saturation factor, >= 0. Defaults to 1.
        upper_saturation: upper bound of the saturation factor. Defaults to 1.
        lower_value: lower bound of the value factor, >= 0. Defaults to 1.
        upper_value: upper bound of the value factor. Defaults to 1.
        seed: operation seed of the draws (`tf.random.uniform`).
        name: name scope of the op.

    Returns:
        The adjusted image(s), shape and dtype of `image`.

    Example:

    ```python
    jittered = random_hsv_in_yiq(images, 0.2, 0.8, 1.2, 0.9, 1.1, seed=1)
    ```
    """
    if (
        not isinstance(max_delta_hue, numbers.Real)
        or isinstance(max_delta_hue, bool)
        or max_delta_hue < 0
    ):
        raise ValueError(
            f"`max_delta_hue` must be a number >= 0. Received: max_delta_hue={max_delta_hue!r}"
        )
    _check_range("lower_saturation", lower_saturation, "upper_saturation", upper_saturation)
    _check_range("lower_value", lower_value, "upper_value", upper_value)
    with tf.name_scope(name or "random_hsv_in_yiq"):

        def draw(low, high):
            return low if low == high else tf.random.uniform([], low, high, seed=seed)

        return adjust_hsv_in_yiq(
            image,
            draw(-max_delta_hue, max_delta_hue),
            draw(lower_saturation, upper_saturation),
            draw(lower_value, upper_value),
        )
