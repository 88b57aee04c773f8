"""Monte Carlo dropout: dropout that stays on at inference."""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="keras_zoo")
class MCDropout(keras.layers.Dropout):
    """Dropout that is applied at inference as well as in training.

    Averaging several stochastic forward passes of a network holding `MCDropout` layers gives
    Monte Carlo estimates of the predictive mean and variance (Gal and Ghahramani's
    approximation of a Bayesian neural network). The `training` argument is ignored: every call
    drops units with probability `rate` and scales the kept ones by `1 / (1 - rate)`.

    Args:
        rate: fraction of input units to drop, in `[0, 1)`.
        noise_shape: shape of the binary dropout mask that is broadcast against the input, as
            in `keras.layers.Dropout`. Defaults to `None` (an independent draw per element).
        seed: integer seed for the random draws, or `None`. Defaults to `None`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    inputs = keras.Input((8,))
    x = keras.layers.Dense(32, activation="relu")(inputs)
    x = MCDropout(0.2, seed=1)(x)
    model = keras.Model(inputs, keras.layers.Dense(1)(x))
    samples = keras.ops.stack([model(features) for _ in range(20)])
    mean, variance = keras.ops.mean(samples, 0), keras.ops.var(samples, 0)
    ```

    Reference:
        Gal and Ghahramani, "Dropout as a Bayesian Approximation: Representing Model
        Uncertainty in Deep Learning", ICML 2016. https://arxiv.org/abs/1506.02142
    """

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None, **kwargs):
        # keras's Dropout validates `rate` and `seed` with messages that quote the value.
        super().__init__(rate, noise_shape=noise_shape, seed=seed, **kwargs)

    def call(self, inputs, training=None):
        return super().call(inputs, training=True)
