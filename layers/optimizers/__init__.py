"""Optimizers Keras does not ship: Lookahead, RAdam, Ranger, LARS, gradient centralization,
LazyAdam.

Adam, AdamW, LAMB, Lion, gradient accumulation and EMA come from `keras.optimizers`.
"""

from layers.optimizers.gradient_centralization import GradientCentralization
from layers.optimizers.lars import LARS
from layers.optimizers.lazy_adam import LazyAdam
from layers.optimizers.lookahead import Lookahead
from layers.optimizers.radam import RAdam
from layers.optimizers.ranger import Ranger

__all__ = ["LARS", "GradientCentralization", "LazyAdam", "Lookahead", "RAdam", "Ranger"]

# TensorFlow Addons' optimizers (`tfa.optimizers`), with TFA's arguments and numbers.
from layers.optimizers.adabelief import AdaBelief
from layers.optimizers.averaged_wrapper import AveragedOptimizerWrapper
from layers.optimizers.cocob import COCOB
from layers.optimizers.conditional_gradient import ConditionalGradient
from layers.optimizers.decoupled_weight_decay import (
    SGDW,
    AdamW,
    DecoupledWeightDecayExtension,
    extend_with_decoupled_weight_decay,
)
from layers.optimizers.lamb import LAMB
from layers.optimizers.moving_average import MovingAverage
from layers.optimizers.multi_optimizer import MultiOptimizer
from layers.optimizers.novograd import NovoGrad
from layers.optimizers.proximal_adagrad import ProximalAdagrad
from layers.optimizers.rectified_adam import RectifiedAdam
from layers.optimizers.stochastic_weight_averaging import StochasticWeightAveraging
from layers.optimizers.yogi import Yogi

__all__ += [
    "COCOB",
    "LAMB",
    "SGDW",
    "AdaBelief",
    "AdamW",
    "AveragedOptimizerWrapper",
    "ConditionalGradient",
    "DecoupledWeightDecayExtension",
    "MovingAverage",
    "MultiOptimizer",
    "NovoGrad",
    "ProximalAdagrad",
    "RectifiedAdam",
    "StochasticWeightAveraging",
    "Yogi",
    "extend_with_decoupled_weight_decay",
]
