"""TensorFlow Addons' normalization layers on Keras 3: `WeightNormalization`,
`FilterResponseNormalization`, `PoincareNormalize`, and the Keras layers that TFA's
`GroupNormalization`, `InstanceNormalization` and `SpectralNormalization` map to, checked
against TFA's numbers (`tests/fixtures/tfa/tfa_layers.npz`)."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers import InstanceNormalization
from layers.normalization import (
    FilterResponseNormalization,
    PoincareNormalize,
    SpectralNormalization,
    WeightNormalization,
)
from tests import harness

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tfa", "tfa_layers.npz")
with np.load(FIXTURE) as _data:
    TFA = {k: _data[k] for k in _data.files}


def tfa_weights(prefix: str) -> list[np.ndarray]:
    """TFA's `get_weights()` list saved under `prefix`."""
    weights, i = [], 0
    while f"{prefix}_w{i}" in TFA:
        weights.append(TFA[f"{prefix}_w{i}"])
        i += 1
    return weights


def close(actual, expected, atol=1e-5):
    np.testing.assert_allclose(np.asarray(actual), expected, atol=atol, rtol=1e-5)


def dense_config(units: int) -> dict:
    """A serialized `Dense` without a dtype: each harness instance gets its own layer, under the
    global dtype policy of the moment."""
    return {"module": "keras.layers", "class_name": "Dense", "config": {"units": units}}


# ------------------------------------------------------------------------------------------
# WeightNormalization
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("data_init", [True, False])
def test_weight_normalization_matches_tfa_first_and_later_calls(data_init):
    name = f"wn_dense_init{int(data_init)}"
    layer = WeightNormalization(keras.layers.Dense(3, activation="tanh"), data_init=data_init)
    layer.build((None, 4))
    layer.set_weights(tfa_weights(name + "_before"))
    x = TFA[name + "_x"]
    close(layer(x), TFA[name + "_y_first"])
    close(layer(x * 0.5), TFA[name + "_y_second"])
    for got, want in zip(layer.get_weights(), tfa_weights(name + "_after"), strict=True):
        close(got.astype("float32"), want.astype("float32"))


def test_weight_normalization_conv_matches_tfa_and_first_call_runs_in_a_graph():
    layer = WeightNormalization(keras.layers.Conv2D(3, 2, activation="relu"), data_init=False)
    layer.build((None, 5, 5, 2))
    layer.set_weights(tfa_weights("wn_conv_before"))
    close(tf.function(layer)(TFA["wn_conv_x"]), TFA["wn_conv_y"])
    assert bool(layer.get_weights()[3])


def test_weight_normalization_data_init_in_a_graph_matches_tfa():
    name = "wn_dense_init1"
    layer = WeightNormalization(keras.layers.Dense(3, activation="tanh"))
    layer.build((None, 4))
    layer.set_weights(tfa_weights(name + "_before"))
    call = tf.function(layer, jit_compile=True)
    close(call(TFA[name + "_x"]), TFA[name + "_y_first"])
    close(call(TFA[name + "_x"] * 0.5), TFA[name + "_y_second"])


def test_weight_normalization_shared_checks():
    harness.run_layer_test(
        WeightNormalization,
        {"layer": dense_config(3), "data_init": True},
        np.random.default_rng(0).normal(size=(4, 5)).astype("float32"),
        expected_output_shape=(4, 3),
    )


def test_weight_normalization_bad_input():
    with pytest.raises(TypeError, match="layer=3"):
        WeightNormalization(3)
    with pytest.raises(TypeError, match="data_init=1"):
        WeightNormalization(keras.layers.Dense(2), data_init=1)
    with pytest.raises(ValueError, match="kernel"):
        WeightNormalization(keras.layers.ReLU())(np.ones((2, 3), "float32"))
    with pytest.raises(TypeError, match="recurrent"):
        WeightNormalization(keras.layers.LSTM(2))
    with pytest.raises(ValueError, match="DepthwiseConv2D"):
        WeightNormalization(keras.layers.DepthwiseConv2D(2, depth_multiplier=2))(
            np.ones((1, 3, 3, 2), "float32")
        )
    layer = WeightNormalization(keras.layers.Dense(3), data_init=False)
    layer.build((None, 4))
    with pytest.raises(ValueError, match="expects 4 weights"):
        layer.set_weights([np.ones(3)])


