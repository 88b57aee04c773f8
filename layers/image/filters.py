"""2-D mean, median and Gaussian filters: TensorFlow Addons' `mean_filter2d`,
`median_filter2d` and `gaussian_filter2d` (TensorFlow-only: `tf.pad` modes, depthwise
convolution).

The image is padded explicitly before a "valid" filter, so the output keeps the input's size:
`REFLECT` (`d c b | a b c d | c b a`, the default), `CONSTANT` (`constant_values`) or
`SYMMETRIC` (`c b a | a b c d | d c b`). An even filter size pads one more row (column) at the
bottom (right) than at the top (left).
"""

from __future__ import annotations

import tensorflow as tf

from layers.image.checks import as_image, check_filter_shape, check_pad_mode, from_4d, to_4d


def _pad(image: tf.Tensor, filter_shape, mode: str, constant_values) -> tf.Tensor:
    (height, width) = filter_shape
    top, left = (height - 1) // 2, (width - 1) // 2
    paddings = [[0, 0], [top, height - 1 - top], [left, width - 1 - left], [0, 0]]
    fill = tf.cast(constant_values, image.dtype)
    return tf.pad(image, paddings, mode=mode, constant_values=fill)


def _prepare(image, filter_shape, padding):
    tensor = as_image("image", image)
    if not (tensor.dtype.is_floating or tensor.dtype.is_integer):
        raise TypeError(
            f"`image` must be a number tensor. Received: image.dtype={tensor.dtype.name}"
        )
    return (
        tensor,
        check_filter_shape("filter_shape", filter_shape),
        check_pad_mode("padding", padding),
    )


def mean_filter2d(
    image,
    filter_shape=(3, 3),
    padding: str = "REFLECT",
    constant_values=0,
    name: str | None = None,
) -> tf.Tensor:
    """Mean (box) filter over each channel, as `tfa.image.mean_filter2d`.

    Args:
        image: `(N, H, W, C)`, `(H, W, C)` or `(H, W)` tensor.
        filter_shape: an integer >= 1 or a pair `(height, width)`. Defaults to `(3, 3)`.
        padding: `"REFLECT"`, `"CONSTANT"` or `"SYMMETRIC"`. Defaults to `"REFLECT"`.
        constant_values: the pad value for `"CONSTANT"`. Defaults to 0.
        name: name scope of the op.

    Returns:
        The filtered image, of the shape and dtype of `image` (integer images are averaged in
        float32 and truncated back).

    Example:

    ```python
    smooth = mean_filter2d(images, filter_shape=5)
    ```
    """
    with tf.name_scope(name or "mean_filter2d"):
        tensor, shape, mode = _prepare(image, filter_shape, padding)
        batch = to_4d(tensor)
        work = batch if batch.dtype.is_floating else tf.cast(batch, tf.float32)
        padded = _pad(work, shape, mode, constant_values)
        kernel = tf.ones([shape[0], shape[1], tf.shape(work)[-1], 1], work.dtype)
        summed = tf.nn.depthwise_conv2d(padded, kernel, [1, 1, 1, 1], "VALID")
        output = summed / tf.cast(shape[0] * shape[1], work.dtype)
        return tf.cast(from_4d(output, tensor), tensor.dtype)


