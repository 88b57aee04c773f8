"""Max unpooling: scatter pooled values back to where their maxima came from."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_choice, check_int_pair


def _unpool(updates, argmax, height: int, width: int):
    """Scatters `updates (B, h, w, C)` into zeros `(B, height, width, C)`; the row and column
    come from `argmax` (read as `(y * width + x) * C + c`), the batch and channel from the
    position in `updates`, as TensorFlow Addons does. Repeated targets are summed."""
    channels = updates.shape[-1]
    batch = ops.shape(updates)[0]
    argmax = ops.cast(argmax, "int32")
    y = argmax // (width * channels)
    x = (argmax // channels) % width
    b = ops.reshape(ops.arange(batch, dtype="int32"), (-1, 1, 1, 1))
    c = ops.reshape(ops.arange(channels, dtype="int32"), (1, 1, 1, channels))
    flat = ((b * height + y) * width + x) * channels + c
    size = batch * height * width * channels
    out = ops.scatter(ops.reshape(flat, (-1, 1)), ops.reshape(updates, (-1,)), (size,))
    return ops.reshape(out, (batch, height, width, channels))


def _split_inputs(updates, mask, name):
    if isinstance(mask, list | tuple) and all(m is None for m in mask):
        mask = None  # keras passes the (absent) Keras masks of a list input
    if mask is None and isinstance(updates, list | tuple) and len(updates) == 2:
        updates, mask = updates
    if mask is None:
        raise ValueError(f"`{name}` takes `(updates, mask)`: the pooled values and their argmax.")
    if len(updates.shape) != 4 or tuple(updates.shape) != tuple(mask.shape):
        raise ValueError(
            f"`{name}` needs 4-D `updates` and a `mask` of the same shape. Received: "
            f"updates shape={tuple(updates.shape)}, mask shape={tuple(mask.shape)}"
        )
    if any(d is None for d in updates.shape[1:]):
        raise ValueError(f"`{name}` needs known height, width and channels: {updates.shape}")
    return updates, mask


@keras.saving.register_keras_serializable(package="keras_zoo")
class MaxUnpooling2D(keras.layers.Layer):
    """Undoes a 2-D max pooling: each pooled value goes back to its argmax, zeros elsewhere.

    TensorFlow Addons' `MaxUnpooling2D`. Call it as `layer(updates, mask)` (or on the list
    `[updates, mask]`) with the outputs of `max_pool_with_argmax(...,
    include_batch_in_index=False)` (or `tf.nn.max_pool_with_argmax`). The output is
    `(batch, (h - 1) * stride + pool, (w - 1) * stride + pool, C)` for `"VALID"` padding and
    `(batch, h * stride, w * stride, C)` for `"SAME"`.

    Args:
        pool_size: the pooling window, an int or a pair. Defaults to `(2, 2)`.
        strides: the pooling strides, an int or a pair. Defaults to `(2, 2)`.
        padding: the pooling's padding, `"SAME"` or `"VALID"`. Defaults to `"SAME"`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    pooled, argmax = max_pool_with_argmax(features, 2, 2, "SAME")
    restored = MaxUnpooling2D()(pooled, argmax)  # the shape of `features` (even sizes)
    ```

    Reference:
        Badrinarayanan, Kendall and Cipolla, "SegNet: A Deep Convolutional Encoder-Decoder
        Architecture for Image Segmentation", 2015. https://arxiv.org/abs/1511.00561
    """

    def __init__(self, pool_size=(2, 2), strides=(2, 2), padding: str = "SAME", **kwargs):
        super().__init__(**kwargs)
        self.pool_size = check_int_pair("pool_size", pool_size)
        self.strides = check_int_pair("strides", strides)
        self.padding = check_choice("padding", padding, ("SAME", "VALID"))

    def _output_size(self, height, width):
        if self.padding == "VALID":
            return (
                (height - 1) * self.strides[0] + self.pool_size[0],
                (width - 1) * self.strides[1] + self.pool_size[1],
            )
        return height * self.strides[0], width * self.strides[1]

    def call(self, updates, mask=None):
        updates, mask = _split_inputs(updates, mask, "MaxUnpooling2D")
        height, width = self._output_size(updates.shape[1], updates.shape[2])
        return _unpool(updates, mask, height, width)

    def compute_output_shape(self, updates_shape, mask_shape=None):
        if mask_shape is None and isinstance(updates_shape[0], list | tuple):
            updates_shape = updates_shape[0]
        height, width = self._output_size(updates_shape[1], updates_shape[2])
        return (updates_shape[0], height, width, updates_shape[3])

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "strides": self.strides,
            "padding": self.padding,
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class MaxUnpooling2DV2(keras.layers.Layer):
    """Max unpooling to an explicit output size (TensorFlow Addons' `MaxUnpooling2DV2`).

    Like `MaxUnpooling2D`, but the output's size is given, which undoes poolings of odd-sized
    inputs exactly. The batch size is the input's (TFA requires `output_size[0]` to equal it).

    Args:
        output_size: `(batch, height, width, channels)` of the output.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    pooled, argmax = max_pool_with_argmax(features, 2, 2, "SAME")  # features: (8, 5, 7, 16)
    restored = MaxUnpooling2DV2((8, 5, 7, 16))(pooled, argmax)
    ```

    Reference:
        Badrinarayanan, Kendall and Cipolla, "SegNet", 2015. https://arxiv.org/abs/1511.00561
    """

    def __init__(self, output_size, **kwargs):
        super().__init__(**kwargs)
        ok = isinstance(output_size, list | tuple) and len(output_size) == 4
        if not ok or not all(isinstance(d, int) and d > 0 for d in output_size):
            raise ValueError(
                "`output_size` must be 4 positive integers (batch, height, width, channels). "
                f"Received: output_size={output_size!r}"
            )
        self.output_size = tuple(output_size)

    def call(self, updates, mask=None):
        updates, mask = _split_inputs(updates, mask, "MaxUnpooling2DV2")
        if updates.shape[-1] != self.output_size[3]:
            raise ValueError(
                f"`output_size` has {self.output_size[3]} channels but the updates have "
                f"{updates.shape[-1]}. Received: output_size={self.output_size}"
            )
        return _unpool(updates, mask, self.output_size[1], self.output_size[2])

    def compute_output_shape(self, updates_shape, mask_shape=None):
        if mask_shape is None and isinstance(updates_shape[0], list | tuple):
            updates_shape = updates_shape[0]
        return (updates_shape[0], *self.output_size[1:])

    def get_config(self):
        return {**super().get_config(), "output_size": self.output_size}