# ------------------------------------------------------------------------------------------
# FilterResponseNormalization, PoincareNormalize
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("learned", [False, True])
def test_filter_response_normalization_matches_tfa(learned):
    name = f"frn_learned{int(learned)}"
    layer = FilterResponseNormalization(learned_epsilon=learned)
    layer.build(TFA[name + "_x"].shape)
    layer.set_weights(tfa_weights(name))
    close(layer(TFA[name + "_x"]), TFA[name + "_y"])


def test_filter_response_normalization_shared_checks():
    harness.run_layer_test(
        FilterResponseNormalization,
        {"learned_epsilon": True, "epsilon": 1e-5},
        np.random.default_rng(1).normal(size=(4, 3, 3, 2)).astype("float32"),
        expected_output_shape=(4, 3, 3, 2),
        atol=1e-4,
    )


def test_filter_response_normalization_bad_input():
    with pytest.raises(ValueError, match=r"axis=\[1, 3\]"):
        FilterResponseNormalization(axis=[1, 3])
    with pytest.raises(ValueError, match="epsilon=-1"):
        FilterResponseNormalization(epsilon=-1.0)
    with pytest.raises(ValueError, match="4-D"):
        FilterResponseNormalization()(np.ones((2, 3, 4), "float32"))


def test_poincare_normalize_matches_tfa():
    x = TFA["poincare_x"]
    close(PoincareNormalize()(x), TFA["poincare_axis1"])
    close(PoincareNormalize(axis=[1, 2])(x), TFA["poincare_axes12"])


def test_poincare_normalize_shared_checks():
    harness.run_layer_test(
        PoincareNormalize,
        {"axis": [1, 2], "epsilon": 1e-3},
        np.random.default_rng(2).normal(size=(4, 3, 2)).astype("float32"),
        expected_output_shape=(4, 3, 2),
        run_training=False,
        run_distributed=False,
    )


def test_poincare_normalize_bad_input():
    with pytest.raises(ValueError, match="epsilon=1.0"):
        PoincareNormalize(epsilon=1.0)
    with pytest.raises(TypeError, match="axis='1'"):
        PoincareNormalize(axis="1")


# ------------------------------------------------------------------------------------------
# TFA's adapters that are Keras 3 layers as they are
# ------------------------------------------------------------------------------------------


def test_keras_group_normalization_gives_tfa_numbers_with_tfa_weights():
    layer = keras.layers.GroupNormalization(groups=3)
    layer.build(TFA["groupnorm_x"].shape)
    layer.set_weights(tfa_weights("groupnorm"))
    close(layer(TFA["groupnorm_x"]), TFA["groupnorm_y"], atol=1e-4)


def test_project_instance_normalization_gives_tfa_numbers_with_tfa_weights():
    layer = InstanceNormalization()
    layer.build(TFA["instancenorm_x"].shape)
    layer.set_weights(tfa_weights("instancenorm"))
    close(layer(TFA["instancenorm_x"]), TFA["instancenorm_y"], atol=1e-4)


@pytest.mark.parametrize("training", [True, False])
def test_spectral_normalization_matches_tfa_with_tfa_weight_order(training):
    layer = SpectralNormalization(keras.layers.Dense(5), power_iterations=2)
    layer.build((None, 4))
    layer.set_weights(tfa_weights("spectral_before"))
    if training:
        close(layer(TFA["spectral_x"], training=True), TFA["spectral_y_train"])
        for got, want in zip(layer.get_weights(), tfa_weights("spectral_after"), strict=True):
            close(got, want)
    else:
        close(
            layer(TFA["spectral_x"], training=False),
            TFA["spectral_x"] @ TFA["spectral_before_w0"] + TFA["spectral_before_w1"],
        )


def test_spectral_normalization_shared_checks():
    harness.run_layer_test(
        SpectralNormalization,
        {"layer": dense_config(3), "power_iterations": 2},
        np.random.default_rng(3).normal(size=(4, 5)).astype("float32"),
        expected_output_shape=(4, 3),
        atol=1e-4,
    )


def test_spectral_normalization_bad_input():
    with pytest.raises(TypeError, match="layer='dense'"):
        SpectralNormalization("dense")
    with pytest.raises(ValueError, match="power_iterations=0"):
        SpectralNormalization(keras.layers.Dense(2), power_iterations=0)
    layer = SpectralNormalization(keras.layers.Dense(3))
    layer.build((None, 4))
    with pytest.raises(ValueError, match="expects 3 weights"):
        layer.set_weights([np.ones(3)])
