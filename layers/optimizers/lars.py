"""LARS: SGD with momentum and a layer-wise trust ratio."""

from __future__ import annotations

import re

import keras
from keras import ops

from layers.validation import check_non_negative_float, check_unit_interval


def _check_patterns(value) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str) or not all(isinstance(p, str) for p in value):
        raise TypeError(
            "`exclude_from_layer_adaptation` must be None or a list of regular-expression "
            f"strings. Received: exclude_from_layer_adaptation={value!r}"
        )
    for pattern in value:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(
                "`exclude_from_layer_adaptation` holds an invalid regular expression "
                f"{pattern!r} ({error}). Received: exclude_from_layer_adaptation={value!r}"
            ) from error
    return list(value)


@keras.saving.register_keras_serializable(package="keras_zoo")
class LARS(keras.optimizers.Optimizer):
    """Layer-wise Adaptive Rate Scaling.

    SGD with momentum where each weight tensor `w` gets its own local learning rate
    `trust_coefficient * ||w|| / (||g|| + weight_decay * ||w||)` (`g` the gradient of the loss),
    so that every layer moves a similar fraction of its norm per step, which keeps very large
    batches trainable. Per variable:

    ```
    local_lr = learning_rate * trust_coefficient * ||w|| / (||g|| + weight_decay * ||w||)
    velocity = momentum * velocity + local_lr * (g + weight_decay * w)
    w = w - velocity
    ```

    The local rate falls back to `learning_rate` when `||w||` or the denominator is zero (e.g. a
    zero-initialised kernel). Excluded variables take `velocity = momentum * velocity +
    learning_rate * g` with neither adaptation nor weight decay: by default every variable of
    rank <= 1, i.e. biases and the scales and offsets of normalization layers.

    Args:
        learning_rate: a float, a `keras.optimizers.schedules.LearningRateSchedule`, or a
            callable returning the rate (the paper's global rate, `gamma`).
        momentum: momentum `m`, in [0, 1). Defaults to `0.9`.
        weight_decay: L2 weight decay `beta`, folded into the gradient before the momentum
            update, as in the paper. Defaults to `0.0`.
        trust_coefficient: the trust coefficient `eta`. Defaults to `0.001`.
        exclude_from_layer_adaptation: `None` to exclude variables of rank <= 1, or a list of
            regular expressions; a variable whose path matches any of them is excluded instead.
            Defaults to `None`.
        clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency,
        loss_scale_factor, gradient_accumulation_steps, name: as in every
            `keras.optimizers.Optimizer`. `name` defaults to `"lars"`.

    Example:

    ```python
    optimizer = LARS(learning_rate=1.0, momentum=0.9, weight_decay=1e-4)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    ```

    Reference:
        You, Gitman and Ginsburg, "Large Batch Training of Convolutional Networks", 2017,
        https://arxiv.org/abs/1708.03888.
    """

    def __init__(
        self,
        learning_rate,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        trust_coefficient: float = 0.001,
        exclude_from_layer_adaptation: list[str] | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str = "lars",
        **kwargs,
    ):
        check_unit_interval("momentum", momentum, include_low=True, include_high=False)
        check_non_negative_float("weight_decay", weight_decay)
        check_non_negative_float("trust_coefficient", trust_coefficient)
        patterns = _check_patterns(exclude_from_layer_adaptation)
        # LARS's decay is part of the gradient it adapts, so Keras's decoupled decay stays off.
        super().__init__(
            learning_rate=learning_rate,
            weight_decay=None,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name,
            **kwargs,
        )
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.trust_coefficient = trust_coefficient
        self.exclude_from_layer_adaptation = patterns

    def is_adapted(self, variable) -> bool:
        """Whether `variable` gets the trust ratio and weight decay."""
        if self.exclude_from_layer_adaptation is None:
            return len(variable.shape) > 1
        path = getattr(variable, "path", variable.name)
        return not any(re.search(p, path) for p in self.exclude_from_layer_adaptation)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity")
        self._adapted = [self.is_adapted(v) for v in var_list]

    def _apply_weight_decay(self, variables):
        # Decay is folded into the adapted gradient in `update_step`, not applied decoupled.
        return

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        learning_rate = ops.cast(learning_rate, dtype)
        gradient = ops.convert_to_tensor(ops.cast(gradient, dtype))
        index = self._get_variable_index(variable)
        velocity = self._velocities[index]
        if self._adapted[index]:
            weights = ops.convert_to_tensor(variable)
            decay = ops.cast(self.weight_decay, dtype)
            weight_norm = ops.sqrt(ops.sum(ops.square(weights)))
            denominator = ops.add(ops.sqrt(ops.sum(ops.square(gradient))), decay * weight_norm)
            usable = ops.logical_and(ops.greater(weight_norm, 0), ops.greater(denominator, 0))
            safe_denominator = ops.where(usable, denominator, ops.ones_like(denominator))
            trust_ratio = ops.where(
                usable,
                ops.cast(self.trust_coefficient, dtype) * weight_norm / safe_denominator,
                ops.ones_like(weight_norm),
            )
            learning_rate = ops.multiply(learning_rate, trust_ratio)
            gradient = ops.add(gradient, ops.multiply(decay, weights))
        self.assign(
            velocity,
            ops.add(
                ops.multiply(ops.cast(self.momentum, dtype), velocity),
                ops.multiply(learning_rate, gradient),
            ),
        )
        self.assign_sub(variable, velocity)

    def get_config(self):
        return {
            **super().get_config(),
            "momentum": self.momentum,
            "weight_decay": self.weight_decay,
            "trust_coefficient": self.trust_coefficient,
            "exclude_from_layer_adaptation": self.exclude_from_layer_adaptation,
        }
