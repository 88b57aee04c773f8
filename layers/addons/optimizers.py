"""`tfa.optimizers` on Keras 3: TFA's optimizers, wrappers and cyclical schedules under their
TFA names and arguments.

Two keep a different class name in the project, where the TFA name was taken by a component
of another kind: `SWA` is `layers.optimizers.StochasticWeightAveraging` (the project's
`layers.callbacks.SWA` is the callback) and `CyclicalLearningRate` is
`layers.schedules.ScaledCyclicalLearningRate` (TFA's `scale_fn` / `scale_mode` form).
"""

from layers.optimizers import (
    COCOB,
    LAMB,
    SGDW,
    AdaBelief,
    AdamW,
    AveragedOptimizerWrapper,
    ConditionalGradient,
    DecoupledWeightDecayExtension,
    LazyAdam,
    Lookahead,
    MovingAverage,
    MultiOptimizer,
    NovoGrad,
    ProximalAdagrad,
    RectifiedAdam,
    Yogi,
    extend_with_decoupled_weight_decay,
)
from layers.optimizers import StochasticWeightAveraging as SWA  # noqa: N817 (TFA's name)
from layers.schedules import (
    ExponentialCyclicalLearningRate,
    Triangular2CyclicalLearningRate,
    TriangularCyclicalLearningRate,
)
from layers.schedules import ScaledCyclicalLearningRate as CyclicalLearningRate

__all__ = [
    "COCOB",
    "LAMB",
    "SGDW",
    "SWA",
    "AdaBelief",
    "AdamW",
    "AveragedOptimizerWrapper",
    "ConditionalGradient",
    "CyclicalLearningRate",
    "DecoupledWeightDecayExtension",
    "ExponentialCyclicalLearningRate",
    "LazyAdam",
    "Lookahead",
    "MovingAverage",
    "MultiOptimizer",
    "NovoGrad",
    "ProximalAdagrad",
    "RectifiedAdam",
    "Triangular2CyclicalLearningRate",
    "TriangularCyclicalLearningRate",
    "Yogi",
    "extend_with_decoupled_weight_decay",
]
