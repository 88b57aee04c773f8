"""Spatial pyramid pooling: fixed-length features from any image size."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_choice, check_int_pair


@keras.saving.register_keras_serializable(package="keras_zoo")
class SpatialPyramidPooling2D(keras.layers.Layer):
    """Average-pools the image into each grid of `bins` and concatenates the cells.

    TensorFlow Addons' layer: for each bin `(bh, bw)` the image is cropped at the bottom and
    right to multiples of `bh` and `bw`, cut into `bh x bw` equal cells and each cell averaged;
    the result is `(batch, sum(bh * bw), channels)` (channels-last) or
    `(batch, channels, sum(bh * bw))` (channels-first).

    Args:
        bins: a list of ints or `(height, width)` pairs, e.g. `[1, 2, 4]`.
        data_format: `"channels_last"` or `"channels_first"`; `None` uses Keras's setting.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    features = SpatialPyramidPooling2D([1, 2, 4])(keras.random.normal((2, 13, 17, 8)))
    # (2, 21, 8)
    ```

    Reference:
        He et al., "Spatial Pyramid Pooling in Deep Convolutional Networks for Visual
        Recognition", ECCV 2014. https://arxiv.org/abs/1406.4729
    """

    def __init__(self, bins, data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(bins, list | tuple) or not bins:
            raise ValueError(f"`bins` must be a non-empty list. Received: bins={bins!r}")
        self.bins = [list(check_int_pair("bins", b)) for b in bins]
        data_format = data_format or keras.config.image_data_format()
        self.data_format = check_choice(
            "data_format", data_format, ("channels_last", "channels_first")
        )

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                f"`SpatialPyramidPooling2D` takes 4-D inputs. Received: shape={input_shape}"
            )

    def call(self, inputs):
        if self.data_format == "channels_first":
            inputs = ops.transpose(inputs, (0, 2, 3, 1))
        shape = ops.shape(inputs)
        batch, height, width, channels = shape[0], shape[1], shape[2], inputs.shape[3]
        outputs = []
        for bh, bw in self.bins:
            cell_h, cell_w = height // bh, width // bw
            cropped = inputs[:, : cell_h * bh, : cell_w * bw, :]
            cells = ops.reshape(cropped, (batch, bh, cell_h, bw, cell_w, channels))
            pooled = ops.mean(cells, axis=(2, 4))
            outputs.append(ops.reshape(pooled, (batch, bh * bw, channels)))
        outputs = ops.concatenate(outputs, axis=1)
        if self.data_format == "channels_first":
            outputs = ops.transpose(outputs, (0, 2, 1))
        return outputs

    def compute_output_shape(self, input_shape):
        cells = sum(bh * bw for bh, bw in self.bins)
        if self.data_format == "channels_first":
            return (input_shape[0], input_shape[1], cells)
        return (input_shape[0], cells, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "bins": self.bins, "data_format": self.data_format}
