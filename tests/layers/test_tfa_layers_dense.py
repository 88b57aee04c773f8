"""TensorFlow Addons' `MultiHeadAttention`, `StochasticDepth`, `NoisyDense` and
`PolynomialCrossing` on Keras 3, checked against TFA's numbers
(`tests/fixtures/tfa/tfa_layers.npz`)."""

import os

import numpy as np
import pytest
import tensorflow as tf

from layers.attention.multi_head_attention_tfa import MultiHeadAttention
from layers.noisy_dense import NoisyDense
from layers.polynomial_crossing import PolynomialCrossing
from layers.regularization.stochastic_depth_tfa import TFAStochasticDepth
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


def floats(*shape):
    return RNG.normal(size=shape).astype("float32")


# ------------------------------------------------------------------------------------------
# MultiHeadAttention
# ------------------------------------------------------------------------------------------


def test_multi_head_attention_matches_tfa_with_tfa_weights():
    q, k, v = TFA["mha_q"], TFA["mha_k"], TFA["mha_v"]
    layer = MultiHeadAttention(head_size=3, num_heads=2, output_size=8, return_attn_coef=True)
    layer([q, k, v])
    layer.set_weights(tfa_weights("mha"))
    out, coef = layer([q, k, v], mask=TFA["mha_mask"])
    close(out, TFA["mha_y"])
    close(coef, TFA["mha_coef"])
    close(layer([q, k, v])[0], TFA["mha_y_nomask"])
    masked = tf.function(lambda q, k, v, m: layer([q, k, v], mask=m), jit_compile=True)
    close(masked(q, k, v, TFA["mha_mask"])[0], TFA["mha_y"])


def test_multi_head_attention_key_as_value_without_bias_matches_tfa():
    layer = MultiHeadAttention(head_size=2, num_heads=3, use_projection_bias=False)
    layer([TFA["mha_q"], TFA["mha_k"]])
    layer.set_weights(tfa_weights("mha_kv"))
    close(layer([TFA["mha_q"], TFA["mha_k"]]), TFA["mha_kv_y"])


def test_multi_head_attention_shared_checks():
    harness.run_layer_test(
        MultiHeadAttention,
        {"head_size": 2, "num_heads": 2, "output_size": 3, "return_attn_coef": True},
        [floats(4, 3, 5), floats(4, 2, 6)],
        expected_output_shape=[(4, 3, 3), (4, 2, 3, 2)],
        atol=1e-4,
    )


def test_multi_head_attention_bad_input():
    with pytest.raises(ValueError, match="head_size=0"):
        MultiHeadAttention(head_size=0, num_heads=2)
    with pytest.raises(ValueError, match="output_size=0"):
        MultiHeadAttention(head_size=2, num_heads=2, output_size=0)
    with pytest.raises(ValueError, match="dropout=1.0"):
        MultiHeadAttention(head_size=2, num_heads=2, dropout=1.0)
    layer = MultiHeadAttention(head_size=2, num_heads=2)
    with pytest.raises(ValueError, match="list"):
        layer(floats(2, 3, 4))
    with pytest.raises(ValueError, match="same number of elements"):
        layer([floats(2, 3, 4), floats(2, 5, 4), floats(2, 4, 4)])


# ------------------------------------------------------------------------------------------
# StochasticDepth (TFA's form)
# ------------------------------------------------------------------------------------------


def test_stochastic_depth_matches_tfa_at_inference():
    a, b = TFA["sd_a"], TFA["sd_b"]
    close(TFAStochasticDepth(0.3)([a, b], training=False), TFA["sd_y"])
    close(TFAStochasticDepth(0.3, scale_at_inference=False)([a, b]), a + b)


@pytest.mark.parametrize("scale_at_inference", [True, False])
def test_stochastic_depth_training_keeps_or_drops_the_whole_batch(scale_at_inference):
    a, b = floats(8, 3), floats(8, 3)
    layer = TFAStochasticDepth(0.5, scale_at_inference=scale_at_inference, seed=1)
    kept = 1.0 if scale_at_inference else 2.0
    outcomes = set()
    for _ in range(20):
        y = np.asarray(layer([a, b], training=True))
        if np.allclose(y, a):
            outcomes.add("dropped")
        else:
            close(y, a + kept * b)
            outcomes.add("kept")
    assert outcomes == {"dropped", "kept"}


