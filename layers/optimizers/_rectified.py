"""What TFA's RectifiedAdam and AdaBelief share: their base class, the learning-rate warmup
and the variance rectification."""

from __future__ import annotations

import keras
from keras import ops

from layers.optimizers._tfa_common import (
    check_hyper_parameter,
    check_learning_rate,
    current_value,
    densify,
    deserialize_hyper_parameter,
    serialize_hyper_parameter,
    where_touched,
)
from layers.validation import (
    check_bool,
    check_non_negative_float,
    check_non_negative_int,
    check_unit_interval,
)


def warmup_then_linear_decay(learning_rate, step, total_steps, warmup_proportion, min_lr):
    """TFA's schedule for `total_steps > 0`: a linear rise from 0 over the first
    `total_steps * warmup_proportion` steps, then a linear fall to `min_lr` at `total_steps`,
    flat afterwards. `step` counts from 1."""
    dtype = step.dtype
    total_steps = ops.cast(total_steps, dtype)
    warmup_steps = total_steps * ops.cast(warmup_proportion, dtype)
    decay_steps = ops.maximum(total_steps - warmup_steps, 1.0)
    decay_rate = (ops.cast(min_lr, dtype) - learning_rate) / decay_steps
    return ops.where(
        step <= warmup_steps,
        learning_rate * (step / warmup_steps),
        learning_rate + decay_rate * ops.minimum(step - warmup_steps, decay_steps),
    )


def simple_moving_average_length(step, beta_2):
    """`(rho_t, rho_inf)`: the length of the simple moving average that Adam's second moment
    approximates at `step`, and its limit (Liu et al. 2020, eq. 5)."""
    beta_2_power = ops.power(beta_2, step)
    rho_inf = 2.0 / (1.0 - beta_2) - 1.0
    rho_t = rho_inf - 2.0 * step * beta_2_power / (1.0 - beta_2_power)
    return rho_t, rho_inf


def rectification_term(rho_t, rho_inf):
    """`r_t`, the factor that makes the adaptive step's variance that of its limit. NaN where
    `rho_t < 4`: callers select the un-adapted step there."""
    return ops.sqrt(
        (rho_t - 4.0) / (rho_inf - 4.0) * (rho_t - 2.0) / (rho_inf - 2.0) * rho_inf / rho_t
    )


class RectifiedOptimizer(keras.optimizers.Optimizer):
    """What TFA's `RectifiedAdam` and `AdaBelief` share: their common arguments and checks,
    TFA's `weight_decay` added to the step direction (not Keras's decoupled decay), and the
    optional warmup-then-decay of the learning rate (`total_steps > 0`).

    The step is shared: first moment `m`, a second moment from `second_moment` (the one thing a
    subclass defines), optional AMSGrad maximum, bias corrections, and the rectified direction
    when `rectify` is true (otherwise plain `m_hat / (sqrt(v_hat) + epsilon)`).
    """

    rectify = True

    def __init__(
        self,
        learning_rate,
        beta_1: float,
        beta_2: float,
        epsilon: float,
        weight_decay,
        amsgrad: bool,
        sma_threshold: float,
        total_steps: int,
        warmup_proportion: float,
        min_lr: float,
        name: str,
        **kwargs,
    ):
        check_learning_rate(learning_rate)
        check_unit_interval("beta_1", beta_1, include_low=True, include_high=False)
        check_unit_interval("beta_2", beta_2, include_low=True, include_high=False)
        check_non_negative_float("epsilon", epsilon)
        weight_decay = deserialize_hyper_parameter(weight_decay)
        check_hyper_parameter("weight_decay", weight_decay)
        check_bool("amsgrad", amsgrad)
        check_non_negative_float("sma_threshold", sma_threshold)
        check_non_negative_int("total_steps", total_steps)
        check_unit_interval(
            "warmup_proportion", warmup_proportion, include_low=True, include_high=True
        )
        check_non_negative_float("min_lr", min_lr)
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.weight_decay = weight_decay
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
        self.sma_threshold = sma_threshold
        self.total_steps = total_steps
        self.warmup_proportion = warmup_proportion
        self.min_lr = min_lr

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._second_moments = self.add_optimizer_variables(var_list, ["m", "v"])
        if self.amsgrad:
            self._second_moment_maxima = self.add_optimizer_variables(var_list, "vhat")

    def second_moment(self, v, grad, new_m, touched, beta_2, epsilon):
        """The new second moment of one variable (`touched`: rows of a sparse gradient)."""
        raise NotImplementedError

    def update_step(self, gradient, variable, learning_rate):
        grad, touched = densify(gradient, variable)
        dtype = variable.dtype
        step = ops.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = ops.cast(self.beta_1, dtype), ops.cast(self.beta_2, dtype)
        epsilon = ops.cast(self.epsilon, dtype)
        lr = self.scheduled_learning_rate(ops.cast(learning_rate, dtype), step)
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._second_moments[index]
        new_m = beta_1 * m + (1.0 - beta_1) * grad
        new_v = self.second_moment(v, grad, new_m, touched, beta_2, epsilon)
        self.assign(m, new_m)
        self.assign(v, new_v)
        if self.amsgrad:
            v_max = self._second_moment_maxima[index]
            new_v = ops.maximum(v_max, new_v)
            self.assign(v_max, new_v)
        m_corrected = new_m / (1.0 - ops.power(beta_1, step))
        v_corrected = ops.sqrt(new_v / (1.0 - ops.power(beta_2, step)))
        adaptive = m_corrected / (v_corrected + epsilon)
        if self.rectify:
            rho_t, rho_inf = simple_moving_average_length(step, beta_2)
            direction = ops.where(
                rho_t >= ops.cast(self.sma_threshold, dtype),
                rectification_term(rho_t, rho_inf) * adaptive,
                m_corrected,
            )
        else:
            direction = adaptive
        direction = self.with_weight_decay(direction, variable)
        self.assign(variable, where_touched(touched, variable - lr * direction, variable))

    def _apply_weight_decay(self, variables):
        """TFA's `weight_decay` is part of the step (`with_weight_decay`), not Keras's."""

    def scheduled_learning_rate(self, learning_rate, step):
        """The learning rate at `step` (from 1), after TFA's warmup and decay if enabled."""
        if self.total_steps <= 0:
            return learning_rate
        return warmup_then_linear_decay(
            learning_rate, step, self.total_steps, self.warmup_proportion, self.min_lr
        )

    def with_weight_decay(self, direction, variable):
        """The step direction plus `weight_decay * variable` (when the decay is not zero)."""
        if isinstance(self.weight_decay, int | float) and self.weight_decay == 0:
            return direction
        decay = current_value(self.weight_decay, self.iterations, variable.dtype)
        return direction + decay * variable

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "weight_decay": serialize_hyper_parameter(self.weight_decay),
            "amsgrad": self.amsgrad,
            "sma_threshold": self.sma_threshold,
            "total_steps": self.total_steps,
            "warmup_proportion": self.warmup_proportion,
            "min_lr": self.min_lr,
        }
