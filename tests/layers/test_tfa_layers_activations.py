"""TensorFlow Addons' activation layers on Keras 3: `GELU`, `Maxout`, `Snake`, `Sparsemax` and
`TLU`, checked against TFA's numbers (`tests/fixtures/tfa/tfa_layers.npz`) and TFA's own test
values."""

import os

import keras
import numpy as np
import pytest

from layers.activation_layers import GELU, TLU, Maxout, Snake, Sparsemax, sparsemax
from tests import harness

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tfa", "tfa_layers.npz")
with np.load(FIXTURE) as _data:
    TFA = {k: _data[k] for k in _data.files}
RNG = np.random.default_rng(0)


def tfa_weights(prefix: str) -> list[np.ndarray]:
    """TFA's `get_weights()` list saved under `prefix`."""
    weights, i = [], 0
    while f"{prefix}_w{i}" in TFA:
        weights.append(TFA[f"{prefix}_w{i}"])
        i += 1
    return weights


def close(actual, expected, atol=1e-5):
    np.testing.assert_allclose(np.asarray(actual), expected, atol=atol, rtol=1e-5)


def test_gelu_matches_tfa():
    close(GELU()(TFA["gelu_x"]), TFA["gelu_approx"])
    close(GELU(approximate=False)(TFA["gelu_x"]), TFA["gelu_exact"])


def test_gelu_shared_checks_and_bad_input():
    harness.run_layer_test(
        GELU,
        {"approximate": False},
        RNG.normal(size=(4, 3)).astype("float32"),
        expected_output_shape=(4, 3),
        run_training=False,
        run_distributed=False,
        atol=1e-3,
    )
    with pytest.raises(TypeError, match="approximate='yes'"):
        GELU(approximate="yes")


def test_maxout_matches_tfa():
    x = TFA["maxout_x"]
    close(Maxout(3)(x), TFA["maxout_last"])
    close(Maxout(1, axis=1)(x), TFA["maxout_axis1"])


def test_maxout_shared_checks_and_bad_input():
    harness.run_layer_test(
        Maxout,
        {"num_units": 2, "axis": 1},
        RNG.normal(size=(4, 6, 3)).astype("float32"),
        expected_output_shape=(4, 2, 3),
        run_training=False,
        run_distributed=False,
    )
    with pytest.raises(ValueError, match="num_units=0"):
        Maxout(0)
    with pytest.raises(ValueError, match="num_units=4"):
        Maxout(4)(np.ones((2, 6), "float32"))
    with pytest.raises(ValueError, match="axis=0"):
        Maxout(2, axis=0)(np.ones((2, 6), "float32"))


def test_snake_matches_tfa_with_tfa_weights():
    layer = Snake()
    layer.build(TFA["snake_x"].shape)
    layer.set_weights(tfa_weights("snake"))
    close(layer(TFA["snake_x"]), TFA["snake_y"])
    close(Snake(keras.initializers.Constant(1.7))(TFA["snake_x"]), TFA["snake_y"])


def test_snake_shared_checks():
    harness.run_layer_test(
        Snake,
        {"frequency_initializer": keras.initializers.Constant(0.7)},
        RNG.normal(size=(4, 3)).astype("float32"),
        expected_output_shape=(4, 3),
        atol=1e-4,
    )


def test_sparsemax_matches_tfa_and_its_docstring():
    x = TFA["sparsemax_x"]
    close(Sparsemax()(x), TFA["sparsemax_last"])
    close(Sparsemax(axis=1)(x), TFA["sparsemax_axis1"])
    close(
        sparsemax(np.array([[-1.0, 0.0, 1.0], [-5.0, 1.0, 2.0]], "float32")), [[0, 0, 1], [0, 0, 1]]
    )
    # Ties and a slice where every entry is in the support.
    close(sparsemax(np.array([[0.5, 0.5, 0.5, 0.5]], "float32")), [[0.25] * 4])


def test_sparsemax_shared_checks_and_bad_input():
    harness.run_layer_test(
        Sparsemax,
        {"axis": 1},
        RNG.normal(size=(4, 5, 2)).astype("float32"),
        expected_output_shape=(4, 5, 2),
        atol=1e-3,
    )
    with pytest.raises(TypeError, match="axis=1.5"):
        Sparsemax(axis=1.5)
    with pytest.raises(ValueError, match="axis=3"):
        sparsemax(np.ones((2, 3), "float32"), axis=3)


@pytest.mark.parametrize("affine", [False, True])
def test_tlu_matches_tfa_with_tfa_weights(affine):
    name = f"tlu_affine{int(affine)}"
    layer = TLU(affine=affine)
    layer.build(TFA[name + "_x"].shape)
    layer.set_weights(tfa_weights(name))
    close(layer(TFA[name + "_x"]), TFA[name + "_y"])


def test_tlu_shared_checks_and_bad_input():
    harness.run_layer_test(
        TLU,
        {"affine": True, "tau_initializer": keras.initializers.Constant(-0.5)},
        RNG.normal(size=(4, 3, 2)).astype("float32"),
        expected_output_shape=(4, 3, 2),
    )
    with pytest.raises(TypeError, match="affine=1"):
        TLU(affine=1)
    with pytest.raises(ValueError, match="known non-batch"):
        TLU().build((None, None, 3))
