"""Maxout: the maximum over groups of features."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_positive_int


@keras.saving.register_keras_serializable(package="keras_zoo")
class Maxout(keras.layers.Layer):
    """Splits an axis of `C` features into `num_units` groups and keeps each group's maximum.

    As in TensorFlow Addons, feature `j` of the output is the maximum of input features
    `j, j + num_units, j + 2 * num_units, ...` along `axis` (the axis is read as
    `(C // num_units, num_units)`).

    Args:
        num_units: number of output features along `axis`; must divide the axis's size.
        axis: the feature axis. Defaults to `-1`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    y = Maxout(num_units=4)(keras.random.normal((2, 12)))  # shape (2, 4)
    ```

    Reference:
        Goodfellow et al., "Maxout Networks", ICML 2013. https://arxiv.org/abs/1302.4389
    """

    def __init__(self, num_units: int, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.num_units = check_positive_int("num_units", num_units)
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise TypeError(f"`axis` must be an integer. Received: axis={axis!r}")
        self.axis = axis

    def _axis(self, rank: int) -> int:
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(
                f"`axis` must name a non-batch axis of the {rank}-D input. "
                f"Received: axis={self.axis}"
            )
        return self.axis % rank

    def build(self, input_shape):
        axis = self._axis(len(input_shape))
        channels = input_shape[axis]
        if channels is not None and channels % self.num_units:
            raise ValueError(
                f"`num_units` must divide the size of axis {self.axis} ({channels}). "
                f"Received: num_units={self.num_units}"
            )

    def call(self, inputs):
        axis = self._axis(len(inputs.shape))
        shape = list(ops.shape(inputs))
        shape[axis : axis + 1] = [shape[axis] // self.num_units, self.num_units]
        return ops.max(ops.reshape(inputs, shape), axis=axis)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        shape[self._axis(len(shape))] = self.num_units
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "num_units": self.num_units, "axis": self.axis}
