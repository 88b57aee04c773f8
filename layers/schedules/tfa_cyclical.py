"""TensorFlow Addons' cyclical learning rates: a triangle wave scaled by any `scale_fn` of the
cycle or of the step (`tfa.optimizers.CyclicalLearningRate`, here `ScaledCyclicalLearningRate`,
and its three named forms).

`layers.schedules.CyclicalLearningRate` is the project's mode-based schedule (PyTorch's
`CyclicLR` numbers); these take TFA's arguments (`scale_fn`, `scale_mode`) and give TFA's
numbers, for code written against TFA.
"""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import (
    check_choice,
    check_non_negative_float,
    check_positive_float,
    check_unit_interval,
)

SCALE_MODES = ("cycle", "iterations")


def _power_of(gamma):
    return lambda x: ops.power(ops.cast(gamma, "float32"), x)


@keras.saving.register_keras_serializable(package="keras_zoo")
class ScaledCyclicalLearningRate(keras.optimizers.schedules.LearningRateSchedule):
    """A learning rate on a triangle wave between two bounds, scaled by `scale_fn`: TFA's
    `tfa.optimizers.CyclicalLearningRate` (named apart from the project's mode-based
    `layers.schedules.CyclicalLearningRate`, which `.keras` files already refer to).

    With `cycle = floor(1 + step / (2 * step_size))` and
    `x = |step / step_size - 2 * cycle + 1|`, the rate is
    `initial + (maximal - initial) * max(0, 1 - x) * scale_fn(s)`, where `s` is `cycle`
    (`scale_mode="cycle"`) or `step` (`"iterations"`). Computed in float32, as TFA did.

    Args:
        initial_learning_rate: the lower bound, >= 0.
        maximal_learning_rate: the upper bound of the unscaled wave, >= 0.
        step_size: steps in half a cycle, > 0 (may be fractional).
        scale_fn: a callable of one tensor (the cycle or the step, float32) returning the
            amplitude factor. Save it in a `.keras` file by registering it
            (`keras.saving.register_keras_serializable`).
        scale_mode: `"cycle"` or `"iterations"`. Defaults to `"cycle"`.
        name: defaults to `"CyclicalLearningRate"`.

    Example:

    ```python
    schedule = ScaledCyclicalLearningRate(1e-4, 1e-2, step_size=2000, scale_fn=lambda x: 1 / x)
    model.compile(optimizer=keras.optimizers.SGD(schedule), loss="mse")
    ```

    Reference:
        Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017,
        https://arxiv.org/abs/1506.01186.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        maximal_learning_rate: float,
        step_size: float,
        scale_fn,
        scale_mode: str = "cycle",
        name: str = "CyclicalLearningRate",
    ):
        super().__init__()
        check_non_negative_float("initial_learning_rate", initial_learning_rate)
        check_non_negative_float("maximal_learning_rate", maximal_learning_rate)
        check_positive_float("step_size", step_size)
        if not callable(scale_fn):
            raise TypeError(f"`scale_fn` must be a callable. Received: scale_fn={scale_fn!r}")
        check_choice("scale_mode", scale_mode, SCALE_MODES)
        self.initial_learning_rate = initial_learning_rate
        self.maximal_learning_rate = maximal_learning_rate
        self.step_size = step_size
        self.scale_fn = scale_fn
        self.scale_mode = scale_mode
        self.name = name

    def __call__(self, step):
        step = ops.cast(step, "float32")
        initial = ops.cast(self.initial_learning_rate, "float32")
        maximal = ops.cast(self.maximal_learning_rate, "float32")
        step_size = ops.cast(self.step_size, "float32")
        cycle = ops.floor(1.0 + step / (2.0 * step_size))
        x = ops.abs(step / step_size - 2.0 * cycle + 1.0)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else step)
        wave = ops.maximum(0.0, 1.0 - x)
        return initial + (maximal - initial) * wave * ops.cast(scale, "float32")

    def _wave_config(self) -> dict:
        """Every argument but `scale_fn`."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "maximal_learning_rate": self.maximal_learning_rate,
            "step_size": self.step_size,
            "scale_mode": self.scale_mode,
            "name": self.name,
        }

    def get_config(self):
        scale_fn = keras.saving.serialize_keras_object(self.scale_fn)
        return {**self._wave_config(), "scale_fn": scale_fn}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "scale_fn" in config and not callable(config["scale_fn"]):
            config["scale_fn"] = keras.saving.deserialize_keras_object(config["scale_fn"])
        return cls(**config)