def test_stochastic_depth_shared_checks_and_bad_input():
    harness.run_layer_test(
        TFAStochasticDepth,
        {"survival_probability": 0.7, "seed": 3},
        [floats(4, 3), floats(4, 3)],
        expected_output_shape=(4, 3),
        run_training=False,
    )
    with pytest.raises(ValueError, match="survival_probability=0"):
        TFAStochasticDepth(0)
    with pytest.raises(TypeError, match="scale_at_inference=1"):
        TFAStochasticDepth(0.5, scale_at_inference=1)
    with pytest.raises(ValueError, match="shortcut, residual"):
        TFAStochasticDepth()(floats(2, 3))


# ------------------------------------------------------------------------------------------
# NoisyDense
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("factorised", [True, False])
def test_noisy_dense_matches_tfa_with_tfa_weights_and_remove_noise(factorised):
    name = f"noisy_f{int(factorised)}"
    layer = NoisyDense(4, sigma=0.4, use_factorised=factorised, activation="relu")
    layer.build(TFA[name + "_x"].shape)
    layer.set_weights(tfa_weights(name))
    close(layer(TFA[name + "_x"]), TFA[name + "_y"])
    layer.remove_noise()
    close(layer(TFA[name + "_x"]), TFA[name + "_y_clean"])


@pytest.mark.parametrize("factorised", [True, False])
def test_noisy_dense_noise_is_fixed_until_reset(factorised):
    layer = NoisyDense(3, use_factorised=factorised, seed=4)
    x = floats(2, 5)
    first = np.asarray(layer(x))
    close(layer(x), first)
    eps = np.asarray(layer.eps_kernel)
    if factorised:  # an outer product: rank one
        assert np.linalg.matrix_rank(eps) == 1
        close(layer.eps_bias, np.sign(eps[0]) * np.sign(eps[0, 0]) * np.abs(layer.eps_bias))
    layer.reset_noise()
    assert not np.allclose(layer(x), first)


def test_noisy_dense_shared_checks_and_bad_input():
    harness.run_layer_test(
        NoisyDense,
        {"units": 3, "sigma": 0.3, "seed": 2},
        floats(4, 5),
        expected_output_shape=(4, 3),
        atol=1e-4,
    )
    with pytest.raises(ValueError, match="units=0"):
        NoisyDense(0)
    with pytest.raises(ValueError, match="sigma=-1"):
        NoisyDense(2, sigma=-1.0)
    with pytest.raises(ValueError, match="rank >= 2"):
        NoisyDense(2).build((None,))


# ------------------------------------------------------------------------------------------
# PolynomialCrossing
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, kwargs",
    [("polycross_full", {"diag_scale": 0.5}), ("polycross_low", {"projection_dim": 2})],
)
def test_polynomial_crossing_matches_tfa_with_tfa_weights(name, kwargs):
    x0, x1 = TFA[name + "_x0"], TFA[name + "_x1"]
    layer = PolynomialCrossing(**kwargs)
    layer.build([x0.shape, x1.shape])
    layer.set_weights(tfa_weights(name))
    close(layer([x0, x1]), TFA[name + "_y"])


def test_polynomial_crossing_shared_checks_and_bad_input():
    harness.run_layer_test(
        PolynomialCrossing,
        {"projection_dim": 2, "diag_scale": 0.1},
        [floats(4, 5), floats(4, 5)],
        expected_output_shape=(4, 5),
        atol=1e-4,
    )
    with pytest.raises(ValueError, match="projection_dim=0"):
        PolynomialCrossing(projection_dim=0)
    with pytest.raises(ValueError, match="projection_dim=3"):
        PolynomialCrossing(projection_dim=3)([floats(2, 5), floats(2, 5)])
    with pytest.raises(ValueError, match="x0, x"):
        PolynomialCrossing()(floats(2, 5))
