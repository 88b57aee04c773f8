"""Snake: a periodic activation with a learned frequency."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_zoo")
class Snake(keras.layers.Layer):
    """`x + (1 - cos(2 * f * x)) / (2 * f)` with one learned scalar frequency `f`.

    TensorFlow Addons' layer: its one weight is the scalar `frequency` (TFA's weight list is
    `[frequency]`).

    Args:
        frequency_initializer: initializer of the frequency. Defaults to `"ones"`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    y = Snake()(keras.random.normal((4, 8)))
    ```

    Reference:
        Ziyin, Hartwig and Ueda, "Neural Networks Fail to Learn Periodic Functions and How to
        Fix It", NeurIPS 2020. https://arxiv.org/abs/2006.08195
    """

    def __init__(self, frequency_initializer="ones", **kwargs):
        super().__init__(**kwargs)
        self.frequency_initializer = keras.initializers.get(frequency_initializer)

    def build(self, input_shape):
        self.frequency = self.add_weight(
            shape=(), initializer=self.frequency_initializer, name="frequency"
        )

    def call(self, inputs):
        frequency = ops.cast(self.frequency, inputs.dtype)
        return inputs + (1.0 - ops.cos(2.0 * frequency * inputs)) / (2.0 * frequency)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "frequency_initializer": keras.initializers.serialize(self.frequency_initializer),
        }
