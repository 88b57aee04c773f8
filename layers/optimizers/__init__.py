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
