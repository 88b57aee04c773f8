"""TensorFlow Addons' activations on Keras 3: TFA's values and gradients (fixture), rrelu's
training behaviour, graphs and XLA, `.keras` round trips and bad input."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers import activations as A
from tests import harness

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tfa", "losses_activations.npz")

CASES = {
    "lisht": A.lisht,
    "mish": A.mish,
    "tanhshrink": A.tanhshrink,
    "gelu": A.gelu,
    "gelu_exact": lambda v: A.gelu(v, approximate=False),
    "hardshrink": A.hardshrink,
    "hardshrink_1": lambda v: A.hardshrink(v, lower=-1.0, upper=0.7),
    "softshrink": A.softshrink,
    "softshrink_1": lambda v: A.softshrink(v, lower=-1.0, upper=0.7),
    "snake": A.snake,
    "snake_2": lambda v: A.snake(v, frequency=2.0),
    "sparsemax": A.sparsemax,
    "sparsemax_axis0": lambda v: A.sparsemax(v, axis=0),
    "rrelu_inference": lambda v: A.rrelu(v, training=False),
    "rrelu_inference_1": lambda v: A.rrelu(v, lower=0.2, upper=0.6, training=False),
}


@pytest.fixture(scope="module")
def data():
    with np.load(FIXTURE) as d:
        return {k: d[k] for k in d.files if k.startswith("act_")}


def value_and_gradient(fn, x, weights=None):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
        total = tf.reduce_sum(y if weights is None else y * weights)
    return y.numpy(), tape.gradient(total, x).numpy()


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_tfa_values_and_gradients(data, name):
    value, gradient = value_and_gradient(CASES[name], data["act_x"])
    np.testing.assert_allclose(value, data[f"act_{name}"], atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(gradient, data[f"act_{name}_grad"], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", ["sparsemax", "sparsemax_axis0"])
def test_sparsemax_weighted_gradient_matches_tfa(data, name):
    _, gradient = value_and_gradient(CASES[name], data["act_x"], data["act_weights"])
    np.testing.assert_allclose(gradient, data[f"act_{name}_weighted_grad"], atol=1e-5)


def test_tfa_docstring_and_reference_values():
    np.testing.assert_allclose(
        A.sparsemax(np.array([[-1.0, 0.0, 1.0], [-5.0, 1.0, 2.0]])),
        [
            [0.0, 0.0, 1.0],
            [0.0, 0.0, 1.0],
        ],
    )
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0], "float32")
    np.testing.assert_allclose(A.lisht(x), x * np.tanh(x), rtol=1e-6)
    np.testing.assert_allclose(A.softshrink(x, lower=-1.0, upper=1.0), [-1.0, 0, 0, 0, 1.0])
    np.testing.assert_allclose(A.hardshrink(x, lower=-1.0, upper=1.0), [-2.0, 0, 0, 0, 2.0])
    np.testing.assert_allclose(A.rrelu(x), np.where(x >= 0, x, x * (0.125 + 1 / 3) / 2), 1e-6)


def test_rrelu_training_draws_slopes_between_the_bounds():
    x = -np.ones((2000,), "float32")
    slopes = -np.asarray(A.rrelu(x, lower=0.1, upper=0.3, training=True, seed=3))
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert abs(slopes.mean() - 0.2) < 0.01 and slopes.std() > 0.04
    np.testing.assert_array_equal(A.rrelu(x, 0.1, 0.3, training=True, seed=3), -slopes)
    positive = np.abs(np.random.default_rng(0).normal(size=50)).astype("float32")
    np.testing.assert_array_equal(A.rrelu(positive, training=True), positive)
    generator = tf.random.Generator.from_seed(1)
    drawn = -np.asarray(A.rrelu(x, 0.1, 0.3, training=True, rng=generator))
    assert drawn.min() >= 0.1 and drawn.max() <= 0.3


def test_in_graphs_and_xla_with_a_seed_generator():
    seed = keras.random.SeedGenerator(7)

    @tf.function(jit_compile=True)
    def activations(x):
        return (
            A.rrelu(x, training=True, seed=seed),
            A.lisht(x),
            A.snake(x, frequency=2.0),
            A.softshrink(x),
            A.hardshrink(x),
            A.sparsemax(x),
            A.gelu(x),
        )

    x = -np.ones((4, 8), "float32")
    first, *rest = activations(x)
    second = activations(x)[0]
    assert not np.array_equal(first, second)  # a new draw at each call
    for fn, value in zip(
        (A.lisht, A.snake, A.softshrink, A.hardshrink, A.sparsemax, A.gelu), rest, strict=True
    ):
        kwargs = {"frequency": 2.0} if fn is A.snake else {}
        np.testing.assert_allclose(value, fn(x, **kwargs), atol=1e-6)


def test_activations_in_a_model_round_trip_keras_file():
    inputs = keras.Input((3,))
    hidden = inputs
    for activation in (
        A.lisht,
        A.gelu,
        A.snake,
        A.hardshrink,
        A.softshrink,
        A.rrelu,
        A.mish,
        A.tanhshrink,
    ):
        hidden = keras.layers.Dense(3, activation=activation)(hidden)
    model = keras.Model(inputs, hidden)
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    with harness.temporary_path("activations.keras") as path:
        model.save(path)
        loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert keras.saving.get_registered_object("keras_zoo>lisht") is A.lisht


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="Received: lower=1.0, upper=0.5"):
        A.hardshrink([0.0], lower=1.0, upper=0.5)
    with pytest.raises(ValueError, match="Received: lower=1.0, upper=0.5"):
        A.softshrink([0.0], lower=1.0)
    with pytest.raises(TypeError, match="Received: lower='a'"):
        A.rrelu([0.0], lower="a")
    with pytest.raises(ValueError, match="Received: lower=0.5, upper=0.1"):
        A.rrelu([0.0], lower=0.5, upper=0.1)
    with pytest.raises(ValueError, match="Received: seed=1, rng=Generator"):
        A.rrelu([0.0], training=True, seed=1, rng=tf.random.Generator.from_seed(1))
    with pytest.raises(TypeError, match="Received: training='yes'"):
        A.rrelu([0.0], training="yes")
    with pytest.raises(ValueError, match="Received: frequency=0"):
        A.snake([0.0], frequency=0)
    with pytest.raises(TypeError, match="Received: approximate='tanh'"):
        A.gelu([0.0], approximate="tanh")
