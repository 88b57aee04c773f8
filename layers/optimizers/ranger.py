"""Ranger: RAdam with Lookahead's slow weights, as one optimizer."""

from __future__ import annotations

import keras
from keras import ops

from layers.optimizers.lookahead import create_slow_weights, lookahead_sync
from layers.optimizers.radam import RAdam
from layers.validation import check_positive_int, check_unit_interval


@keras.saving.register_keras_serializable(package="keras_zoo")
class Ranger(RAdam):
    """RAdam inside Lookahead, in one optimizer object.

    Each step is a `RAdam` step; every `sync_period` steps the slow weights move a fraction
    `slow_step_size` of the way towards the weights and the weights are reset to them, as in
    `Lookahead(RAdam(...))`. Being one optimizer, it takes both sets of arguments, has one
    config, and keeps all slots (moments and slow weights) in its own variables.

    Args:
        learning_rate, beta_1, beta_2, epsilon: as in `RAdam`. `learning_rate` defaults to
            `0.001`.
        sync_period: RAdam steps between synchronisations (`k`). Defaults to `6`.
        slow_step_size: step size of the slow weights (`alpha`), in (0, 1]. Defaults to `0.5`.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name: as in
            every `keras.optimizers.Optimizer`. `name` defaults to `"ranger"`.

    Example:

    ```python
    model.compile(optimizer=Ranger(learning_rate=1e-3, sync_period=6), loss="mse")
    ```

    References:
        Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond", ICLR 2020,
        https://arxiv.org/abs/1908.03265. Zhang et al., "Lookahead Optimizer: k steps forward,
        1 step back", NeurIPS 2019, https://arxiv.org/abs/1907.08610.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        sync_period: int = 6,
        slow_step_size: float = 0.5,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str = "ranger",
        **kwargs,
    ):
        check_positive_int("sync_period", sync_period)
        check_unit_interval("slow_step_size", slow_step_size, include_low=False, include_high=True)
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name,
            **kwargs,
        )
        self.sync_period = sync_period
        self.slow_step_size = slow_step_size

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._slow_weights = create_slow_weights(self, var_list)

    def update_step(self, gradient, variable, learning_rate):
        super().update_step(gradient, variable, learning_rate)
        slow = self._slow_weights[self._get_variable_index(variable)]
        should_sync = ops.equal(ops.mod(self.iterations + 1, self.sync_period), 0)
        lookahead_sync(self, variable, slow, should_sync, self.slow_step_size)

    def get_config(self):
        return {
            **super().get_config(),
            "sync_period": self.sync_period,
            "slow_step_size": self.slow_step_size,
        }
