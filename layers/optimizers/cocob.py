"""COCOB-Backprop: learning-rate-free optimisation by coin betting."""

from __future__ import annotations

import keras
from keras import ops

from layers.optimizers._tfa_common import densify
from layers.validation import check_finite_number_above


@keras.saving.register_keras_serializable(package="keras_zoo")
class COCOB(keras.optimizers.Optimizer):
    """Continuous Coin Betting, with TensorFlow Addons' arguments and numbers
    (`tfa.optimizers.COCOB`).

    There is no learning rate: each coordinate bets a fraction of its accumulated "reward" on
    the sign of the negative gradient sum. Per coordinate it keeps the largest absolute
    gradient `L`, the sums of gradients `G` and of their absolute values, the reward and the
    current bet `w~`: `w = w - w~ + w~'` with
    `w~' = -G / (L * max(sum|g| + L, alpha * L)) * (reward + L)`.

    TFA raises for an `IndexedSlices` gradient; here it is taken as the dense gradient.

    Args:
        alpha: how fast the bets may grow at first, >= 1. Defaults to `100`.
        use_locking: accepted for TFA's signature; unused. Defaults to `False`.
        name: defaults to `"COCOB"`.
        **kwargs: the options of every `keras.optimizers.Optimizer` (`clipnorm`, ...). A
            `learning_rate` is ignored by the update, as in TFA.

    Example:

    ```python
    model.compile(optimizer=COCOB(alpha=100), loss="mse")
    ```

    Reference:
        Orabona and Tommasi, "Training Deep Networks without Learning Rates Through Coin
        Betting", NeurIPS 2017, https://arxiv.org/abs/1705.07795.
    """

    def __init__(
        self, alpha: float = 100, use_locking: bool = False, name: str = "COCOB", **kwargs
    ):
        check_finite_number_above("alpha", alpha, 1.0)
        kwargs.setdefault("learning_rate", 1.0)
        super().__init__(name=name, **kwargs)
        self.alpha = alpha
        self.use_locking = use_locking

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        (
            self._gradient_maxima,
            self._abs_gradient_sums,
            self._gradient_sums,
            self._bets,
            self._rewards,
        ) = self.add_optimizer_variables(
            var_list,
            ["lr", "grad_norm_sum", "gradients_sum", "tilde_w", "reward"],
            initializer=[keras.initializers.Constant(1e-8), "zeros", "zeros", "zeros", "zeros"],
        )

    def update_step(self, gradient, variable, learning_rate):
        grad, _ = densify(gradient, variable)
        index = self._get_variable_index(variable)
        maximum, abs_sum = self._gradient_maxima[index], self._abs_gradient_sums[index]
        grad_sum, bet, reward = self._gradient_sums[index], self._bets[index], self._rewards[index]
        new_maximum = ops.maximum(maximum, ops.abs(grad))
        new_grad_sum = grad_sum + grad
        new_abs_sum = abs_sum + ops.abs(grad)
        new_reward = ops.maximum(reward - grad * bet, 0.0)
        denominator = ops.maximum(new_abs_sum + new_maximum, self.alpha * new_maximum)
        new_bet = -new_grad_sum / (new_maximum * denominator) * (new_reward + new_maximum)
        self.assign(variable, variable - bet + new_bet)
        self.assign(maximum, new_maximum)
        self.assign(abs_sum, new_abs_sum)
        self.assign(grad_sum, new_grad_sum)
        self.assign(bet, new_bet)
        self.assign(reward, new_reward)

    def get_config(self):
        config = super().get_config()
        return {**config, "alpha": self.alpha, "use_locking": self.use_locking}
