"""Yogi: Adam whose second moment moves additively, by the sign of its error."""

from __future__ import annotations

import keras
from keras import ops

from layers.optimizers._tfa_common import (
    check_learning_rate,
    densify,
    where_touched,
)
from layers.validation import (
    check_choice,
    check_non_negative_float,
    check_positive_float,
    check_unit_interval,
)


def proximal_l1_l2(value, per_coordinate_lr, l1, l2):
    """The proximal step of `l1 * |w| + l2 / 2 * w**2` at `value` (TFA's Yogi regularisation)."""
    denominator = 1.0 + l2 * per_coordinate_lr
    threshold = l1 * per_coordinate_lr
    shrunk = (value - ops.sign(value) * threshold) / denominator
    return ops.where(ops.abs(value) > threshold, shrunk, ops.zeros_like(value))


@keras.saving.register_keras_serializable(package="keras_zoo")
class Yogi(keras.optimizers.Optimizer):
    """Yogi, with TensorFlow Addons' arguments, defaults and numbers (`tfa.optimizers.Yogi`).

    Adam's second moment `v` follows `g**2` multiplicatively and can grow the effective
    learning rate quickly when gradients become sparse; Yogi moves it additively:
    `v += (1 - beta2) * sign(g**2 - v) * g**2`. The step is Adam's,
    `lr * sqrt(1 - beta2**t) / (1 - beta1**t) * m / (sqrt(v) + epsilon)`, followed by an
    optional proximal L1/L2 step. With `beta1 == 0` no first moment is kept.

    For an `IndexedSlices` gradient (repeated rows summed) the first moment decays on every
    row, the second moment and the variable move only on the rows present, as in TFA.

    Args:
        learning_rate: a float, a `LearningRateSchedule` or a callable. Defaults to `0.01`.
        beta1: decay of the first moment, in [0, 1). Defaults to `0.9`.
        beta2: decay of the second moment, in [0, 1). Defaults to `0.999`.
        epsilon: added to `sqrt(v)`; trades adaptivity for noise. Defaults to `1e-3`.
        l1_regularization_strength: L1 strength of the proximal step, >= 0. Defaults to `0`.
        l2_regularization_strength: L2 strength of the proximal step, >= 0. Defaults to `0`.
        initial_accumulator_value: starting value of `v`, > 0. Defaults to `1e-6`.
        activation: `"sign"` (hard) or `"tanh"` (`tanh(10 x)`, soft) for the sign of
            `g**2 - v`. Defaults to `"sign"`.
        name: defaults to `"Yogi"`.
        **kwargs: the options of every `keras.optimizers.Optimizer` (`clipnorm`, ...).

    Example:

    ```python
    model.compile(optimizer=Yogi(learning_rate=0.01), loss="mse")
    ```

    Reference:
        Zaheer, Reddi, Sachan, Kale and Kumar, "Adaptive Methods for Nonconvex Optimization",
        NeurIPS 2018.
    """

    def __init__(
        self,
        learning_rate=0.01,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-3,
        l1_regularization_strength: float = 0.0,
        l2_regularization_strength: float = 0.0,
        initial_accumulator_value: float = 1e-6,
        activation: str = "sign",
        name: str = "Yogi",
        **kwargs,
    ):
        check_learning_rate(learning_rate)
        check_unit_interval("beta1", beta1, include_low=True, include_high=False)
        check_unit_interval("beta2", beta2, include_low=True, include_high=False)
        check_non_negative_float("epsilon", epsilon)
        check_non_negative_float("l1_regularization_strength", l1_regularization_strength)
        check_non_negative_float("l2_regularization_strength", l2_regularization_strength)
        check_positive_float("initial_accumulator_value", initial_accumulator_value)
        check_choice("activation", activation, ("sign", "tanh"))
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.initial_accumulator_value = initial_accumulator_value
        self.activation = activation

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        initializer = keras.initializers.Constant(self.initial_accumulator_value)
        self._second_moments = [
            self.add_variable_from_reference(v, name="v", initializer=initializer) for v in var_list
        ]
        self._first_moments = (
            self.add_optimizer_variables(var_list, "m") if self.beta1 > 0 else None
        )

    def update_step(self, gradient, variable, learning_rate):
        grad, touched = densify(gradient, variable)
        dtype = variable.dtype
        step = ops.cast(self.iterations + 1, dtype)
        beta1, beta2 = ops.cast(self.beta1, dtype), ops.cast(self.beta2, dtype)
        lr = (
            ops.cast(learning_rate, dtype)
            * ops.sqrt(1.0 - ops.power(beta2, step))
            / (1.0 - ops.power(beta1, step))
        )
        index = self._get_variable_index(variable)
        v = self._second_moments[index]
        direction = grad
        if self._first_moments is not None:
            m = self._first_moments[index]
            direction = m * beta1 + grad * (1.0 - beta1)  # every row decays, as in TFA
            self.assign(m, direction)
        grad2 = ops.square(grad)
        error = grad2 - v
        sign = ops.sign(error) if self.activation == "sign" else ops.tanh(10.0 * error)
        new_v = v + (1.0 - beta2) * sign * grad2
        per_coordinate_lr = lr / (ops.sqrt(new_v) + ops.cast(self.epsilon, dtype))
        new_var = variable - per_coordinate_lr * direction
        l1 = ops.cast(self.l1_regularization_strength, dtype)
        l2 = ops.cast(self.l2_regularization_strength, dtype)
        if self.l1_regularization_strength > 0:
            new_var = proximal_l1_l2(new_var, per_coordinate_lr, l1, l2)
        elif self.l2_regularization_strength > 0:
            new_var = new_var / (1.0 + l2 * per_coordinate_lr)
        self.assign(v, where_touched(touched, new_v, v))
        self.assign(variable, where_touched(touched, new_var, variable))

    def get_config(self):
        return {
            **super().get_config(),
            "beta1": self.beta1,
            "beta2": self.beta2,
            "epsilon": self.epsilon,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "initial_accumulator_value": self.initial_accumulator_value,
            "activation": self.activation,
        }
