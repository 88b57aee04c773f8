"""Stochastic depth: drop a residual branch per sample."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import (
    check_optional_seed,
    check_probability_open_closed,
)


@keras.saving.register_keras_serializable(package="keras_zoo")
class StochasticDepth(keras.layers.Layer):
    """Adds a residual branch to its shortcut, dropping the branch per sample while training.

    The layer takes `[shortcut, residual]` and returns `shortcut + residual` at inference. During
    training each sample keeps its residual branch with probability `survival_probability` and
    the kept branches are divided by `survival_probability`, so the expected output equals the
    inference output (the "inverted" form used by timm and keras-hub). TensorFlow Addons'
    `StochasticDepth` used the original form instead: no scaling while training and
    `shortcut + survival_probability * residual` at inference; both are equal in expectation,
    but weights trained with one form need the matching inference rule.

    Args:
        survival_probability: probability of keeping the residual branch of a sample, in
            `(0, 1]`. Defaults to `0.8`.
        seed: integer seed for the random draws, or `None`. Defaults to `None`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    x = keras.Input((32, 32, 16))
    branch = keras.layers.Conv2D(16, 3, padding="same")(x)
    y = StochasticDepth(survival_probability=0.8)([x, branch])
    ```

    Reference:
        Huang et al., "Deep Networks with Stochastic Depth", ECCV 2016.
        https://arxiv.org/abs/1603.09382
    """

    def __init__(self, survival_probability: float = 0.8, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.survival_probability = check_probability_open_closed(
            "survival_probability", survival_probability
        )
        self.seed = check_optional_seed("seed", seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def build(self, input_shape):
        if not isinstance(input_shape, list | tuple) or len(input_shape) != 2:
            raise ValueError(
                "`StochasticDepth` takes a list of two tensors `[shortcut, residual]`. "
                f"Received input shapes: {input_shape}"
            )
        shortcut, residual = (tuple(s) for s in input_shape)
        if shortcut != residual:
            raise ValueError(
                "`shortcut` and `residual` must have the same shape. "
                f"Received: shortcut.shape={shortcut}, residual.shape={residual}"
            )
        super().build(input_shape)

    def call(self, inputs, training=None):
        shortcut, residual = inputs
        if not training or self.survival_probability == 1.0:
            return shortcut + residual
        batch = ops.shape(residual)[0]
        per_sample = (batch,) + (1,) * (len(residual.shape) - 1)
        draw = keras.random.uniform(per_sample, seed=self.seed_generator)
        keep = ops.cast(draw < self.survival_probability, residual.dtype)
        return shortcut + residual * keep / ops.cast(self.survival_probability, residual.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def compute_mask(self, inputs, mask=None):
        return None if mask is None else mask[0]

    def get_config(self):
        return {
            **super().get_config(),
            "survival_probability": self.survival_probability,
            "seed": self.seed,
        }
