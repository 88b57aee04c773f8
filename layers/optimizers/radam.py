"""RAdam: Adam with the variance of its adaptive learning rate rectified."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_non_negative_float, check_unit_interval

# Below this length of the approximated simple moving average the adaptive step's variance is
# intractable and RAdam takes an un-adapted momentum step; 5 as in `torch.optim.RAdam`.
RECTIFICATION_THRESHOLD = 5.0


@keras.saving.register_keras_serializable(package="keras_zoo")
class RAdam(keras.optimizers.Optimizer):
    """Rectified Adam.

    Adam's adaptive learning rate has a large variance in the first steps, when few gradients
    have been seen. RAdam computes the length `rho_t` of the simple moving average that Adam's
    second moment approximates; while `rho_t <= 5` it takes a bias-corrected momentum step
    without the adaptive term, afterwards Adam's step multiplied by the rectification term
    `r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))`.
    The update follows `torch.optim.RAdam` step for step. `weight_decay` is decoupled (AdamW
    style, `torch.optim.RAdam(decoupled_weight_decay=True)`).

    Args:
        learning_rate: a float, a `keras.optimizers.schedules.LearningRateSchedule`, or a
            callable returning the rate. Defaults to `0.001`.
        beta_1: decay of the first-moment average, in [0, 1). Defaults to `0.9`.
        beta_2: decay of the second-moment average, in [0, 1). Defaults to `0.999`.
        epsilon: added to the square root of the second moment. Defaults to `1e-7`.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name: as in
            every `keras.optimizers.Optimizer`. `name` defaults to `"radam"`.

    Example:

    ```python
    model.compile(optimizer=RAdam(learning_rate=1e-3), loss="mse")
    ```

    Reference:
        Liu, Jiang, He, Chen, Liu, Gao and Han, "On the Variance of the Adaptive Learning Rate
        and Beyond", ICLR 2020, https://arxiv.org/abs/1908.03265.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str = "radam",
        **kwargs,
    ):
        check_unit_interval("beta_1", beta_1, include_low=True, include_high=False)
        check_unit_interval("beta_2", beta_2, include_low=True, include_high=False)
        check_non_negative_float("epsilon", epsilon)
        super().__init__(
            learning_rate=learning_rate,
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
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"]
        )

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        learning_rate = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        step = ops.cast(self.iterations + 1, dtype)
        beta_1 = ops.cast(self.beta_1, dtype)
        beta_2 = ops.cast(self.beta_2, dtype)
        index = self._get_variable_index(variable)
        m = self._momentums[index]
        v = self._velocities[index]

        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - beta_1))
        self.assign(
            v, ops.add(ops.multiply(v, beta_2), ops.multiply(ops.square(gradient), 1 - beta_2))
        )

        beta_2_power = ops.power(beta_2, step)
        bias_correction_1 = 1 - ops.power(beta_1, step)
        bias_correction_2 = 1 - beta_2_power
        rho_inf = 2 / (1 - beta_2) - 1
        rho_t = rho_inf - 2 * step * beta_2_power / bias_correction_2
        rectified = ops.greater(rho_t, RECTIFICATION_THRESHOLD)
        # Both branches are computed; the ratio is clamped so the unused one stays finite.
        rectification = ops.sqrt(
            ops.maximum(
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t),
                0.0,
            )
        )
        adaptive = ops.divide(ops.sqrt(bias_correction_2), ops.add(ops.sqrt(v), self.epsilon))
        scale = ops.where(rectified, ops.multiply(rectification, adaptive), ops.ones_like(adaptive))
        step_direction = ops.multiply(ops.divide(m, bias_correction_1), scale)
        self.assign_sub(variable, ops.multiply(learning_rate, step_direction))

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }
