"""Differential privacy for Keras 3 models: DP-SGD (Abadi et al. 2016).

`make_private(optimizer, l2_norm_clip, noise_multiplier)` wraps any optimizer into a
`DPOptimizer`; `fit(..., callbacks=[PrivateTraining()])` trains with its vectorised per-example
gradients. Epsilon is computed by `zoo.federated.accounting`.
"""

from layers.privacy.dp_optimizer import DPOptimizer, make_private
from layers.privacy.private_step import microbatch_gradients, private_train_step
from layers.privacy.training import PrivateTraining

__all__ = [
    "DPOptimizer",
    "PrivateTraining",
    "make_private",
    "microbatch_gradients",
    "private_train_step",
]
