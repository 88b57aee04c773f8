"""Shakeout: a Dense layer whose weights are shaken towards L1 + L2 regularization."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import (
    check_non_negative_float,
    check_optional_seed,
    check_positive_int,
    check_rate,
)


def shakeout_matmul(inputs, kernel, keep, rate: float, c: float):
    """`inputs @ W~` where each example's `W~` is the kernel shaken by its keep mask `keep`.

    For input unit `j` of an example, the paper sets row `j` of the weights to
    `(W_j + c * rate * sign(W_j)) / (1 - rate)` when `keep_j = 1` and to `-c * sign(W_j)` when
    `keep_j = 0`. Splitting the sum over `j` by `keep` gives two ordinary matrix products, so no
    per-example weight matrix is ever built.

    Args:
        inputs: `(..., input_dim)` activations.
        kernel: `(input_dim, units)` weights.
        keep: a 0/1 tensor shaped like `inputs`.
        rate: the shakeout rate `tau` in `[0, 1)`.
        c: the shakeout strength `c >= 0`.

    Returns:
        `(..., units)` outputs.
    """
    sign = ops.sign(kernel)
    kept = ops.matmul(inputs * keep, (kernel + c * rate * sign) / (1.0 - rate))
    shaken = ops.matmul(inputs * (1.0 - keep), sign)
    return kept - c * shaken


@keras.saving.register_keras_serializable(package="keras_zoo")
class ShakeoutDense(keras.layers.Dense):
    """A `Dense` layer trained with Shakeout noise on its weights.

    While training, every input unit of every example is kept with probability `1 - rate`. The
    weights leaving a kept unit become `(W + c * rate * sign(W)) / (1 - rate)`; those leaving a
    dropped unit become `-c * sign(W)`. The shaken weights equal `W` in expectation, and the noise
    acts as a mixture of L1 (strength set by `c`) and L2 regularization, which drives weights to
    exact zeros. With `c = 0` this is inverted dropout on the layer's inputs. At inference the
    layer is a plain `Dense` layer. The bias is not shaken.

    Args:
        units: dimensionality of the output.
        rate: the Shakeout rate `tau`, the probability of dropping an input unit, in `[0, 1)`.
            Defaults to `0.5`.
        c: the Shakeout strength, `>= 0`; larger values give sparser weights.
            Defaults to `0.1`.
        seed: integer seed for the random draws, or `None`. Defaults to `None`.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
            bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint:
            as in `keras.layers.Dense`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    inputs = keras.Input((64,))
    x = ShakeoutDense(32, rate=0.5, c=0.1, activation="relu", seed=0)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(10)(x))
    ```

    Reference:
        Kang, Li and Tao, "Shakeout: A New Regularized Deep Neural Network Training Scheme",
        AAAI 2016. https://ojs.aaai.org/index.php/AAAI/article/view/10202
    """

    def __init__(
        self,
        units: int,
        rate: float = 0.5,
        c: float = 0.1,
        seed: int | None = None,
        activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        check_positive_int("units", units)
        super().__init__(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )
        self.rate = check_rate("rate", rate)
        self.c = check_non_negative_float("c", c)
        self.seed = check_optional_seed("seed", seed)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training or (self.rate == 0.0 and self.c == 0.0):
            return super().call(inputs)
        draw = keras.random.uniform(ops.shape(inputs), seed=self.seed_generator)
        keep = ops.cast(draw >= self.rate, inputs.dtype)
        outputs = shakeout_matmul(inputs, self.kernel, keep, self.rate, self.c)
        if self.use_bias:
            outputs = outputs + self.bias
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def get_config(self):
        return {
            **super().get_config(),
            # keras's Dense takes this argument but leaves it out of its config.
            "activity_regularizer": keras.regularizers.serialize(self.activity_regularizer),
            "rate": self.rate,
            "c": self.c,
            "seed": self.seed,
        }
