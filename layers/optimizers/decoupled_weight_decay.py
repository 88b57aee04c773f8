"""TensorFlow Addons' decoupled weight decay: `w -= weight_decay * w` before any optimizer's
step, not scaled by the learning rate; and its `SGDW` and `AdamW`."""

from __future__ import annotations

import keras
from keras import ops

from layers.optimizers._tfa_common import (
    check_hyper_parameter,
    check_learning_rate,
    check_patterns,
    current_value,
    densify,
    deserialize_hyper_parameter,
    matches_any,
    serialize_hyper_parameter,
    where_touched,
)
from layers.validation import check_bool, check_non_negative_float, check_unit_interval


class DecoupledWeightDecayExtension:
    """Mixin that adds TFA's decoupled weight decay to a Keras optimizer class.

    Before the optimizer's own step, each decayed variable is shrunk by
    `w -= weight_decay * w`. Unlike Keras's `weight_decay` (`AdamW`'s included), which
    subtracts `learning_rate * weight_decay * w`, the decay is **not** scaled by the learning
    rate: with a learning-rate schedule, schedule `weight_decay` too (a
    `LearningRateSchedule` is evaluated at the optimizer's iteration count, as in TFA). For an
    `IndexedSlices` gradient only the rows present are decayed, as in TFA.

    Put the mixin first: `class MyOptimizer(DecoupledWeightDecayExtension, keras.optimizers.X)`,
    or use `extend_with_decoupled_weight_decay(keras.optimizers.X)`.

    Args:
        weight_decay: a float >= 0, a `LearningRateSchedule` or a callable returning the decay.
        exclude_from_weight_decay: regular expressions; a variable whose name or path matches
            any of them is not decayed. Defaults to `None` (decay every variable).
        *args, **kwargs: the wrapped optimizer class's arguments. Keras's own `weight_decay`
            is replaced by the one above.

    Example:

    ```python
    optimizer = AdamW(weight_decay=1e-4, learning_rate=1e-3, exclude_from_weight_decay=["bias"])
    ```

    Reference:
        Loshchilov and Hutter, "Decoupled Weight Decay Regularization", ICLR 2019,
        https://arxiv.org/abs/1711.05101.
    """

    def __init__(self, weight_decay, *args, exclude_from_weight_decay=None, **kwargs):
        weight_decay = deserialize_hyper_parameter(weight_decay)
        check_hyper_parameter("weight_decay", weight_decay)
        patterns = check_patterns("exclude_from_weight_decay", exclude_from_weight_decay)
        check_learning_rate(kwargs.get("learning_rate", 0.0))
        super().__init__(*args, **kwargs)
        self.weight_decay = weight_decay
        self.decay_exclusion_patterns = patterns

    def _apply_weight_decay(self, variables):
        """The decay happens in `update_step`, where a sparse gradient's rows are known."""

    def _decays(self, variable) -> bool:
        return not matches_any(variable, self.decay_exclusion_patterns)

    def decay_weights(self, gradient, variable) -> None:
        """`variable -= weight_decay * variable`, on a sparse gradient's rows only."""
        if self._decays(variable):
            decay = current_value(self.weight_decay, self.iterations, variable.dtype)
            _, touched = densify(gradient, variable)
            self.assign(variable, where_touched(touched, variable - decay * variable, variable))

    def update_step(self, gradient, variable, learning_rate):
        self.decay_weights(gradient, variable)
        super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        return {
            **super().get_config(),
            "weight_decay": serialize_hyper_parameter(self.weight_decay),
            "exclude_from_weight_decay": self.decay_exclusion_patterns,
        }


def extend_with_decoupled_weight_decay(base_optimizer: type) -> type:
    """A subclass of `base_optimizer` with TFA's decoupled weight decay.

    The new class takes `weight_decay` first, then `base_optimizer`'s arguments, and
    `exclude_from_weight_decay` (see `DecoupledWeightDecayExtension`). To save it in a
    `.keras` file, register it (`keras.saving.register_keras_serializable`) under a name.

    Args:
        base_optimizer: a `keras.optimizers.Optimizer` subclass (not an instance).

    Returns:
        The class `OptimizerWithDecoupledWeightDecay`.

    Example:

    ```python
    MomentumW = extend_with_decoupled_weight_decay(keras.optimizers.SGD)
    optimizer = MomentumW(weight_decay=1e-4, learning_rate=0.1, momentum=0.9)
    ```
    """
    if not (
        isinstance(base_optimizer, type) and issubclass(base_optimizer, keras.optimizers.Optimizer)
    ):
        raise TypeError(
            "`base_optimizer` must be a `keras.optimizers.Optimizer` subclass. "
            f"Received: base_optimizer={base_optimizer!r}"
        )

    class OptimizerWithDecoupledWeightDecay(DecoupledWeightDecayExtension, base_optimizer):
        __doc__ = f"`{base_optimizer.__name__}` with TFA's decoupled weight decay."

    return OptimizerWithDecoupledWeightDecay


