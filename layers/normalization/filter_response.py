"""Filter response normalization: per-sample, per-channel scaling by the mean square."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_bool, check_non_negative_float


@keras.saving.register_keras_serializable(package="keras_zoo")
class FilterResponseNormalization(keras.layers.Layer):
    """`gamma * x / sqrt(mean(x**2 over H, W) + eps) + beta` for 4-D channels-last inputs.

    No batch statistics: every sample and channel is divided by the root of its mean square
    over the spatial axes. Pair it with `TLU`. As in TensorFlow Addons, `gamma` and `beta` have
    shape `(1, 1, 1, C)`, and with `learned_epsilon=True` a learned `(1,)` weight (initialised
    to `1e-4`) is added to `|epsilon|`; TFA's weight list is `[gamma, beta]` or
    `[learned_epsilon, gamma, beta]`.

    Args:
        epsilon: small number added to the mean square. Defaults to `1e-6`.
        axis: the spatial axes; only `[1, 2]` is supported (as in TFA).
        beta_initializer, gamma_initializer: defaults `"zeros"` and `"ones"`.
        beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint: optional.
        learned_epsilon: whether to learn an extra epsilon. Defaults to `False`.
        learned_epsilon_constraint: constraint on the learned epsilon.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    x = keras.Input((32, 32, 16))
    y = TLU()(FilterResponseNormalization()(x))
    ```

    Reference:
        Singh and Krishnan, "Filter Response Normalization Layer: Eliminating Batch Dependence
        in the Training of Deep Neural Networks", CVPR 2020. https://arxiv.org/abs/1911.09737
    """

    def __init__(
        self,
        epsilon: float = 1e-6,
        axis=(1, 2),
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        learned_epsilon: bool = False,
        learned_epsilon_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.epsilon = check_non_negative_float("epsilon", epsilon)
        if not isinstance(axis, list | tuple) or list(axis) != [1, 2]:
            raise ValueError(
                "`axis` must be the spatial axes [1, 2] of channels-last 4-D inputs. "
                f"Received: axis={axis!r}"
            )
        self.axis = [1, 2]
        self.beta_initializer = keras.initializers.get(beta_initializer)
        self.gamma_initializer = keras.initializers.get(gamma_initializer)
        self.beta_regularizer = keras.regularizers.get(beta_regularizer)
        self.gamma_regularizer = keras.regularizers.get(gamma_regularizer)
        self.beta_constraint = keras.constraints.get(beta_constraint)
        self.gamma_constraint = keras.constraints.get(gamma_constraint)
        self.learned_epsilon = check_bool("learned_epsilon", learned_epsilon)
        self.learned_epsilon_constraint = keras.constraints.get(learned_epsilon_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) != 4 or any(d is None for d in input_shape[1:]):
            raise ValueError(
                "`FilterResponseNormalization` takes 4-D inputs (batch, height, width, channels) "
                f"with known height, width and channels. Received: shape={input_shape}"
            )
        if self.learned_epsilon:
            self.eps_learned = self.add_weight(
                shape=(1,),
                name="learned_epsilon",
                initializer=keras.initializers.Constant(1e-4),
                constraint=self.learned_epsilon_constraint,
            )
        shape = (1, 1, 1, input_shape[-1])
        self.gamma = self.add_weight(
            shape=shape,
            name="gamma",
            initializer=self.gamma_initializer,
            regularizer=self.gamma_regularizer,
            constraint=self.gamma_constraint,
        )
        self.beta = self.add_weight(
            shape=shape,
            name="beta",
            initializer=self.beta_initializer,
            regularizer=self.beta_regularizer,
            constraint=self.beta_constraint,
        )

    def call(self, inputs):
        epsilon = ops.cast(abs(self.epsilon), inputs.dtype)
        if self.learned_epsilon:
            epsilon = epsilon + ops.abs(ops.cast(self.eps_learned, inputs.dtype))
        nu2 = ops.mean(ops.square(inputs), axis=self.axis, keepdims=True)
        normalized = inputs * ops.rsqrt(nu2 + epsilon)
        return ops.cast(self.gamma, inputs.dtype) * normalized + ops.cast(self.beta, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        s = keras.saving.serialize_keras_object
        return {
            **super().get_config(),
            "epsilon": self.epsilon,
            "axis": self.axis,
            "beta_initializer": s(self.beta_initializer),
            "gamma_initializer": s(self.gamma_initializer),
            "beta_regularizer": s(self.beta_regularizer),
            "gamma_regularizer": s(self.gamma_regularizer),
            "beta_constraint": s(self.beta_constraint),
            "gamma_constraint": s(self.gamma_constraint),
            "learned_epsilon": self.learned_epsilon,
            "learned_epsilon_constraint": s(self.learned_epsilon_constraint),
        }
