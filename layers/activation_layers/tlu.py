"""TLU: the thresholded linear unit that goes with filter response normalization."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_bool


@keras.saving.register_keras_serializable(package="keras_zoo")
class TLU(keras.layers.Layer):
    """`max(x, tau)` with a learned threshold `tau`, or `max(x, tau + alpha * x)` when affine.

    `tau` (and `alpha`) have the shape of one sample (every non-batch axis), as in TensorFlow
    Addons; TFA's weight list is `[tau]` or `[tau, alpha]`.

    Args:
        affine: whether to learn `alpha` too. Defaults to `False`.
        tau_initializer, tau_regularizer, tau_constraint: for `tau` (default zeros).
        alpha_initializer, alpha_regularizer, alpha_constraint: for `alpha` (default zeros).
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    x = keras.Input((8, 8, 16))
    y = TLU()(FilterResponseNormalization()(x))
    ```

    Reference:
        Singh and Krishnan, "Filter Response Normalization Layer: Eliminating Batch Dependence
        in the Training of Deep Neural Networks", CVPR 2020. https://arxiv.org/abs/1911.09737
    """

    def __init__(
        self,
        affine: bool = False,
        tau_initializer="zeros",
        tau_regularizer=None,
        tau_constraint=None,
        alpha_initializer="zeros",
        alpha_regularizer=None,
        alpha_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.affine = check_bool("affine", affine)
        self.tau_initializer = keras.initializers.get(tau_initializer)
        self.tau_regularizer = keras.regularizers.get(tau_regularizer)
        self.tau_constraint = keras.constraints.get(tau_constraint)
        self.alpha_initializer = keras.initializers.get(alpha_initializer)
        self.alpha_regularizer = keras.regularizers.get(alpha_regularizer)
        self.alpha_constraint = keras.constraints.get(alpha_constraint)

    def build(self, input_shape):
        shape = tuple(input_shape[1:])
        if len(input_shape) < 2 or any(d is None for d in shape):
            raise ValueError(
                f"`TLU` needs inputs with known non-batch dimensions. Received: shape={input_shape}"
            )
        self.tau = self.add_weight(
            shape=shape,
            name="tau",
            initializer=self.tau_initializer,
            regularizer=self.tau_regularizer,
            constraint=self.tau_constraint,
        )
        if self.affine:
            self.alpha = self.add_weight(
                shape=shape,
                name="alpha",
                initializer=self.alpha_initializer,
                regularizer=self.alpha_regularizer,
                constraint=self.alpha_constraint,
            )

    def call(self, inputs):
        threshold = ops.cast(self.tau, inputs.dtype)
        if self.affine:
            threshold = threshold + ops.cast(self.alpha, inputs.dtype) * inputs
        return ops.maximum(inputs, threshold)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        s = keras.saving.serialize_keras_object
        return {
            **super().get_config(),
            "affine": self.affine,
            "tau_initializer": s(self.tau_initializer),
            "tau_regularizer": s(self.tau_regularizer),
            "tau_constraint": s(self.tau_constraint),
            "alpha_initializer": s(self.alpha_initializer),
            "alpha_regularizer": s(self.alpha_regularizer),
            "alpha_constraint": s(self.alpha_constraint),
        }
