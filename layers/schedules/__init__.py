"""Learning-rate schedules Keras does not ship, and one factory that names every schedule.

Cyclical, one-cycle, warmup and batch-size scaling live here; exponential, piecewise, polynomial
and cosine decay (with warmup) come from `keras.optimizers.schedules`.
`learning_rate_schedule(name, learning_rate, total_steps, warmup_steps)` builds any of the names
in `SCHEDULES` (their meanings: `layers.schedules.factory`); `zoo train`, `zoo tune` and the
recipes take their schedules from it.
"""

from layers.schedules.cyclical import CyclicalLearningRate
from layers.schedules.factory import SCHEDULES, WARMUP_SCHEDULES, learning_rate_schedule
from layers.schedules.one_cycle import OneCycle
from layers.schedules.scaling import scale_learning_rate
from layers.schedules.warmup import LinearWarmup

__all__ = [
    "SCHEDULES",
    "WARMUP_SCHEDULES",
    "CyclicalLearningRate",
    "LinearWarmup",
    "OneCycle",
    "learning_rate_schedule",
    "scale_learning_rate",
]

# TensorFlow Addons' cyclical schedules (`tfa.optimizers.*CyclicalLearningRate`).
from layers.schedules.tfa_cyclical import (
    ExponentialCyclicalLearningRate,
    ScaledCyclicalLearningRate,
    Triangular2CyclicalLearningRate,
    TriangularCyclicalLearningRate,
)

__all__ += [
    "ExponentialCyclicalLearningRate",
    "ScaledCyclicalLearningRate",
    "Triangular2CyclicalLearningRate",
    "TriangularCyclicalLearningRate",
]