def median_filter2d(
    image,
    filter_shape=(3, 3),
    padding: str = "REFLECT",
    constant_values=0,
    name: str | None = None,
) -> tf.Tensor:
    """Median filter over each channel, as `tfa.image.median_filter2d`.

    For an even window (an even number of pixels) the median is the mean of the two middle
    values.

    Args:
        image: `(N, H, W, C)`, `(H, W, C)` or `(H, W)` tensor.
        filter_shape: an integer >= 1 or a pair `(height, width)`. Defaults to `(3, 3)`.
        padding: `"REFLECT"`, `"CONSTANT"` or `"SYMMETRIC"`. Defaults to `"REFLECT"`.
        constant_values: the pad value for `"CONSTANT"`. Defaults to 0.
        name: name scope of the op.

    Returns:
        The filtered image, of the shape and dtype of `image`.

    Example:

    ```python
    denoised = median_filter2d(images, filter_shape=(3, 3))
    ```
    """
    with tf.name_scope(name or "median_filter2d"):
        tensor, shape, mode = _prepare(image, filter_shape, padding)
        batch = to_4d(tensor)
        size = tf.shape(batch)
        area = shape[0] * shape[1]
        padded = _pad(batch, shape, mode, constant_values)
        if shape == (3, 3):
            return from_4d(_median_3x3(padded, size[1], size[2]), tensor)
        # One shifted copy of the image per window offset: (N, H, W, C, area).
        windows = tf.stack(
            [
                padded[:, i : i + size[1], j : j + size[2], :]
                for i in range(shape[0])
                for j in range(shape[1])
            ],
            axis=-1,
        )
        top = tf.math.top_k(windows, k=area // 2 + 1, sorted=True).values
        if area % 2 == 1:
            median = top[..., area // 2]
        elif batch.dtype.is_floating:
            median = (top[..., area // 2 - 1] + top[..., area // 2]) / 2
        else:  # the mean of two integers, truncated (computed in float64: no overflow)
            pair = tf.cast(top[..., area // 2 - 1 :], tf.float64)
            median = tf.cast((pair[..., 0] + pair[..., 1]) / 2.0, batch.dtype)
        return from_4d(median, tensor)


def _sort3(a, b, c):
    """Elementwise sort of three tensors: (low, middle, high)."""
    low, high = tf.minimum(a, b), tf.maximum(a, b)
    middle = tf.maximum(low, tf.minimum(high, c))
    return tf.minimum(low, c), middle, tf.maximum(high, c)


def _median3(a, b, c):
    return tf.maximum(tf.minimum(a, b), tf.minimum(tf.maximum(a, b), c))


def _median_3x3(padded, height, width):
    """Median of every 3x3 window of a padded `(N, H + 2, W + 2, C)` image: each column of
    three is sorted once (shared by the three windows that hold it); the median is then the
    median of (the largest column minimum, the median of the column medians, the smallest
    column maximum), an exact selection network of min / max only."""
    low, middle, high = _sort3(
        padded[:, :height], padded[:, 1 : height + 1], padded[:, 2 : height + 2]
    )

    def columns(x, reduce):
        return reduce(reduce(x[:, :, :width], x[:, :, 1 : width + 1]), x[:, :, 2 : width + 2])

    largest_low = columns(low, tf.maximum)
    smallest_high = columns(high, tf.minimum)
    middle_of_middles = _median3(
        middle[:, :, :width], middle[:, :, 1 : width + 1], middle[:, :, 2 : width + 2]
    )
    return _median3(largest_low, middle_of_middles, smallest_high)


def _gaussian_kernel_1d(sigma: tf.Tensor, size: int) -> tf.Tensor:
    offsets = tf.cast(tf.range(-size // 2 + 1, size // 2 + 1) ** 2, sigma.dtype)
    return tf.nn.softmax(-offsets / (2.0 * sigma**2))


def gaussian_filter2d(
    image,
    filter_shape=(3, 3),
    sigma=1.0,
    padding: str = "REFLECT",
    constant_values=0,
    name: str | None = None,
) -> tf.Tensor:
    """Gaussian blur over each channel, as `tfa.image.gaussian_filter2d`.

    The kernel is the outer product of two normalised 1-D Gaussians over the integer offsets
    of the window (`range(-k // 2 + 1, k // 2 + 1)`).

    Args:
        image: `(N, H, W, C)`, `(H, W, C)` or `(H, W)` tensor.
        filter_shape: an integer >= 1 or a pair `(height, width)`. Defaults to `(3, 3)`.
        sigma: the standard deviation, a number > 0 or a pair `(sigma_y, sigma_x)`.
            Defaults to 1.
        padding: `"REFLECT"`, `"CONSTANT"` or `"SYMMETRIC"`. Defaults to `"REFLECT"`.
        constant_values: the pad value for `"CONSTANT"`. Defaults to 0.
        name: name scope of the op.

    Returns:
        The blurred image, of the shape and dtype of `image`.

    Example:

    ```python
    blurred = gaussian_filter2d(images, filter_shape=5, sigma=1.5)
    ```
    """
    sigmas = tuple(sigma) if isinstance(sigma, list | tuple) else (sigma, sigma)
    valid = len(sigmas) == 2 and all(
        isinstance(s, int | float) and not isinstance(s, bool) and s > 0 for s in sigmas
    )
    if not valid:
        raise ValueError(
            f"`sigma` must be a number > 0 or a pair of them. Received: sigma={sigma!r}"
        )
    with tf.name_scope(name or "gaussian_filter2d"):
        tensor, shape, mode = _prepare(image, filter_shape, padding)
        batch = to_4d(tensor)
        work = batch if batch.dtype.is_floating else tf.cast(batch, tf.float32)
        sigma_tensor = tf.cast(tf.constant(sigmas, tf.float32), work.dtype)
        along_y = _gaussian_kernel_1d(sigma_tensor[0], shape[0])
        along_x = _gaussian_kernel_1d(sigma_tensor[1], shape[1])
        kernel = along_y[:, None] * along_x[None, :]
        kernel = tf.tile(kernel[:, :, None, None], [1, 1, tf.shape(work)[-1], 1])
        padded = _pad(work, shape, mode, constant_values)
        output = tf.nn.depthwise_conv2d(padded, kernel, [1, 1, 1, 1], "VALID")
        return tf.cast(from_4d(output, tensor), tensor.dtype)
