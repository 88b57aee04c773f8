"""The learning-rate warmup and the variance rectification that TFA's RectifiedAdam and
AdaBelief share."""

from __future__ import annotations

from keras import ops


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
