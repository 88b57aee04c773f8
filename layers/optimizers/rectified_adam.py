"""RectifiedAdam with TensorFlow Addons' arguments and numbers."""

from __future__ import annotations

import keras
from keras import ops

from layers.optimizers._rectified import (
    RectifiedOptimizer,
)


@keras.saving.register_keras_serializable(package="keras_zoo")
class RectifiedAdam(RectifiedOptimizer):
    """Rectified Adam as TensorFlow Addons computes it (`tfa.optimizers.RectifiedAdam`).

    The same rectification as `layers.optimizers.RAdam`, with TFA's formula and options:
    epsilon is added to the bias-corrected `sqrt(v / (1 - beta_2**t))` (RAdam, after
    `torch.optim.RAdam`, adds it to `sqrt(v)`), the adaptive step is taken once
    `rho_t >= sma_threshold`, `weight_decay` is added to the step direction (so it is scaled
    by the learning rate), and `total_steps > 0` turns on TFA's warmup then linear decay of
    the learning rate to `min_lr`. With `amsgrad`, the running maximum of `v` is used.

    For an `IndexedSlices` gradient (repeated rows summed) both moments decay on every row and
    only the rows present in the gradient move, as in TFA.

    Args:
        learning_rate: a float, a `LearningRateSchedule` or a callable. Defaults to `0.001`.
        beta_1: decay of the first moment, in [0, 1). Defaults to `0.9`.
        beta_2: decay of the second moment, in [0, 1). Defaults to `0.999`.
        epsilon: added to the corrected `sqrt(v)`. Defaults to `1e-7`.
        weight_decay: a float >= 0 or a `LearningRateSchedule`. Defaults to `0`.
        amsgrad: use the running maximum of the second moment. Defaults to `False`.
        sma_threshold: `rho_t` from which the adaptive step is taken. Defaults to `5`.
        total_steps: with `> 0`, the length of TFA's warmup-then-decay schedule. Defaults to `0`.
        warmup_proportion: the fraction of `total_steps` spent warming up, in [0, 1].
            Defaults to `0.1`.
        min_lr: the learning rate at the end of the decay. Defaults to `0`.
        name: defaults to `"RectifiedAdam"`.
        **kwargs: the options of every `keras.optimizers.Optimizer` (`clipnorm`, ...); Keras's
            own decoupled weight decay is replaced by `weight_decay` above.

    Example:

    ```python
    model.compile(optimizer=RectifiedAdam(1e-3, total_steps=10000, min_lr=1e-5), loss="mse")
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
        weight_decay=0.0,
        amsgrad: bool = False,
        sma_threshold: float = 5.0,
        total_steps: int = 0,
        warmup_proportion: float = 0.1,
        min_lr: float = 0.0,
        name: str = "RectifiedAdam",
        **kwargs,
    ):
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

    def second_moment(self, v, grad, new_m, touched, beta_2, epsilon):
        return beta_2 * v + (1.0 - beta_2) * ops.square(grad)
