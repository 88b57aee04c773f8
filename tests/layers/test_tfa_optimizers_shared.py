"""TensorFlow Addons' optimizers on Keras 3: the shared checks (XLA fit, `.keras` with slot
variables, mixed precision, MirroredStrategy, config) once per class."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.optimizers.adabelief import AdaBelief
from layers.optimizers.averaged_wrapper import AveragedOptimizerWrapper
from layers.optimizers.cocob import COCOB
from layers.optimizers.conditional_gradient import ConditionalGradient
from layers.optimizers.decoupled_weight_decay import SGDW, AdamW
from layers.optimizers.lamb import LAMB
from layers.optimizers.moving_average import MovingAverage
from layers.optimizers.multi_optimizer import MultiOptimizer
from layers.optimizers.novograd import NovoGrad
from layers.optimizers.proximal_adagrad import ProximalAdagrad
from layers.optimizers.rectified_adam import RectifiedAdam
from layers.optimizers.stochastic_weight_averaging import StochasticWeightAveraging
from layers.optimizers.yogi import Yogi
from tests import harness


@pytest.mark.parametrize(
    "cls, kwargs",
    [
        (Yogi, {"learning_rate": 0.05}),
        (AdaBelief, {"learning_rate": 0.02, "weight_decay": 1e-3}),
        (NovoGrad, {"learning_rate": 0.05, "grad_averaging": True}),
        (RectifiedAdam, {"learning_rate": 0.02, "total_steps": 20}),
        (AdamW, {"weight_decay": 1e-3, "learning_rate": 0.02}),
        (SGDW, {"weight_decay": 1e-3, "learning_rate": 0.02, "momentum": 0.9}),
        (
            LAMB,
            {"learning_rate": 0.02, "weight_decay": 1e-3, "exclude_from_weight_decay": ["bias"]},
        ),
        (ProximalAdagrad, {"learning_rate": 0.1, "l1_regularization_strength": 1e-4}),
        (ConditionalGradient, {"learning_rate": 0.99, "lambda_": 0.01}),
        (COCOB, {"alpha": 100}),
        (
            MovingAverage,
            {
                "optimizer": keras.optimizers.serialize(keras.optimizers.SGD(0.05, momentum=0.9)),
                "average_decay": 0.9,
                "dynamic_decay": True,
            },
        ),
        (
            StochasticWeightAveraging,
            {
                "optimizer": keras.optimizers.serialize(keras.optimizers.Adam(0.02)),
                "start_averaging": 2,
                "average_period": 2,
            },
        ),
        (
            MultiOptimizer,
            {
                "optimizer_specs": [
                    {
                        "optimizer": keras.optimizers.serialize(keras.optimizers.Adam(0.02)),
                        "weights": ["hidden/kernel", "hidden/bias"],
                    },
                    {
                        "optimizer": keras.optimizers.serialize(keras.optimizers.SGD(0.05)),
                        "weights": ["out/kernel", "out/bias"],
                    },
                ]
            },
        ),
    ],
)
def test_shared_checks(cls, kwargs):
    harness.run_optimizer_test(cls, kwargs)


def test_averaged_optimizer_wrapper_is_the_base_of_both_averages():
    # The base runs under XLA, .keras and MirroredStrategy in the shared checks of its two
    # subclasses; on its own it has no average.
    assert issubclass(MovingAverage, AveragedOptimizerWrapper)
    assert issubclass(StochasticWeightAveraging, AveragedOptimizerWrapper)
    variable = keras.Variable(np.zeros(1, "float32"))
    with pytest.raises(NotImplementedError):
        AveragedOptimizerWrapper("sgd").apply([tf.ones(1)], [variable])
