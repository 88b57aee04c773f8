"""Lookahead: slow weights that follow the fast weights of any optimizer."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from layers.optimizers._wrapper import OptimizerWrapper
from layers.validation import check_positive_int, check_unit_interval


def create_slow_weights(optimizer, var_list) -> list:
    """One slot variable per weight, starting at the weight's current value.

    Keras builds the optimizer inside the first traced train step when no distribution
    strategy is set. The slots are created eagerly (`tf.init_scope`), outside that step: a
    variable whose initial value is another variable's cannot be lifted out of a
    `jit_compile=True` function, so XLA would refuse the step.
    """

    def copy_of(variable):
        return lambda shape, dtype=None: ops.cast(ops.copy(variable), dtype or variable.dtype)

    with tf.init_scope():
        return [
            optimizer.add_variable_from_reference(v, name="slow", initializer=copy_of(v))
            for v in var_list
        ]


def lookahead_sync(optimizer, fast, slow, should_sync, slow_step_size) -> None:
    """Where `should_sync`: slow += slow_step_size * (fast - slow), then fast = slow."""

    def sync():
        alpha = ops.cast(slow_step_size, fast.dtype)
        new_slow = ops.add(slow, ops.multiply(alpha, ops.subtract(fast, slow)))
        optimizer.assign(slow, new_slow)
        optimizer.assign(fast, new_slow)

    ops.cond(should_sync, sync, lambda: None)


@keras.saving.register_keras_serializable(package="keras_zoo")
class Lookahead(OptimizerWrapper):
    """Wraps any Keras optimizer with Lookahead's slow weights.

    The wrapped ("fast") optimizer takes its steps as usual. Every `sync_period` of its updates,
    the slow weights move a fraction `slow_step_size` of the way towards the fast weights and
    the fast weights are reset to them:
    `slow += slow_step_size * (fast - slow); fast = slow`. The slow weights start at the
    model's weights when the optimizer is built.

    Learning rate, weight decay, clipping (`clipnorm`, ...), `gradient_accumulation_steps` and
    `use_ema` are the wrapped optimizer's arguments and keep their meaning; with gradient
    accumulation, `sync_period` counts the wrapped optimizer's real updates. `iterations` and
    `learning_rate` are the wrapped optimizer's. The slow weights are slot variables: they are
    saved in `.keras` files and checkpoints, so training resumes exactly.

    Args:
        optimizer: the `keras.optimizers.Optimizer` to wrap, its serialised config, or a Keras
            optimizer name such as `"adam"`.
        sync_period: number of fast updates between synchronisations (`k` in the paper).
            Defaults to `6`.
        slow_step_size: step size of the slow weights (`alpha` in the paper), in (0, 1].
            Defaults to `0.5`.
        name: name of the optimizer. Defaults to `"lookahead"`.

    Example:

    ```python
    optimizer = Lookahead(keras.optimizers.Adam(1e-3), sync_period=6, slow_step_size=0.5)
    model.compile(optimizer=optimizer, loss="mse")
    ```

    Reference:
        Zhang, Lucas, Hinton and Ba, "Lookahead Optimizer: k steps forward, 1 step back",
        NeurIPS 2019, https://arxiv.org/abs/1907.08610.
    """

    def __init__(
        self,
        optimizer,
        sync_period: int = 6,
        slow_step_size: float = 0.5,
        name: str = "lookahead",
        **kwargs,
    ):
        check_positive_int("sync_period", sync_period)
        check_unit_interval("slow_step_size", slow_step_size, include_low=False, include_high=True)
        super().__init__(optimizer, name=name, **kwargs)
        self.sync_period = sync_period
        self.slow_step_size = slow_step_size

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._slow_weights = create_slow_weights(self, var_list)

    def before_apply(self, trainable_variables):
        # A snapshot, not the variable: the wrapped optimizer increments it in `apply`.
        return ops.copy(self.inner_optimizer.iterations)

    def after_apply(self, trainable_variables, before) -> None:
        after = ops.copy(self.inner_optimizer.iterations)
        # With gradient accumulation the wrapped optimizer's `iterations` only moves on steps
        # that really update the weights; those are the steps Lookahead counts.
        should_sync = ops.logical_and(
            ops.not_equal(after, before), ops.equal(ops.mod(after, self.sync_period), 0)
        )

        def sync_variable(fast, should_sync):
            slow = self._slow_weights[self._get_variable_index(fast)]
            lookahead_sync(self, fast, slow, should_sync, self.slow_step_size)

        self.update_each_replica(sync_variable, trainable_variables, should_sync)

    def get_config(self):
        return {
            **super().get_config(),
            "sync_period": self.sync_period,
            "slow_step_size": self.slow_step_size,
        }
