"""GELU as a layer, with TensorFlow Addons' default (the tanh approximation)."""

from __future__ import annotations

import keras

from layers.validation import check_bool


@keras.saving.register_keras_serializable(package="keras_zoo")
class GELU(keras.layers.Layer):
    """Gaussian error linear unit: `x * P(X <= x)` for a standard normal `X`.

    Keras 3 has the function (`keras.activations.gelu`, exact by default) but no layer; this
    layer takes TensorFlow Addons' argument and default: `approximate=True` uses
    `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))`, `approximate=False` the exact
    `0.5 * x * (1 + erf(x / sqrt(2)))`.

    Args:
        approximate: whether to use the tanh approximation. Defaults to `True` (TFA's default).
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    y = GELU()(keras.ops.array([[-1.0, 0.0, 1.0]]))
    ```

    Reference:
        Hendrycks and Gimpel, "Gaussian Error Linear Units (GELUs)", 2016.
        https://arxiv.org/abs/1606.08415
    """

    def __init__(self, approximate: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.approximate = check_bool("approximate", approximate)
        self.supports_masking = True

    def call(self, inputs):
        return keras.activations.gelu(inputs, approximate=self.approximate)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "approximate": self.approximate}
