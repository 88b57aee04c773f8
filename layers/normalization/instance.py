"""Instance normalization as a special case of keras's group normalization."""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="keras_zoo")
class InstanceNormalization(keras.layers.GroupNormalization):
    """Normalizes each channel of each sample over its spatial positions.

    This is `keras.layers.GroupNormalization` with one group per channel: for every sample and
    channel, the values are shifted by their mean and divided by
    `sqrt(variance + epsilon)` over all non-batch, non-channel axes, then scaled by `gamma` and
    shifted by `beta` (one of each per channel). It replaces TensorFlow Addons'
    `InstanceNormalization` (same defaults).

    Args:
        axis: the channel axis. Defaults to `-1`.
        epsilon: small float added to the variance. Defaults to `1e-3`.
        center: whether to add the learned offset `beta`. Defaults to `True`.
        scale: whether to multiply by the learned scale `gamma`. Defaults to `True`.
        beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
            beta_constraint, gamma_constraint: as in `keras.layers.GroupNormalization`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    x = keras.Input((64, 64, 3))
    y = InstanceNormalization()(keras.layers.Conv2D(16, 3)(x))
    ```

    Reference:
        Ulyanov, Vedaldi and Lempitsky, "Instance Normalization: The Missing Ingredient for Fast
        Stylization", 2016. https://arxiv.org/abs/1607.08022
    """

    def __init__(
        self,
        axis: int = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        if "groups" in kwargs:
            raise TypeError(
                "`InstanceNormalization` always uses one group per channel; use "
                f"`keras.layers.GroupNormalization` for other groupings. "
                f"Received: groups={kwargs['groups']!r}"
            )
        # keras's GroupNormalization reads groups=-1 as one group per channel.
        super().__init__(
            groups=-1,
            axis=axis,
            epsilon=epsilon,
            center=center,
            scale=scale,
            beta_initializer=beta_initializer,
            gamma_initializer=gamma_initializer,
            beta_regularizer=beta_regularizer,
            gamma_regularizer=gamma_regularizer,
            beta_constraint=beta_constraint,
            gamma_constraint=gamma_constraint,
            **kwargs,
        )

    def get_config(self):
        config = super().get_config()
        # The group count follows from the input; it is not an argument of this class.
        del config["groups"]
        return config
