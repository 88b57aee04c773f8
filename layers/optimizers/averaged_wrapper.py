"""The base of TFA's weight-averaging optimizer wrappers (`MovingAverage`, SWA)."""

from __future__ import annotations

import tensorflow as tf
from keras import ops

from layers.optimizers._wrapper import OptimizerWrapper


class AveragedOptimizerWrapper(OptimizerWrapper):
    """Base of the wrappers that keep an average of every weight beside the weights
    (`tfa.optimizers.AveragedOptimizerWrapper`).

    The wrapped optimizer updates the weights; after each of its updates, every weight's
    `"average"` slot becomes `average_op(weight, average, step)`, `step` being the iteration
    count before the update (0 at the first step). The model keeps training on the raw weights;
    `assign_average_vars` copies the averages into them (for evaluation or export). The
    averages are slot variables, saved in `.keras` files and checkpoints.

    Subclasses define `average_op` and, if the averages should not start at zero,
    `averages_start_at_weights = True`.

    Args:
        optimizer: the `keras.optimizers.Optimizer` to wrap, its serialised config, or its name.
        name: defaults to `"AverageOptimizer"`.

    Example:

    ```python
    class HalfWay(AveragedOptimizerWrapper):
        def average_op(self, variable, average, step):
            return (variable + average) / 2
    ```
    """

    averages_start_at_weights = False

    def __init__(self, optimizer, name: str = "AverageOptimizer", **kwargs):
        super().__init__(optimizer, name=name, **kwargs)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)

        def initial_value(variable):
            if not self.averages_start_at_weights:
                return "zeros"
            return lambda shape, dtype=None: ops.cast(ops.copy(variable), dtype or variable.dtype)

        # Created eagerly: a slot initialised from a weight cannot be lifted out of an XLA step.
        with tf.init_scope():
            self._averages = [
                self.add_variable_from_reference(
                    variable, name="average", initializer=initial_value(variable)
                )
                for variable in var_list
            ]

    def average_op(self, variable, average, step):
        """The new average of `variable`, given its current `average` and the `step` (the
        iteration count before this update, an int tensor)."""
        raise NotImplementedError

    def average_of(self, variable):
        """The `"average"` slot of a weight."""
        return self._averages[self._get_variable_index(variable)]

    def before_apply(self, trainable_variables):
        return ops.copy(self.inner_optimizer.iterations)

    def after_apply(self, trainable_variables, before) -> None:
        # With gradient accumulation the wrapped optimizer only steps on some calls.
        stepped = ops.not_equal(ops.copy(self.inner_optimizer.iterations), before)

        def update_average(variable, step, stepped):
            average = self.average_of(variable)
            new_average = ops.where(stepped, self.average_op(variable, average, step), average)
            self.assign(average, new_average)

        self.update_each_replica(update_average, trainable_variables, before, stepped)

    def assign_average_vars(self, var_list) -> None:
        """Copies each weight's average into it (`var_list`: the model's weights)."""
        for variable in var_list:
            variable.assign(self.average_of(variable))
