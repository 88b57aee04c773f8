"""Linear warmup in front of any learning rate or schedule."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_non_negative_float, check_positive_int


@keras.saving.register_keras_serializable(package="keras_zoo")
class LinearWarmup(keras.optimizers.schedules.LearningRateSchedule):
    """Warms the learning rate up linearly, then hands over to a schedule or a constant.

    For `step < warmup_steps` the rate goes linearly from `initial_learning_rate` (at step 0)
    towards the wrapped schedule's value at `warmup_steps`; from `warmup_steps` on it is the
    wrapped schedule's value at `step` (the schedule is not shifted by the warmup, so its own
    step count stays the optimizer's). This is the gradual warmup of Goyal et al., which lets
    the large rates of large batches (see `scale_learning_rate`) train stably.

    Args:
        schedule: the rate after warmup: a float or a
            `keras.optimizers.schedules.LearningRateSchedule`.
        warmup_steps: number of warmup steps.
        initial_learning_rate: the rate at step 0. Defaults to `0.0`.
        name: name of the schedule. Defaults to `"LinearWarmup"`.

    Example:

    ```python
    peak = scale_learning_rate(0.1, batch_size=8192)  # 3.2
    decay = keras.optimizers.schedules.CosineDecay(peak, decay_steps=10_000)
    schedule = LinearWarmup(decay, warmup_steps=500)
    optimizer = keras.optimizers.SGD(schedule, momentum=0.9)
    ```

    Reference:
        Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour", 2017,
        https://arxiv.org/abs/1706.02677.
    """

    def __init__(
        self,
        schedule,
        warmup_steps: int,
        initial_learning_rate: float = 0.0,
        name: str = "LinearWarmup",
    ):
        super().__init__()
        if isinstance(schedule, dict):
            schedule = keras.optimizers.schedules.deserialize(schedule)
        is_schedule = isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule)
        is_rate = isinstance(schedule, int | float) and not isinstance(schedule, bool)
        if not (is_schedule or (is_rate and schedule >= 0)):
            raise TypeError(
                "`schedule` must be a non-negative float or a `keras.optimizers.schedules."
                f"LearningRateSchedule`. Received: schedule={schedule!r}"
            )
        check_positive_int("warmup_steps", warmup_steps)
        check_non_negative_float("initial_learning_rate", initial_learning_rate)
        self.schedule = schedule
        self.warmup_steps = warmup_steps
        self.initial_learning_rate = initial_learning_rate
        self.name = name

    def _after_warmup(self, step):
        if isinstance(self.schedule, keras.optimizers.schedules.LearningRateSchedule):
            return ops.cast(self.schedule(step), "float32")
        return ops.cast(self.schedule, "float32")

    def __call__(self, step):
        step = ops.cast(step, "float32")
        target = self._after_warmup(ops.cast(self.warmup_steps, "float32"))
        fraction = step / float(self.warmup_steps)
        warming = self.initial_learning_rate + (target - self.initial_learning_rate) * fraction
        return ops.where(step < self.warmup_steps, warming, self._after_warmup(step))

    def get_config(self):
        schedule = self.schedule
        if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
            schedule = keras.optimizers.schedules.serialize(schedule)
        return {
            "schedule": schedule,
            "warmup_steps": self.warmup_steps,
            "initial_learning_rate": self.initial_learning_rate,
            "name": self.name,
        }
