"""Projection into the Poincaré ball."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_unit_interval


@keras.saving.register_keras_serializable(package="keras_zoo")
class PoincareNormalize(keras.layers.Layer):
    """Scales every vector of norm at least `1 - epsilon` back to norm `1 - epsilon`.

    `x * min((1 - epsilon) / ||x||, 1)` with the norm taken over `axis`: points stay inside the
    unit (Poincaré) ball; shorter vectors pass unchanged. TensorFlow Addons' layer and defaults.

    Args:
        axis: an axis or a list of axes for the norm. Defaults to `1`.
        epsilon: margin from the ball's boundary, in `[0, 1)`. Defaults to `1e-5`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    y = PoincareNormalize()(keras.random.normal((4, 16)))  # every row has norm < 1
    ```

    Reference:
        Nickel and Kiela, "Poincaré Embeddings for Learning Hierarchical Representations",
        NeurIPS 2017. https://arxiv.org/abs/1705.08039
    """

    def __init__(self, axis=1, epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        axes = axis if isinstance(axis, list | tuple) else [axis]
        if not axes or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
            raise TypeError(
                f"`axis` must be an integer or a list of integers. Received: axis={axis!r}"
            )
        self.axis = list(axis) if isinstance(axis, list | tuple) else axis
        self.epsilon = check_unit_interval("epsilon", epsilon, include_low=True, include_high=False)

    def call(self, inputs):
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        square_sum = ops.sum(ops.square(inputs), axis=axis, keepdims=True)
        inverse_norm = ops.minimum((1.0 - self.epsilon) * ops.rsqrt(square_sum), 1.0)
        return inputs * ops.cast(inverse_norm, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}
