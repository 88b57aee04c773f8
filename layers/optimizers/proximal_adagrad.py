"""ProximalAdagrad: Adagrad followed by the proximal step of L1 and L2 regularisation."""

from __future__ import annotations

import keras
from keras import ops

from layers.optimizers._tfa_common import check_learning_rate, densify, where_touched
from layers.validation import check_non_negative_float


@keras.saving.register_keras_serializable(package="keras_zoo")
class ProximalAdagrad(keras.optimizers.Optimizer):
    """Adagrad with a proximal L1/L2 step, with TensorFlow Addons' arguments and numbers
    (`tfa.optimizers.ProximalAdagrad`, TensorFlow's `ApplyProximalAdagrad` kernel).

    `acc += g**2; eta = lr / sqrt(acc); w' = w - eta * g`, then
    `w = sign(w') * max(|w'| - eta * l1, 0) / (1 + eta * l2)`. For an `IndexedSlices`
    gradient (repeated rows summed) only the rows present update their accumulator and value.

    Args:
        learning_rate: a float, a `LearningRateSchedule` or a callable. Defaults to `0.001`.
        initial_accumulator_value: starting value of the accumulators, >= 0. Defaults to `0.1`.
        l1_regularization_strength: >= 0. Defaults to `0`.
        l2_regularization_strength: >= 0. Defaults to `0`.
        name: defaults to `"ProximalAdagrad"`.
        **kwargs: the options of every `keras.optimizers.Optimizer` (`clipnorm`, ...).

    Example:

    ```python
    model.compile(optimizer=ProximalAdagrad(0.1, l1_regularization_strength=1e-3), loss="mse")
    ```

    Reference:
        Duchi and Singer, "Efficient Online and Batch Learning Using Forward Backward
        Splitting", JMLR 2009.
    """

    def __init__(
        self,
        learning_rate=0.001,
        initial_accumulator_value: float = 0.1,
        l1_regularization_strength: float = 0.0,
        l2_regularization_strength: float = 0.0,
        name: str = "ProximalAdagrad",
        **kwargs,
    ):
        check_learning_rate(learning_rate)
        check_non_negative_float("initial_accumulator_value", initial_accumulator_value)
        check_non_negative_float("l1_regularization_strength", l1_regularization_strength)
        check_non_negative_float("l2_regularization_strength", l2_regularization_strength)
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulators = self.add_optimizer_variables(
            var_list,
            "accumulator",
            initializer=keras.initializers.Constant(self.initial_accumulator_value),
        )

    def update_step(self, gradient, variable, learning_rate):
        grad, touched = densify(gradient, variable)
        dtype = variable.dtype
        accumulator = self._accumulators[self._get_variable_index(variable)]
        new_accumulator = accumulator + ops.square(grad)
        eta = ops.cast(learning_rate, dtype) / ops.sqrt(new_accumulator)
        moved = variable - eta * grad
        l1 = ops.cast(self.l1_regularization_strength, dtype)
        l2 = ops.cast(self.l2_regularization_strength, dtype)
        shrunk = ops.sign(moved) * ops.maximum(ops.abs(moved) - eta * l1, 0.0) / (1.0 + eta * l2)
        self.assign(accumulator, where_touched(touched, new_accumulator, accumulator))
        self.assign(variable, where_touched(touched, shrunk, variable))

    def get_config(self):
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
        }