class _NamedCyclicalLearningRate(ScaledCyclicalLearningRate):
    """A `ScaledCyclicalLearningRate` whose `scale_fn` is fixed by the class."""

    def get_config(self):
        return self._wave_config()

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="keras_zoo")
class TriangularCyclicalLearningRate(_NamedCyclicalLearningRate):
    """The triangle wave with a constant amplitude (`tfa.optimizers.
    TriangularCyclicalLearningRate`; Smith's "triangular" policy).

    Args:
        initial_learning_rate, maximal_learning_rate, step_size, scale_mode: as in
            `ScaledCyclicalLearningRate` (the mode makes no difference here).
        name: defaults to `"TriangularCyclicalLearningRate"`.

    Example:

    ```python
    schedule = TriangularCyclicalLearningRate(1e-4, 1e-2, step_size=2000)
    ```

    Reference:
        Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        maximal_learning_rate: float,
        step_size: float,
        scale_mode: str = "cycle",
        name: str = "TriangularCyclicalLearningRate",
    ):
        super().__init__(
            initial_learning_rate,
            maximal_learning_rate,
            step_size,
            scale_fn=lambda x: ops.ones_like(x),
            scale_mode=scale_mode,
            name=name,
        )


@keras.saving.register_keras_serializable(package="keras_zoo")
class Triangular2CyclicalLearningRate(_NamedCyclicalLearningRate):
    """The triangle wave whose amplitude halves every cycle, `1 / 2 ** (s - 1)`
    (`tfa.optimizers.Triangular2CyclicalLearningRate`; Smith's "triangular2" policy).

    Args:
        initial_learning_rate, maximal_learning_rate, step_size, scale_mode: as in
            `ScaledCyclicalLearningRate`; `scale_mode="cycle"` (the default) halves per cycle.
        name: defaults to `"Triangular2CyclicalLearningRate"`.

    Example:

    ```python
    schedule = Triangular2CyclicalLearningRate(1e-4, 1e-2, step_size=2000)
    ```

    Reference:
        Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        maximal_learning_rate: float,
        step_size: float,
        scale_mode: str = "cycle",
        name: str = "Triangular2CyclicalLearningRate",
    ):
        super().__init__(
            initial_learning_rate,
            maximal_learning_rate,
            step_size,
            scale_fn=lambda x: 1.0 / ops.power(2.0, x - 1.0),
            scale_mode=scale_mode,
            name=name,
        )


@keras.saving.register_keras_serializable(package="keras_zoo")
class ExponentialCyclicalLearningRate(_NamedCyclicalLearningRate):
    """The triangle wave with amplitude `gamma ** s`, `s` the step by default
    (`tfa.optimizers.ExponentialCyclicalLearningRate`; Smith's "exp_range" policy).

    Args:
        initial_learning_rate, maximal_learning_rate, step_size: as in
            `ScaledCyclicalLearningRate`.
        scale_mode: `"iterations"` (the default) or `"cycle"`.
        gamma: the amplitude's decay per step (or cycle), in (0, 1]. Defaults to `1.0`.
        name: defaults to `"ExponentialCyclicalLearningRate"`.

    Example:

    ```python
    schedule = ExponentialCyclicalLearningRate(1e-4, 1e-2, step_size=2000, gamma=0.9999)
    ```

    Reference:
        Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        maximal_learning_rate: float,
        step_size: float,
        scale_mode: str = "iterations",
        gamma: float = 1.0,
        name: str = "ExponentialCyclicalLearningRate",
    ):
        check_unit_interval("gamma", gamma, include_low=False, include_high=True)
        super().__init__(
            initial_learning_rate,
            maximal_learning_rate,
            step_size,
            scale_fn=_power_of(gamma),
            scale_mode=scale_mode,
            name=name,
        )
        self.gamma = gamma

    def get_config(self):
        return {**super().get_config(), "gamma": self.gamma}
