"""MovingAverage: an exponential moving average of the weights beside any optimizer."""

from __future__ import annotations

import keras
from keras import ops

from layers.optimizers.averaged_wrapper import AveragedOptimizerWrapper
from layers.validation import check_bool, check_non_negative_int, check_unit_interval


@keras.saving.register_keras_serializable(package="keras_zoo")
class MovingAverage(AveragedOptimizerWrapper):
    """Wraps an optimizer with an exponential moving average of the weights, with TensorFlow
    Addons' arguments and numbers (`tfa.optimizers.MovingAverage`).

    The averages start at the weights; after each update at `step` (counted from 0),
    `average -= (1 - decay) * (average - weight)` with `decay = 0` before `start_step` (the
    average follows the weights), `min(average_decay, (1 + k) / (10 + k))` for
    `k = step - start_step` with `dynamic_decay`, else `average_decay`. An integer
    `num_updates` caps `average_decay` once at `(1 + num_updates) / (10 + num_updates)`.
    `assign_average_vars(model.trainable_variables)` puts the averages in the model;
    `swap_weights()` exchanges weights and averages (call it again to swap back).

    Keras's own `use_ema` is the same average with Keras's conventions; this wrapper is for
    code and numbers written against TFA.

    Args:
        optimizer: the `keras.optimizers.Optimizer` to wrap, its serialised config, or its name.
        average_decay: the decay, in [0, 1]. Defaults to `0.99`.
        num_updates: `None` or an int >= 0 (see above). Defaults to `None`.
        start_step: the step from which the average decays. Defaults to `0`.
        dynamic_decay: ramp the decay up from 0.1 as TFA does. Defaults to `False`.
        name: defaults to `"MovingAverage"`.

    Example:

    ```python
    optimizer = MovingAverage(keras.optimizers.SGD(0.1), average_decay=0.999)
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(x, y)
    optimizer.assign_average_vars(model.trainable_variables)
    ```

    Reference:
        Polyak and Juditsky, "Acceleration of Stochastic Approximation by Averaging",
        SIAM Journal on Control and Optimization, 1992.
    """

    averages_start_at_weights = True

    def __init__(
        self,
        optimizer,
        average_decay: float = 0.99,
        num_updates: int | None = None,
        start_step: int = 0,
        dynamic_decay: bool = False,
        name: str = "MovingAverage",
        **kwargs,
    ):
        check_unit_interval("average_decay", average_decay, include_low=True, include_high=True)
        if num_updates is not None:
            check_non_negative_int("num_updates", num_updates)
        check_non_negative_int("start_step", start_step)
        check_bool("dynamic_decay", dynamic_decay)
        super().__init__(optimizer, name=name, **kwargs)
        self.average_decay = average_decay
        self.num_updates = num_updates
        self.start_step = start_step
        self.dynamic_decay = dynamic_decay

    def decay_at(self, step):
        """The decay applied after the update at `step` (float32, as in TFA)."""
        decay = float(self.average_decay)
        if self.num_updates is not None:
            decay = min(decay, (1.0 + self.num_updates) / (10.0 + self.num_updates))
        step = ops.cast(step, "float32")
        decay = ops.cast(decay, "float32")
        if self.dynamic_decay:
            count = step - self.start_step
            decay = ops.minimum(decay, (1.0 + count) / (10.0 + count))
        return ops.where(step < self.start_step, ops.zeros_like(decay), decay)

    def average_op(self, variable, average, step):
        decay = ops.cast(self.decay_at(step), variable.dtype)
        return average - (average - variable) * (1.0 - decay)

    @property
    def has_shadow_copy(self) -> bool:
        """Whether the averages exist (TFA's name): once the optimizer is built."""
        return self.built

    def swap_weights(self) -> None:
        """Exchanges the model's weights and their averages."""
        for variable, average in zip(self._trainable_variables, self._averages, strict=True):
            weights = ops.copy(variable)
            variable.assign(average)
            average.assign(weights)

    def get_config(self):
        return {
            **super().get_config(),
            "average_decay": self.average_decay,
            "num_updates": self.num_updates,
            "start_step": self.start_step,
            "dynamic_decay": self.dynamic_decay,
        }
