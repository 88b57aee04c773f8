"""AdaBelief: Adam whose step size follows the belief in the gradient."""

from __future__ import annotations

import keras
from keras import ops

from layers.optimizers._rectified import (
    RectifiedOptimizer,
)
from layers.optimizers._tfa_common import where_touched
from layers.validation import check_bool


@keras.saving.register_keras_serializable(package="keras_zoo")
class AdaBelief(RectifiedOptimizer):
    """AdaBelief, with TensorFlow Addons' arguments, defaults and numbers
    (`tfa.optimizers.AdaBelief`).

    Adam divides the first moment by the root of the mean squared gradient; AdaBelief divides
    it by the root of `s`, the mean squared deviation of the gradient from its own running
    mean: `s = beta_2 * s + (1 - beta_2) * (g - m)**2 + epsilon`. A gradient close to what was
    expected ("believed") gives a large step, a surprising one a small step. As in TFA,
    `rectify=True` (the default) adds RAdam's variance rectification (the un-adapted momentum
    step while `rho_t < sma_threshold`), `weight_decay` is added to the step direction,
    `total_steps > 0` turns on the warmup-then-linear-decay of the learning rate, and
    `amsgrad` uses the running maximum of `s`.

    For an `IndexedSlices` gradient (repeated rows summed) the first moment decays on every row,
    `s` decays on every row but gains its deviation and `epsilon` only on the rows present, and
    only those rows of the variable move, as in TFA.

    Args:
        learning_rate: a float, a `LearningRateSchedule` or a callable. Defaults to `0.001`.
        beta_1: decay of the first moment, in [0, 1). Defaults to `0.9`.
        beta_2: decay of `s`, in [0, 1). Defaults to `0.999`.
        epsilon: added to `s` at every step and to its corrected root. Defaults to `1e-14`.
        weight_decay: a float >= 0 or a `LearningRateSchedule`. Defaults to `0`.
        amsgrad: use the running maximum of `s`. Defaults to `False`.
        rectify: apply RAdam's rectification. Defaults to `True`.
        sma_threshold: `rho_t` from which the adaptive step is taken. Defaults to `5`.
        total_steps: with `> 0`, the length of the warmup-then-decay schedule. Defaults to `0`.
        warmup_proportion: the fraction of `total_steps` spent warming up, in [0, 1].
            Defaults to `0.1`.
        min_lr: the learning rate at the end of the decay. Defaults to `0`.
        name: defaults to `"AdaBelief"`.
        **kwargs: the options of every `keras.optimizers.Optimizer` (`clipnorm`, ...); Keras's
            own decoupled weight decay is replaced by `weight_decay` above.

    Example:

    ```python
    model.compile(optimizer=AdaBelief(1e-3, rectify=False), loss="mse")
    ```

    Reference:
        Zhuang, Tang, Ding, Tatikonda, Dvornek, Papademetris and Duncan, "AdaBelief Optimizer:
        Adapting Stepsizes by the Belief in Observed Gradients", NeurIPS 2020,
        https://arxiv.org/abs/2010.07468.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-14,
        weight_decay=0.0,
        amsgrad: bool = False,
        rectify: bool = True,
        sma_threshold: float = 5.0,
        total_steps: int = 0,
        warmup_proportion: float = 0.1,
        min_lr: float = 0.0,
        name: str = "AdaBelief",
        **kwargs,
    ):
        check_bool("rectify", rectify)
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            sma_threshold=sma_threshold,
            total_steps=total_steps,
            warmup_proportion=warmup_proportion,
            min_lr=min_lr,
            name=name,
            **kwargs,
        )
        self.rectify = rectify

    def second_moment(self, v, grad, new_m, touched, beta_2, epsilon):
        # The "belief": the spread of the gradient around its average, on touched rows only.
        decayed = beta_2 * v
        return where_touched(
            touched, decayed + (1.0 - beta_2) * ops.square(grad - new_m) + epsilon, decayed
        )

    def get_config(self):
        return {**super().get_config(), "rectify": self.rectify}
