"""Differential privacy for Keras 3 models: DP-SGD (Abadi et al. 2016).

`make_private(optimizer, l2_norm_clip, noise_multiplier)` wraps any optimizer into a
`DPOptimizer`; `fit(..., callbacks=[PrivateTraining()])` trains with clipped per-example
gradients (ghost clipping for Dense and Conv2D models, `ghost_clipping_plan`; vectorised
per-example gradients otherwise). Epsilon is computed by `zoo.federated.accounting`.
"""

from layers.privacy.dp_optimizer import DPOptimizer, make_private
from layers.privacy.ghost_clipping import GhostClippingPlan, ghost_clipping_plan
from layers.privacy.private_step import microbatch_gradients, private_train_step
from layers.privacy.training import PrivateTraining

__all__ = [
    "DPOptimizer",
    "GhostClippingPlan",
    "PrivateTraining",
    "ghost_clipping_plan",
    "make_private",
    "microbatch_gradients",
    "private_train_step",
]
