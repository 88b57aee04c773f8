"""The one-cycle learning-rate policy."""

from __future__ import annotations

import math

import keras
from keras import ops

from layers.validation import check_positive_float, check_positive_int, check_unit_interval


def _cosine_anneal(start, end, fraction):
    return end + (start - end) / 2.0 * (ops.cos(math.pi * fraction) + 1.0)


@keras.saving.register_keras_serializable(package="keras_zoo")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """One cycle: a cosine rise to `max_learning_rate`, then a cosine fall far below the start.

    The rate starts at `max_learning_rate / div_factor`, rises to `max_learning_rate` over the
    first `pct_start` of `total_steps`, then falls to
    `max_learning_rate / (div_factor * final_div_factor)` at step `total_steps - 1`, both
    phases annealed with a cosine. Values equal PyTorch's `torch.optim.lr_scheduler.OneCycleLR`
    (`anneal_strategy="cos"`, `three_phase=False`) at steps `0 .. total_steps - 1`; past the
    end the rate stays at its final value (PyTorch raises instead).

    Args:
        max_learning_rate: the peak rate.
        total_steps: the number of training steps in the cycle (epochs * steps per epoch).
        pct_start: fraction of the steps spent rising, in [0, 1]. Defaults to `0.3`.
        div_factor: the starting rate is `max_learning_rate / div_factor`. Defaults to `25.0`.
        final_div_factor: the final rate is the starting rate / `final_div_factor`.
            Defaults to `1e4`.
        name: name of the schedule. Defaults to `"OneCycle"`.

    Example:

    ```python
    schedule = OneCycle(max_learning_rate=0.01, total_steps=epochs * steps_per_epoch)
    model.compile(optimizer=keras.optimizers.AdamW(schedule), loss="mse")
    ```

    Reference:
        Smith and Topin, "Super-Convergence: Very Fast Training of Neural Networks Using Large
        Learning Rates", 2017, https://arxiv.org/abs/1708.07120.
    """

    def __init__(
        self,
        max_learning_rate: float,
        total_steps: int,
        pct_start: float = 0.3,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        name: str = "OneCycle",
    ):
        super().__init__()
        check_positive_float("max_learning_rate", max_learning_rate)
        check_positive_int("total_steps", total_steps)
        check_unit_interval("pct_start", pct_start, include_low=True, include_high=True)
        check_positive_float("div_factor", div_factor)
        check_positive_float("final_div_factor", final_div_factor)
        self.max_learning_rate = max_learning_rate
        self.total_steps = total_steps
        self.pct_start = pct_start
        self.div_factor = div_factor
        self.final_div_factor = final_div_factor
        self.name = name

    def __call__(self, step):
        step = ops.minimum(ops.cast(step, "float64"), float(self.total_steps - 1))
        initial = self.max_learning_rate / self.div_factor
        final = initial / self.final_div_factor
        # Phase boundaries as in PyTorch: the rise ends at step pct_start * total_steps - 1.
        rise_end = float(self.pct_start * self.total_steps) - 1.0
        fall_end = float(self.total_steps - 1)
        rising = ops.less_equal(step, rise_end)
        # A zero-length phase (a one-step rise, or one step in all) starts at its start value.
        rise = _cosine_anneal(initial, self.max_learning_rate, step / max(rise_end, 1e-12))
        fall_fraction = (step - rise_end) / max(fall_end - rise_end, 1e-12)
        fall = _cosine_anneal(self.max_learning_rate, final, fall_fraction)
        return ops.cast(ops.where(rising, rise, fall), "float32")

    def get_config(self):
        return {
            "max_learning_rate": self.max_learning_rate,
            "total_steps": self.total_steps,
            "pct_start": self.pct_start,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
            "name": self.name,
        }
