"""2-D max pooling that also returns where each maximum came from."""

from __future__ import annotations

from keras import ops

from layers.validation import check_choice, check_int_pair


def _padding_before(size: int, window: int, stride: int, padding: str) -> tuple[int, int]:
    """Output size and padding before the first row (TensorFlow's SAME/VALID rules)."""
    if padding == "VALID":
        return (size - window) // stride + 1, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return out, total // 2


def max_pool_with_argmax(
    inputs, ksize, strides, padding: str = "VALID", include_batch_in_index: bool = False
):
    """Max pooling of `(batch, height, width, channels)` inputs, with the flat argmax indices.

    The same numbers as `tf.nn.max_pool_with_argmax`: the index of the maximum at `(b, y, x, c)`
    is `(y * width + x) * channels + c`, plus `b * height * width * channels` with
    `include_batch_in_index=True`; among equal values the first in row-major window order
    wins. Written with `keras.ops` (strided slices of the padded input, one per window offset),
    so it also compiles under XLA, where TensorFlow's own op has no kernel. The indices feed
    `MaxUnpooling2D` (`include_batch_in_index=False`).

    Args:
        inputs: a 4-D float tensor with known height, width and channels.
        ksize: window size, an int or `(height, width)`.
        strides: stride, an int or `(height, width)`.
        padding: `"VALID"` or `"SAME"`. Defaults to `"VALID"`.
        include_batch_in_index: whether the indices count across the batch. Defaults to `False`.

    Returns:
        `(pooled, argmax)`: the pooled values and their int64 flat indices, both of shape
        `(batch, out_height, out_width, channels)`.

    Example:

    ```python
    pooled, argmax = max_pool_with_argmax(images, 2, 2, "SAME")
    restored = MaxUnpooling2D()(pooled, argmax)
    ```
    """
    kh, kw = check_int_pair("ksize", ksize)
    sh, sw = check_int_pair("strides", strides)
    padding = check_choice("padding", padding, ("VALID", "SAME"))
    inputs = ops.convert_to_tensor(inputs)
    if len(inputs.shape) != 4 or any(d is None for d in inputs.shape[1:]):
        raise ValueError(
            "`inputs` must be 4-D (batch, height, width, channels) with known height, width and "
            f"channels. Received: shape={tuple(inputs.shape)}"
        )
    _, height, width, channels = inputs.shape
    out_h, top = _padding_before(height, kh, sh, padding)
    out_w, left = _padding_before(width, kw, sw, padding)
    if out_h < 1 or out_w < 1:
        raise ValueError(
            f"`ksize` ({kh}, {kw}) is larger than the input ({height}, {width}) with VALID padding."
        )
    bottom = max((out_h - 1) * sh + kh - height - top, 0)
    right = max((out_w - 1) * sw + kw - width - left, 0)
    lowest = ops.cast(float("-inf"), inputs.dtype)
    padded = ops.pad(inputs, [[0, 0], [top, bottom], [left, right], [0, 0]], constant_values=lowest)
    windows = []
    for dy in range(kh):
        for dx in range(kw):
            rows = padded[:, dy : dy + (out_h - 1) * sh + 1 : sh]
            windows.append(rows[:, :, dx : dx + (out_w - 1) * sw + 1 : sw])
    stacked = ops.stack(windows, axis=-1)  # (batch, out_h, out_w, channels, kh * kw)
    pooled = ops.max(stacked, axis=-1)
    # The first window position holding the maximum (-0.0 and 0.0 tie, as in TensorFlow's op;
    # `argmax` would rank them, and XLA does not promise the first of equal values).
    positions = ops.arange(kh * kw, dtype="int32")
    is_max = ops.equal(stacked, ops.expand_dims(pooled, -1))
    offset = ops.min(ops.where(is_max, positions, kh * kw), axis=-1)
    dy, dx = offset // kw, offset % kw
    row = ops.reshape(ops.arange(out_h) * sh - top, (1, out_h, 1, 1)) + dy
    col = ops.reshape(ops.arange(out_w) * sw - left, (1, 1, out_w, 1)) + dx
    channel = ops.reshape(ops.arange(channels), (1, 1, 1, channels))
    index = ops.cast((row * width + col) * channels + channel, "int64")
    if include_batch_in_index:
        batch = ops.arange(ops.shape(inputs)[0], dtype="int64")
        index = index + ops.reshape(batch, (-1, 1, 1, 1)) * (height * width * channels)
    return pooled, index
