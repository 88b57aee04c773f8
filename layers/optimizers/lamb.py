"""LAMB with TensorFlow Addons' arguments: weight decay inside the trust ratio, and
per-variable exclusions."""

from __future__ import annotations

import keras
from keras import ops

from layers.optimizers._tfa_common import (
    check_learning_rate,
    check_patterns,
    densify,
    matches_any,
    squared_norm,
)
from layers.validation import check_non_negative_float, check_unit_interval


@keras.saving.register_keras_serializable(package="keras_zoo")
class LAMB(keras.optimizers.Optimizer):
    """Layer-wise Adaptive Moments for Batch training, as TensorFlow Addons computes it
    (`tfa.optimizers.LAMB`).

    Adam's bias-corrected direction `u = m_hat / (sqrt(v_hat) + epsilon)` gains
    `weight_decay * w`, then each variable's step is scaled by its trust ratio
    `||w|| / ||u||` (1 where either norm is 0): `w -= lr * ratio * u`.
    `keras.optimizers.Lamb` has neither the decay inside the ratio nor the exclusions:
    variables whose name or path matches `exclude_from_weight_decay` are not decayed, those
    matching `exclude_from_layer_adaptation` (by default the same list) take ratio 1.

    An `IndexedSlices` gradient (repeated rows summed) takes the dense step, as in TFA.

    Args:
        learning_rate: a float, a `LearningRateSchedule` or a callable. Defaults to `0.001`.
        beta_1: decay of the first moment, in [0, 1). Defaults to `0.9`.
        beta_2: decay of the second moment, in [0, 1). Defaults to `0.999`.
        epsilon: added to `sqrt(v_hat)`. Defaults to `1e-6`.
        weight_decay: >= 0. Defaults to `0`.
        exclude_from_weight_decay: regular expressions of variable names. Defaults to `None`.
        exclude_from_layer_adaptation: regular expressions of variable names; `None` takes
            `exclude_from_weight_decay`. Defaults to `None`.
        name: defaults to `"LAMB"`.
        **kwargs: the options of every `keras.optimizers.Optimizer` (`clipnorm`, ...); Keras's
            own decoupled weight decay is replaced by `weight_decay` above.

    Example:

    ```python
    optimizer = LAMB(1e-3, weight_decay=0.01, exclude_from_weight_decay=["bias", "gamma"])
    ```

    Reference:
        You, Li, Reddi, Hseu, Kumar, Bhojanapalli, Song, Demmel, Keutzer and Hsieh, "Large
        Batch Optimization for Deep Learning: Training BERT in 76 minutes", ICLR 2020,
        https://arxiv.org/abs/1904.00962.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-6,
        weight_decay: float = 0.0,
        exclude_from_weight_decay: list[str] | None = None,
        exclude_from_layer_adaptation: list[str] | None = None,
        name: str = "LAMB",
        **kwargs,
    ):
        check_learning_rate(learning_rate)
        check_unit_interval("beta_1", beta_1, include_low=True, include_high=False)
        check_unit_interval("beta_2", beta_2, include_low=True, include_high=False)
        check_non_negative_float("epsilon", epsilon)
        check_non_negative_float("weight_decay", weight_decay)
        exclude_from_weight_decay = check_patterns(
            "exclude_from_weight_decay", exclude_from_weight_decay
        )
        exclude_from_layer_adaptation = check_patterns(
            "exclude_from_layer_adaptation", exclude_from_layer_adaptation
        )
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.weight_decay = weight_decay
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.decay_exclusion_patterns = exclude_from_weight_decay
        self.adaptation_exclusion_patterns = exclude_from_layer_adaptation

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["m", "v"])

    def _apply_weight_decay(self, variables):
        """LAMB's `weight_decay` is part of the step (see `update_step`), not Keras's."""

    def update_step(self, gradient, variable, learning_rate):
        grad, _ = densify(gradient, variable)
        dtype = variable.dtype
        step = ops.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = ops.cast(self.beta_1, dtype), ops.cast(self.beta_2, dtype)
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        new_m = m * beta_1 + grad * (1.0 - beta_1)
        new_v = v * beta_2 + ops.square(grad) * (1.0 - beta_2)
        self.assign(m, new_m)
        self.assign(v, new_v)
        m_hat = new_m / (1.0 - ops.power(beta_1, step))
        v_hat = new_v / (1.0 - ops.power(beta_2, step))
        update = m_hat / (ops.sqrt(v_hat) + ops.cast(self.epsilon, dtype))
        if not matches_any(variable, self.decay_exclusion_patterns):
            update = update + ops.cast(self.weight_decay, dtype) * variable
        ratio = ops.cast(1.0, dtype)
        adaptation_exclusions = self.adaptation_exclusion_patterns or self.decay_exclusion_patterns
        if not matches_any(variable, adaptation_exclusions):
            w_norm = ops.sqrt(squared_norm(variable))
            g_norm = ops.sqrt(squared_norm(update))
            safe_g_norm = ops.where(g_norm > 0, g_norm, ops.ones_like(g_norm))
            ratio = ops.where(
                (w_norm > 0) & (g_norm > 0), w_norm / safe_g_norm, ops.ones_like(w_norm)
            )
        self.assign(variable, variable - ratio * ops.cast(learning_rate, dtype) * update)

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "weight_decay": self.weight_decay,
            "exclude_from_weight_decay": self.decay_exclusion_patterns,
            "exclude_from_layer_adaptation": self.adaptation_exclusion_patterns,
        }
