"""TensorFlow Addons' `CorrelationCost` (FlowNet's correlation layer) on Keras 3 without a custom
op: TFA's outputs and gradients (`tests/fixtures/tfa/tfa_layers.npz`), a brute-force
reference, the shared layer checks and bad input."""

import os

import numpy as np
import pytest
import tensorflow as tf

from layers.convolution.correlation_cost import CorrelationCost
from tests import harness

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tfa", "tfa_layers.npz")
with np.load(FIXTURE) as _data:
    TFA = {k: _data[k] for k in _data.files}
CASES = {
    "corr_a": dict(kernel_size=1, max_displacement=2, stride_1=1, stride_2=1, pad=2),
    "corr_b": dict(kernel_size=3, max_displacement=2, stride_1=2, stride_2=2, pad=3),
}


def close(actual, expected, atol=1e-5):
    np.testing.assert_allclose(np.asarray(actual), expected, atol=atol, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(CASES))
def test_correlation_cost_matches_tfa_outputs_and_gradients(name):
    layer = CorrelationCost(data_format="channels_last", **CASES[name])
    a, b = tf.constant(TFA[name + "_a"]), tf.constant(TFA[name + "_b"])
    with tf.GradientTape() as tape:
        tape.watch([a, b])
        y = layer([a, b])
        weights = np.linspace(-1.0, 1.0, int(np.prod(y.shape)), dtype="float32")
        loss = tf.reduce_sum(y * weights.reshape(y.shape))
    grad_a, grad_b = tape.gradient(loss, [a, b])
    close(y, TFA[name + "_y"])
    close(grad_a, TFA[name + "_grad_a"])
    close(grad_b, TFA[name + "_grad_b"])
    assert tuple(layer.compute_output_shape([a.shape, b.shape])) == tuple(y.shape)


@pytest.mark.parametrize("name", sorted(CASES))
def test_correlation_cost_channels_first_matches_tfa_under_xla(name):
    layer = CorrelationCost(data_format="channels_first", **CASES[name])
    a = np.transpose(TFA[name + "_a"], (0, 3, 1, 2))
    b = np.transpose(TFA[name + "_b"], (0, 3, 1, 2))
    close(tf.function(lambda a, b: layer([a, b]), jit_compile=True)(a, b), TFA[name + "_y_first"])


def brute_force(a, b, kernel_size, max_displacement, stride_1, stride_2, pad):
    """TFA's CPU kernel, loop by loop (zeros outside the input)."""
    n, height, width, channels = a.shape
    rad, disp = (kernel_size - 1) // 2, max_displacement // stride_2
    border = max_displacement + rad
    out_h = -(-(height + 2 * pad - 2 * border) // stride_1)
    out_w = -(-(width + 2 * pad - 2 * border) // stride_1)
    out = np.zeros((n, out_h, out_w, (2 * disp + 1) ** 2), "float64")

    def at(x, i, j):
        inside = 0 <= i < height and 0 <= j < width
        return x[:, i, j] if inside else np.zeros((n, channels))

    for h in range(out_h):
        for w in range(out_w):
            h1, w1 = (h - pad) * stride_1 + border, (w - pad) * stride_1 + border
            for tj in range(-disp, disp + 1):
                for ti in range(-disp, disp + 1):
                    channel = (tj + disp) * (2 * disp + 1) + ti + disp
                    h2, w2 = h1 + tj * stride_2, w1 + ti * stride_2
                    total = 0.0
                    for j in range(-rad, rad + 1):
                        for i in range(-rad, rad + 1):
                            total = total + (at(a, h1 + j, w1 + i) * at(b, h2 + j, w2 + i)).sum(-1)
                    out[:, h, w, channel] = total / (kernel_size**2 * channels)
    return out


def test_correlation_cost_matches_brute_force_on_odd_settings():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 11, 10, 2)), rng.normal(size=(2, 11, 10, 2))
    kwargs = dict(kernel_size=3, max_displacement=3, stride_1=2, stride_2=2, pad=1)
    got = CorrelationCost(data_format="channels_last", **kwargs)(
        [a.astype("float32"), b.astype("float32")]
    )
    close(got, brute_force(a, b, **kwargs), atol=1e-5)


def test_correlation_cost_shared_checks():
    rng = np.random.default_rng(1)
    harness.run_layer_test(
        CorrelationCost,
        {
            "kernel_size": 1,
            "max_displacement": 1,
            "stride_1": 1,
            "stride_2": 1,
            "pad": 1,
            "data_format": "channels_last",
        },
        [rng.normal(size=(4, 3, 4, 2)).astype("float32") for _ in range(2)],
        expected_output_shape=(4, 3, 4, 9),
        run_training=False,
        run_distributed=False,
        atol=1e-4,
    )


def test_correlation_cost_bad_input():
    good = dict(kernel_size=1, max_displacement=1, stride_1=1, stride_2=1, pad=0)
    with pytest.raises(ValueError, match="kernel_size=2"):
        CorrelationCost(**{**good, "kernel_size": 2}, data_format="channels_last")
    with pytest.raises(ValueError, match="stride_1=0"):
        CorrelationCost(**{**good, "stride_1": 0}, data_format="channels_last")
    with pytest.raises(ValueError, match="data_format='NHWC'"):
        CorrelationCost(**good, data_format="NHWC")
    layer = CorrelationCost(**good, data_format="channels_last")
    with pytest.raises(ValueError, match="same shape"):
        layer([np.ones((1, 4, 4, 2), "float32"), np.ones((1, 4, 4, 3), "float32")])
    with pytest.raises(ValueError, match="too small"):
        layer([np.ones((1, 2, 2, 1), "float32"), np.ones((1, 2, 2, 1), "float32")])
    with pytest.raises(ValueError, match=r"\[a, b\]"):
        layer(np.ones((1, 4, 4, 2), "float32"))
