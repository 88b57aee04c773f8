"""Cyclical learning rates (triangular, triangular2, exp_range)."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import (
    check_choice,
    check_non_negative_float,
    check_positive_float,
    check_positive_int,
    check_unit_interval,
)

MODES = ("triangular", "triangular2", "exp_range")


@keras.saving.register_keras_serializable(package="keras_zoo")
class CyclicalLearningRate(keras.optimizers.schedules.LearningRateSchedule):
    """A learning rate that cycles between two bounds.

    The rate rises linearly from `initial_learning_rate` to `maximal_learning_rate` over
    `step_size` steps, falls back over the next `step_size` steps, and repeats. The amplitude
    is scaled by the mode's policy:

    - `"triangular"`: constant amplitude.
    - `"triangular2"`: the amplitude halves every cycle (`1 / 2 ** (cycle - 1)`).
    - `"exp_range"`: the amplitude decays by `gamma ** step` at every step.

    Values equal PyTorch's `torch.optim.lr_scheduler.CyclicLR` with
    `step_size_up=step_size_down=step_size` at every step (`step` = PyTorch's `last_epoch`).

    Args:
        initial_learning_rate: the lower bound, at step 0. Non-negative.
        maximal_learning_rate: the upper bound, reached at `step_size` (before scaling).
        step_size: steps in half a cycle; Smith suggests 2 to 10 epochs' worth of steps.
        mode: `"triangular"`, `"triangular2"` or `"exp_range"`. Defaults to `"triangular"`.
        gamma: the per-step decay of `"exp_range"`, in (0, 1]. Defaults to `1.0`.
        name: name of the schedule. Defaults to `"CyclicalLearningRate"`.

    Example:

    ```python
    schedule = CyclicalLearningRate(1e-4, 1e-2, step_size=2000, mode="triangular2")
    model.compile(optimizer=keras.optimizers.SGD(schedule, momentum=0.9), loss="mse")
    ```

    Reference:
        Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017,
        https://arxiv.org/abs/1506.01186.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        maximal_learning_rate: float,
        step_size: int,
        mode: str = "triangular",
        gamma: float = 1.0,
        name: str = "CyclicalLearningRate",
    ):
        super().__init__()
        check_non_negative_float("initial_learning_rate", initial_learning_rate)
        check_positive_float("maximal_learning_rate", maximal_learning_rate)
        check_positive_int("step_size", step_size)
        check_choice("mode", mode, MODES)
        check_unit_interval("gamma", gamma, include_low=False, include_high=True)
        self.initial_learning_rate = initial_learning_rate
        self.maximal_learning_rate = maximal_learning_rate
        self.step_size = step_size
        self.mode = mode
        self.gamma = gamma
        self.name = name

    def __call__(self, step):
        # float64 keeps `gamma ** step` and the cycle position exact for long runs.
        step = ops.cast(step, "float64")
        total = 2.0 * self.step_size
        cycle = ops.floor(1.0 + step / total)
        x = 1.0 + step / total - cycle
        scale_factor = ops.where(x <= 0.5, x / 0.5, (x - 1.0) / -0.5)
        if self.mode == "triangular":
            amplitude = ops.ones_like(step)
        elif self.mode == "triangular2":
            amplitude = 1.0 / ops.power(2.0, cycle - 1.0)
        else:
            amplitude = ops.power(ops.cast(self.gamma, "float64"), step)
        height = (self.maximal_learning_rate - self.initial_learning_rate) * scale_factor
        rate = self.initial_learning_rate + height * amplitude
        return ops.cast(rate, "float32")

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "maximal_learning_rate": self.maximal_learning_rate,
            "step_size": self.step_size,
            "mode": self.mode,
            "gamma": self.gamma,
            "name": self.name,
        }
