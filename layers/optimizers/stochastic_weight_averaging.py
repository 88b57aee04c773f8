"""Stochastic weight averaging as an optimizer wrapper (TFA's `SWA`)."""

from __future__ import annotations

import keras
from keras import ops

from layers.optimizers.averaged_wrapper import AveragedOptimizerWrapper
from layers.validation import check_non_negative_int, check_positive_int


@keras.saving.register_keras_serializable(package="keras_zoo")
class StochasticWeightAveraging(AveragedOptimizerWrapper):
    """Wraps an optimizer with an equal-weight average of snapshots of the weights, with
    TensorFlow Addons' arguments and numbers (`tfa.optimizers.SWA`).

    After the updates at steps `start_averaging, start_averaging + average_period, ...`
    (steps counted from 0), the weights join the running average:
    `average = (average * n + weight) / (n + 1)`, `n` the snapshots so far. The model trains
    on the raw weights; `assign_average_vars(model.trainable_variables)` puts the average in
    the model at the end (re-estimate batch-norm statistics afterwards, e.g. with
    `layers.callbacks`' batch-norm statistics callback). `layers.callbacks.SWA` is the
    callback form, with a learning-rate schedule of its own; this wrapper is for code and
    numbers written against TFA.

    Args:
        optimizer: the `keras.optimizers.Optimizer` to wrap, its serialised config, or its name.
        start_averaging: the first step averaged, >= 0. Defaults to `0`.
        average_period: steps between snapshots, >= 1. Defaults to `10`.
        name: defaults to `"SWA"`.

    Example:

    ```python
    optimizer = StochasticWeightAveraging(keras.optimizers.SGD(0.01), start_averaging=1000)
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(x, y, epochs=10)
    optimizer.assign_average_vars(model.trainable_variables)
    ```

    Reference:
        Izmailov, Podoprikhin, Garipov, Vetrov and Wilson, "Averaging Weights Leads to Wider
        Optima and Better Generalization", UAI 2018, https://arxiv.org/abs/1803.05407.
    """

    def __init__(
        self,
        optimizer,
        start_averaging: int = 0,
        average_period: int = 10,
        name: str = "SWA",
        **kwargs,
    ):
        check_non_negative_int("start_averaging", start_averaging)
        check_positive_int("average_period", average_period)
        super().__init__(optimizer, name=name, **kwargs)
        self.start_averaging = start_averaging
        self.average_period = average_period

    def average_op(self, variable, average, step):
        step = ops.cast(step, "int64")
        since_start = step - self.start_averaging
        snapshots = ops.maximum(ops.floor_divide(since_start, self.average_period), 0)
        is_snapshot = ops.logical_and(
            since_start >= 0, ops.equal(ops.mod(since_start, self.average_period), 0)
        )
        n = ops.cast(snapshots, variable.dtype)
        new_average = (average * n + variable) / (n + 1.0)
        return ops.where(is_snapshot, new_average, average)

    def get_config(self):
        return {
            **super().get_config(),
            "start_averaging": self.start_averaging,
            "average_period": self.average_period,
        }
