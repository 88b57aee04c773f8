"""NovoGrad: momentum on gradients normalised by a per-layer second moment."""

from __future__ import annotations

import re

import keras
import tensorflow as tf
from keras import ops

from layers.optimizers._tfa_common import (
    check_learning_rate,
    densify,
    squared_norm,
    where_touched,
)
from layers.validation import check_bool, check_non_negative_float, check_unit_interval
from layers.xla import compiling_with_xla


@keras.saving.register_keras_serializable(package="keras_zoo")
class NovoGrad(keras.optimizers.Optimizer):
    """NovoGrad, with TensorFlow Addons' arguments, defaults and numbers
    (`tfa.optimizers.NovoGrad`).

    Each variable (layer) keeps one scalar second moment, the running mean of its gradient's
    squared norm: `v = ||g||**2` at the first step, then `v = beta_2 * v + (1 - beta_2) *
    ||g||**2`. The gradient is divided by `sqrt(v) + epsilon`, `weight_decay * w` is added, the
    result is scaled by `1 - beta_1` after the first step when `grad_averaging`, and Keras 2's
    momentum step follows: `m = beta_1 * m - lr * d; w += m`. `amsgrad` uses the running
    maximum of `v`.

    For an `IndexedSlices` gradient (repeated rows summed) `v` takes the norm of the rows
    present, and only those rows of the momentum and the variable move, as in TFA.

    Args:
        learning_rate: a float, a `LearningRateSchedule` or a callable. Defaults to `0.001`.
        beta_1: the momentum, in [0, 1). Defaults to `0.9`.
        beta_2: decay of the per-layer second moment, in [0, 1). Defaults to `0.999`.
        epsilon: added to `sqrt(v)`. Defaults to `1e-7`.
        weight_decay: >= 0, added as `weight_decay * w` to the normalised gradient.
            Defaults to `0`.
        grad_averaging: scale the normalised gradient by `1 - beta_1`. Defaults to `False`.
        amsgrad: use the running maximum of `v`. Defaults to `False`.
        name: defaults to `"NovoGrad"`.
        **kwargs: the options of every `keras.optimizers.Optimizer` (`clipnorm`, ...); Keras's
            own decoupled weight decay is replaced by `weight_decay` above.

    Example:

    ```python
    model.compile(optimizer=NovoGrad(1e-3, weight_decay=1e-3, grad_averaging=True), loss="mse")
    ```

    Reference:
        Ginsburg, Castonguay, Hrinchuk, Kuchaiev, Lavrukhin, Leary, Li, Nguyen, Zhang and
        Cohen, "Stochastic Gradient Methods with Layer-wise Adaptive Moments for Training of
        Deep Networks", 2019, https://arxiv.org/abs/1905.11286.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        weight_decay: float = 0.0,
        grad_averaging: bool = False,
        amsgrad: bool = False,
        name: str = "NovoGrad",
        **kwargs,
    ):
        check_learning_rate(learning_rate)
        check_unit_interval("beta_1", beta_1, include_low=True, include_high=False)
        check_unit_interval("beta_2", beta_2, include_low=True, include_high=False)
        check_non_negative_float("epsilon", epsilon)
        check_non_negative_float("weight_decay", weight_decay)
        check_bool("grad_averaging", grad_averaging)
        check_bool("amsgrad", amsgrad)
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.weight_decay = weight_decay
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.grad_averaging = grad_averaging
        self.amsgrad = amsgrad

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums = self.add_optimizer_variables(var_list, "m")
        self._second_moments = [self._scalar_slot(v, "v") for v in var_list]
        if self.amsgrad:
            self._second_moment_maxima = [self._scalar_slot(v, "vhat") for v in var_list]

    def _scalar_slot(self, variable, prefix: str):
        """One float per variable (NovoGrad's per-layer second moment)."""
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{prefix}_{variable.name}")
        return self.add_variable(shape=(), dtype=variable.dtype, name=name)

    def _apply_weight_decay(self, variables):
        """TFA's `weight_decay` is part of the step (see `update_step`), not Keras's."""

    def update_step(self, gradient, variable, learning_rate):
        grad, touched = densify(gradient, variable)
        dtype = variable.dtype
        beta_1, beta_2 = ops.cast(self.beta_1, dtype), ops.cast(self.beta_2, dtype)
        lr = ops.cast(learning_rate, dtype)
        first_step = ops.equal(self.iterations, 0)
        index = self._get_variable_index(variable)
        v = self._second_moments[index]
        gradient_norm = squared_norm(grad)
        new_v = ops.where(first_step, gradient_norm, v * beta_2 + gradient_norm * (1.0 - beta_2))
        self.assign(v, new_v)
        if self.amsgrad:
            v_max = self._second_moment_maxima[index]
            new_v = ops.maximum(v_max, new_v)
            self.assign(v_max, new_v)
        # Scalars are folded first: one pass over the weight fewer per product.
        grad_scale = 1.0 / (ops.sqrt(new_v) + ops.cast(self.epsilon, dtype))
        step_scale = lr
        if self.grad_averaging:
            step_scale = lr * ops.where(first_step, 1.0, 1.0 - beta_1)
        m = self._momentums[index]
        if touched is None and self.weight_decay == 0 and not compiling_with_xla():
            # One fused pass: m = beta_1 * m - rate * grad; variable += m.
            tf.raw_ops.ResourceApplyKerasMomentum(
                var=variable.handle,
                accum=m.handle,
                lr=ops.cast(step_scale * grad_scale, dtype),
                grad=grad,
                momentum=beta_1,
                use_locking=False,
                use_nesterov=False,
            )
            return
        if self.weight_decay > 0:
            direction = grad * grad_scale + ops.cast(self.weight_decay, dtype) * variable
            new_m = m * beta_1 - step_scale * direction
        else:
            new_m = m * beta_1 - grad * (step_scale * grad_scale)
        self.assign(m, where_touched(touched, new_m, m))
        self.assign(variable, where_touched(touched, variable + new_m, variable))

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "weight_decay": self.weight_decay,
            "grad_averaging": self.grad_averaging,
            "amsgrad": self.amsgrad,
        }
