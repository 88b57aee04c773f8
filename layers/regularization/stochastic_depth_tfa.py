"""Stochastic depth in its original form (TensorFlow Addons'): one draw per batch, scaled at
inference."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_bool, check_optional_seed, check_probability_open_closed


def _is_shape_or_tensor(value) -> bool:
    """A shape (tuple/list of dimensions) or a tensor-like with a `shape`; not a bare number."""
    return isinstance(value, list | tuple) or hasattr(value, "shape")


@keras.saving.register_keras_serializable(package="keras_zoo")
class TFAStochasticDepth(keras.layers.Layer):
    """TensorFlow Addons' `StochasticDepth`: `[shortcut, residual]` to `shortcut + b * residual`.

    With `scale_at_inference=True` (TFA's behaviour, the default), training keeps the whole
    batch's residual branch or drops it with one Bernoulli(`survival_probability`) draw `b`, and
    inference returns `shortcut + survival_probability * residual`, so weights trained with TFA
    give TFA's outputs. With `scale_at_inference=False` the kept branch is divided by
    `survival_probability` while training and inference returns `shortcut + residual` (the
    inverted form; `layers.StochasticDepth` is that form with one draw per sample).

    Args:
        survival_probability: probability of keeping the residual branch, in `(0, 1]`.
            Defaults to `0.5` (TFA's default).
        scale_at_inference: TFA's rule (scale at inference) or the inverted one. Defaults to
            `True`.
        seed: integer seed for the draws, or `None`. Defaults to `None`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    x = keras.Input((32, 32, 16))
    branch = keras.layers.Conv2D(16, 3, padding="same")(x)
    y = TFAStochasticDepth(survival_probability=0.8)([x, branch])
    ```

    Reference:
        Huang et al., "Deep Networks with Stochastic Depth", ECCV 2016.
        https://arxiv.org/abs/1603.09382
    """

    def __init__(
        self,
        survival_probability: float = 0.5,
        scale_at_inference: bool = True,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.survival_probability = check_probability_open_closed(
            "survival_probability", survival_probability
        )
        self.scale_at_inference = check_bool("scale_at_inference", scale_at_inference)
        self.seed = check_optional_seed("seed", seed)
        self.seed_generator = keras.random.SeedGenerator(seed)

    @staticmethod
    def _check(shapes):
        is_pair = isinstance(shapes, list | tuple) and len(shapes) == 2
        if not is_pair or not all(_is_shape_or_tensor(s) for s in shapes):
            raise ValueError(
                "`TFAStochasticDepth` takes a list of two tensors `[shortcut, residual]`. "
                f"Received: {shapes!r}"
            )

    def build(self, input_shape):
        self._check(input_shape)

    def call(self, inputs, training=None):
        self._check(inputs)
        shortcut, residual = inputs
        p = self.survival_probability
        if not training:
            return shortcut + (p * residual if self.scale_at_inference else residual)
        draw = keras.random.uniform((), seed=self.seed_generator)
        keep = ops.cast(draw < p, residual.dtype)
        if not self.scale_at_inference:
            keep = keep / p
        return shortcut + keep * residual

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return input_shape[0]

    def get_config(self):
        return {
            **super().get_config(),
            "survival_probability": self.survival_probability,
            "scale_at_inference": self.scale_at_inference,
            "seed": self.seed,
        }
