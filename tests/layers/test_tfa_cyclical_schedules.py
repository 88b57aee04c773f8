"""TensorFlow Addons' cyclical learning rates: TFA's numbers, config, XLA, fit and .keras."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.schedules.tfa_cyclical import (
    ExponentialCyclicalLearningRate,
    ScaledCyclicalLearningRate,
    Triangular2CyclicalLearningRate,
    TriangularCyclicalLearningRate,
)
from tests import harness

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tfa", "optimizers.npz")
STEPS = np.arange(40)


@keras.saving.register_keras_serializable(package="keras_zoo_tests")
def harmonic_scale(x):
    return 1.0 / (1.0 + 0.1 * x)


@pytest.mark.parametrize(
    "name, cls, kwargs",
    [
        ("triangular", TriangularCyclicalLearningRate, {}),
        ("triangular_iterations", TriangularCyclicalLearningRate, {"scale_mode": "iterations"}),
        ("triangular2", Triangular2CyclicalLearningRate, {}),
        ("exponential", ExponentialCyclicalLearningRate, {"gamma": 0.95}),
        (
            "exponential_cycle",
            ExponentialCyclicalLearningRate,
            {"scale_mode": "cycle", "gamma": 0.8},
        ),
    ],
)
def test_named_schedules_match_tensorflow_addons(name, cls, kwargs):
    step_size = 5 if name.startswith("triangular") and name != "triangular2" else 4
    kwargs = {
        "initial_learning_rate": 1e-4,
        "maximal_learning_rate": 1e-2,
        "step_size": step_size,
        **kwargs,
    }
    expected = np.load(FIXTURE)[f"cyclical/{name}"]
    schedule = cls(**kwargs)
    harness.assert_config_round_trip(schedule, kwargs)
    values = [float(schedule(step)) for step in STEPS]
    np.testing.assert_allclose(values, expected, rtol=1e-6, atol=1e-9)
    compiled = tf.function(schedule, jit_compile=True)
    in_xla = [float(compiled(tf.constant(step, tf.int64))) for step in (0, 7, 13, 39)]
    np.testing.assert_allclose(in_xla, expected[[0, 7, 13, 39]], rtol=1e-6, atol=1e-9)


def test_shared_checks():
    """Eager, tf.function, XLA, fit and .keras once: the named forms share this code."""
    kwargs = {"initial_learning_rate": 1e-4, "maximal_learning_rate": 1e-2, "step_size": 4}
    expected = np.load(FIXTURE)["cyclical/triangular2"][[0, 3, 9, 21]]
    harness.run_schedule_test(
        Triangular2CyclicalLearningRate, kwargs, [0, 3, 9, 21], expected=expected
    )


def test_custom_scale_fn_matches_tensorflow_addons_and_round_trips():
    expected = np.load(FIXTURE)["cyclical/custom"]
    kwargs = {
        "initial_learning_rate": 1e-3,
        "maximal_learning_rate": 1e-1,
        "step_size": 3.0,
        "scale_fn": harmonic_scale,
    }
    schedule = ScaledCyclicalLearningRate(**kwargs)
    config = harness.assert_config_round_trip(schedule, kwargs)
    restored = ScaledCyclicalLearningRate.from_config(config)
    values = [float(restored(step)) for step in STEPS]
    np.testing.assert_allclose(values, expected, rtol=1e-6, atol=1e-9)


def test_tensorflow_addons_docstring_example():
    # TFA's test: initial 0.1, maximal 1.0, step_size 4000, triangular; 0.1 at step 0, the
    # maximum at 4000, back at 8000 and halfway between the two at 2000.
    schedule = TriangularCyclicalLearningRate(0.1, 1.0, 4000)
    np.testing.assert_allclose(
        [float(schedule(s)) for s in (0, 2000, 4000, 6000, 8000)],
        [0.1, 0.55, 1.0, 0.55, 0.1],
        rtol=1e-6,
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"step_size": 0}, "Received: step_size=0"),
        ({"initial_learning_rate": -1.0}, "Received: initial_learning_rate=-1.0"),
        ({"scale_mode": "epoch"}, "Received: scale_mode='epoch'"),
        ({"gamma": 1.5}, "Received: gamma=1.5"),
    ],
)
def test_bad_arguments(kwargs, match):
    arguments = {"initial_learning_rate": 1e-3, "maximal_learning_rate": 1e-2, "step_size": 3}
    with pytest.raises(ValueError, match=match):
        ExponentialCyclicalLearningRate(**{**arguments, **kwargs})


def test_scale_fn_must_be_callable():
    with pytest.raises(TypeError, match="Received: scale_fn=2"):
        ScaledCyclicalLearningRate(1e-3, 1e-2, 3, scale_fn=2)
