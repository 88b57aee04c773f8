"""Learning-rate schedules Keras does not ship: cyclical, one-cycle, warmup, batch-size scaling.

Exponential, piecewise, polynomial and cosine decay (with warmup) come from
`keras.optimizers.schedules`.
"""

from layers.schedules.cyclical import CyclicalLearningRate
from layers.schedules.one_cycle import OneCycle
from layers.schedules.scaling import scale_learning_rate
from layers.schedules.warmup import LinearWarmup

__all__ = ["CyclicalLearningRate", "LinearWarmup", "OneCycle", "scale_learning_rate"]