@keras.saving.register_keras_serializable(package="keras_zoo")
class AdamW(DecoupledWeightDecayExtension, keras.optimizers.Adam):
    """Adam with TFA's decoupled weight decay (`tfa.optimizers.AdamW`).

    Each step first shrinks the weights, `w -= weight_decay * w` (not scaled by the learning
    rate, unlike `keras.optimizers.AdamW`), then takes Adam's step. A sparse gradient takes
    Adam's dense step (as TFA's Keras 2 Adam did) after decaying only its rows.

    Args:
        weight_decay: a float >= 0, a `LearningRateSchedule` or a callable. Required.
        learning_rate: a float, a `LearningRateSchedule` or a callable. Defaults to `0.001`.
        beta_1, beta_2, epsilon, amsgrad: Adam's. Defaults `0.9`, `0.999`, `1e-7`, `False`.
        name: defaults to `"AdamW"`.
        **kwargs: `exclude_from_weight_decay` (regular expressions of variable names), and the
            options of every `keras.optimizers.Optimizer` (`clipnorm`, ...).

    Example:

    ```python
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([10000], [1e-3, 1e-4])
    decay = keras.optimizers.schedules.PiecewiseConstantDecay([10000], [1e-4, 1e-5])
    model.compile(optimizer=AdamW(weight_decay=decay, learning_rate=schedule), loss="mse")
    ```

    Reference:
        Loshchilov and Hutter, "Decoupled Weight Decay Regularization", ICLR 2019,
        https://arxiv.org/abs/1711.05101.
    """

    def __init__(
        self,
        weight_decay,
        learning_rate=0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        name: str = "AdamW",
        **kwargs,
    ):
        check_unit_interval("beta_1", beta_1, include_low=True, include_high=False)
        check_unit_interval("beta_2", beta_2, include_low=True, include_high=False)
        check_non_negative_float("epsilon", epsilon)
        check_bool("amsgrad", amsgrad)
        super().__init__(
            weight_decay,
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            name=name,
            **kwargs,
        )

    def update_step(self, gradient, variable, learning_rate):
        self.decay_weights(gradient, variable)
        # A sparse gradient takes the dense step, as Keras 2's Adam did.
        dense, _ = densify(gradient, variable)
        keras.optimizers.Adam.update_step(self, dense, variable, learning_rate)


@keras.saving.register_keras_serializable(package="keras_zoo")
class SGDW(DecoupledWeightDecayExtension, keras.optimizers.SGD):
    """SGD (with optional momentum) and TFA's decoupled weight decay (`tfa.optimizers.SGDW`).

    Each step first shrinks the weights, `w -= weight_decay * w` (not scaled by the learning
    rate), then takes Keras's SGD step: `m = momentum * m - lr * g; w += m` (Nesterov:
    `w += momentum * m - lr * g`). For an `IndexedSlices` gradient only the rows present
    decay, and only their momentum and values move, as in TFA.

    Args:
        weight_decay: a float >= 0, a `LearningRateSchedule` or a callable. Required.
        learning_rate: a float, a `LearningRateSchedule` or a callable. Defaults to `0.001`.
        momentum: a float >= 0. Defaults to `0`.
        nesterov: use Nesterov momentum. Defaults to `False`.
        name: defaults to `"SGDW"`.
        **kwargs: `exclude_from_weight_decay` (regular expressions of variable names), and the
            options of every `keras.optimizers.Optimizer` (`clipnorm`, ...).

    Example:

    ```python
    model.compile(optimizer=SGDW(weight_decay=1e-4, learning_rate=0.1, momentum=0.9), loss="mse")
    ```

    Reference:
        Loshchilov and Hutter, "Decoupled Weight Decay Regularization", ICLR 2019,
        https://arxiv.org/abs/1711.05101.
    """

    def __init__(
        self,
        weight_decay,
        learning_rate=0.001,
        momentum: float = 0.0,
        nesterov: bool = False,
        name: str = "SGDW",
        **kwargs,
    ):
        check_non_negative_float("momentum", momentum)
        check_bool("nesterov", nesterov)
        super().__init__(
            weight_decay,
            learning_rate=learning_rate,
            momentum=momentum,
            nesterov=nesterov,
            name=name,
            **kwargs,
        )

    def update_step(self, gradient, variable, learning_rate):
        self.decay_weights(gradient, variable)
        grad, touched = densify(gradient, variable)
        if touched is None or self.momentum == 0:  # rows without gradient do not move
            keras.optimizers.SGD.update_step(self, grad, variable, learning_rate)
            return
        # Keras 2's sparse momentum step: only the rows present update their momentum.
        dtype = variable.dtype
        lr, momentum = ops.cast(learning_rate, dtype), ops.cast(self.momentum, dtype)
        m = self.momentums[self._get_variable_index(variable)]
        new_m = m * momentum - lr * grad
        step = new_m * momentum - lr * grad if self.nesterov else new_m
        self.assign(m, where_touched(touched, new_m, m))
        self.assign(variable, where_touched(touched, variable + step, variable))
