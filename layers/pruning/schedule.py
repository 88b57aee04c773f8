"""The gradual pruning schedule of Zhu and Gupta (2017)."""

from __future__ import annotations

import keras

from layers.validation import check_non_negative_int, check_positive_float, check_positive_int


@keras.saving.register_keras_serializable(package="keras_zoo")
class PolynomialSparsity:
    """Sparsity that rises from `initial_sparsity` to the target along a cubic (by default) curve.

    `s_t = s_f + (s_i - s_f) * (1 - (t - begin_step) / (end_step - begin_step)) ** power` for
    `begin_step <= t <= end_step`; `s_i` before, `s_f` after. Masks are recomputed every
    `frequency` steps in that window, so the network recovers between pruning steps.

    Args:
        begin_step: optimizer step at which pruning starts. Defaults to `0`.
        end_step: optimizer step at which the target sparsity is reached. Defaults to `1000`.
        initial_sparsity: sparsity at `begin_step`. Defaults to `0.0`.
        power: exponent of the curve. Defaults to `3.0` (the paper's).
        frequency: steps between mask updates. Defaults to `100`.

    Example:

    ```python
    schedule = PolynomialSparsity(begin_step=0, end_step=500, frequency=50)
    schedule(250, target_sparsity=0.8)  # 0.7
    ```

    Reference:
        Zhu and Gupta, "To prune, or not to prune: exploring the efficacy of pruning for model
        compression", 2017. https://arxiv.org/abs/1710.01878
    """

    def __init__(
        self,
        begin_step: int = 0,
        end_step: int = 1000,
        initial_sparsity: float = 0.0,
        power: float = 3.0,
        frequency: int = 100,
    ):
        self.begin_step = check_non_negative_int("begin_step", begin_step)
        self.end_step = check_positive_int("end_step", end_step)
        if self.end_step <= self.begin_step:
            raise ValueError(
                "`end_step` must be greater than `begin_step`. "
                f"Received: end_step={end_step!r}, begin_step={begin_step!r}"
            )
        if not 0.0 <= initial_sparsity < 1.0:
            raise ValueError(
                "`initial_sparsity` must be in [0, 1). "
                f"Received: initial_sparsity={initial_sparsity!r}"
            )
        self.initial_sparsity = float(initial_sparsity)
        self.power = check_positive_float("power", power)
        self.frequency = check_positive_int("frequency", frequency)

    def __call__(self, step: int, target_sparsity: float) -> float:
        if step <= self.begin_step:
            return self.initial_sparsity
        progress = min(1.0, (step - self.begin_step) / (self.end_step - self.begin_step))
        return (
            target_sparsity
            + (self.initial_sparsity - target_sparsity) * (1.0 - progress) ** self.power
        )

    def should_update(self, step: int) -> bool:
        """Whether masks are recomputed after optimizer step `step`."""
        if step < self.begin_step:
            return False
        if step >= self.end_step:
            return step == self.end_step
        return (step - self.begin_step) % self.frequency == 0

    def get_config(self) -> dict:
        return {
            "begin_step": self.begin_step,
            "end_step": self.end_step,
            "initial_sparsity": self.initial_sparsity,
            "power": self.power,
            "frequency": self.frequency,
        }

    @classmethod
    def from_config(cls, config: dict) -> PolynomialSparsity:
        return cls(**config)
