"""Regularization layers: harness checks, references from the papers, seeded statistics."""

import itertools

import keras
import numpy as np
import pytest

from layers.regularization import (
    DropBlock2D,
    MCDropout,
    ShakeoutDense,
    StochasticDepth,
    drop_block_gamma,
    shakeout_matmul,
)
from tests import harness

RNG = np.random.default_rng(0)
IMAGES = RNG.normal(size=(2, 8, 8, 3)).astype("float32")
FEATURES = RNG.normal(size=(4, 5)).astype("float32")


# --------------------------------------------------------------------------------------------
# DropBlock2D
# --------------------------------------------------------------------------------------------


def test_drop_block_harness_is_identity_at_inference():
    harness.run_layer_test(
        DropBlock2D, {"rate": 0.2, "block_size": 3, "seed": 1}, IMAGES, expected_output=IMAGES
    )


def test_drop_block_harness_in_training_mode():
    harness.run_layer_test(
        DropBlock2D,
        {"rate": 0.2, "block_size": 3, "seed": 1},
        IMAGES,
        call_kwargs={"training": True},
        stochastic=True,
    )


def test_gamma_is_the_papers_formula():
    # Paper: gamma = (1 - keep_prob) / block_size**2 * feat_size**2
    #                / (feat_size - block_size + 1)**2
    assert drop_block_gamma(0.1, 7, 28, 28) == pytest.approx(0.1 / 49 * 784 / 484)
    assert drop_block_gamma(0.2, 3, 10, 6) == pytest.approx(0.2 / 9 * 60 / (8 * 4))


def drop_mask(layer, shape):
    out = keras.ops.convert_to_numpy(layer(np.ones(shape, "float32"), training=True))
    return out == 0.0, out


def test_dropped_fraction_is_close_to_rate():
    # With block overlaps the dropped fraction sits a little under `rate` (paper, Sec. 3).
    dropped, _ = drop_mask(DropBlock2D(0.15, 5, seed=3), (4, 32, 32, 8))
    assert 0.12 < dropped.mean() < 0.16


def test_dropped_units_form_whole_blocks_inside_the_map():
    block = 3
    dropped, _ = drop_mask(DropBlock2D(0.2, block, seed=5), (2, 12, 10, 4))
    assert dropped.any()
    for b, c in itertools.product(range(2), range(4)):
        zero = dropped[b, :, :, c]
        covered = np.zeros_like(zero)
        for i in range(12 - block + 1):
            for j in range(10 - block + 1):
                if zero[i : i + block, j : j + block].all():
                    covered[i : i + block, j : j + block] = True
        np.testing.assert_array_equal(covered, zero)


def test_kept_units_are_scaled_by_count_over_count_ones():
    dropped, out = drop_mask(DropBlock2D(0.3, 3, seed=7), (2, 9, 9, 2))
    scale = dropped.size / (~dropped).sum()
    np.testing.assert_allclose(out[~dropped], scale, rtol=1e-6)


def test_drop_block_is_seeded():
    first = DropBlock2D(0.2, 3, seed=11)(IMAGES, training=True)
    second = DropBlock2D(0.2, 3, seed=11)(IMAGES, training=True)
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"rate": 1.0}, "rate=1.0"),
        ({"rate": -0.1}, "rate=-0.1"),
        ({"block_size": 0}, "block_size=0"),
        ({"block_size": 2.5}, "block_size=2.5"),
    ],
)
def test_drop_block_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DropBlock2D(**kwargs)


def test_drop_block_rejects_blocks_larger_than_the_map():
    with pytest.raises(ValueError, match="block_size=9"):
        DropBlock2D(0.1, 9)(IMAGES)


# --------------------------------------------------------------------------------------------
# ShakeoutDense
# --------------------------------------------------------------------------------------------


def numpy_shakeout(x, w, keep, rate, c):
    """Per example, the paper's shaken weights: row j is (W_j + c tau s_j) / (1 - tau) when
    input j is kept and -c s_j when it is dropped (s = sign W)."""
    s = np.sign(w)
    out = np.zeros((x.shape[0], w.shape[1]))
    for n in range(x.shape[0]):
        shaken = np.where(keep[n][:, None] == 1, (w + c * rate * s) / (1 - rate), -c * s)
        out[n] = x[n] @ shaken
    return out


def test_shakeout_harness():
    harness.run_layer_test(
        ShakeoutDense,
        {"units": 3, "rate": 0.4, "c": 0.2, "seed": 2, "activation": "tanh"},
        FEATURES,
        expected_output_shape=(4, 3),
    )


def test_shakeout_matmul_matches_numpy_reference():
    w = RNG.normal(size=(5, 3)).astype("float32")
    keep = (RNG.uniform(size=FEATURES.shape) > 0.4).astype("float32")
    got = shakeout_matmul(FEATURES, w, keep, 0.4, 0.7)
    np.testing.assert_allclose(got, numpy_shakeout(FEATURES, w, keep, 0.4, 0.7), atol=1e-5)


def test_training_output_is_one_of_the_shaken_networks():
    layer = ShakeoutDense(2, rate=0.5, c=0.3, use_bias=False, seed=4)
    x = RNG.normal(size=(16, 3)).astype("float32")
    out = keras.ops.convert_to_numpy(layer(x, training=True))
    w = layer.kernel.numpy()
    masks = [np.array(m, "float32") for m in itertools.product((0, 1), repeat=3)]
    for n in range(16):
        candidates = [numpy_shakeout(x[n : n + 1], w, m[None], 0.5, 0.3)[0] for m in masks]
        assert min(np.abs(out[n] - cand).max() for cand in candidates) < 1e-5


def test_shakeout_is_unbiased_and_deterministic_at_inference():
    layer = ShakeoutDense(3, rate=0.5, c=0.5, seed=8)
    x = np.repeat(FEATURES[:1], 20000, axis=0)
    inference = keras.ops.convert_to_numpy(layer(x[:1]))
    np.testing.assert_array_equal(layer(x[:1]), inference)
    mean = keras.ops.convert_to_numpy(layer(x, training=True)).mean(axis=0)
    np.testing.assert_allclose(mean, inference[0], atol=0.05)


def test_shakeout_with_zero_c_is_inverted_dropout_on_the_inputs():
    w = RNG.normal(size=(5, 3)).astype("float32")
    keep = (RNG.uniform(size=FEATURES.shape) > 0.3).astype("float32")
    expected = (FEATURES * keep / 0.7) @ w
    np.testing.assert_allclose(shakeout_matmul(FEATURES, w, keep, 0.3, 0.0), expected, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"rate": 1.0}, "rate=1.0"), ({"c": -1.0}, "c=-1.0"), ({"units": 0}, "units=0")],
)
def test_shakeout_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ShakeoutDense(**{"units": 2, **kwargs})


# --------------------------------------------------------------------------------------------
# StochasticDepth
# --------------------------------------------------------------------------------------------


def test_stochastic_depth_harness_adds_the_branch_at_inference():
    shortcut, residual = IMAGES, RNG.normal(size=IMAGES.shape).astype("float32")
    harness.run_layer_test(
        StochasticDepth,
        {"survival_probability": 0.7, "seed": 3},
        [shortcut, residual],
        expected_output=shortcut + residual,
    )


def test_stochastic_depth_harness_in_training_mode():
    harness.run_layer_test(
        StochasticDepth,
        {"survival_probability": 0.7},
        [IMAGES, IMAGES],
        call_kwargs={"training": True},
        stochastic=True,
        run_saving=False,
    )


def test_stochastic_depth_drops_whole_samples_and_scales_kept_ones():
    shortcut = RNG.normal(size=(4000, 3, 2)).astype("float32")
    residual = RNG.normal(size=(4000, 3, 2)).astype("float32")
    out = keras.ops.convert_to_numpy(
        StochasticDepth(0.75, seed=9)([shortcut, residual], training=True)
    )
    dropped = np.all(out == shortcut, axis=(1, 2))
    kept = np.all(np.isclose(out, shortcut + residual / 0.75, atol=1e-6), axis=(1, 2))
    assert np.all(dropped ^ kept)
    assert abs(kept.mean() - 0.75) < 0.03


@pytest.mark.parametrize("value", [0.0, 1.5, "0.5"])
def test_stochastic_depth_rejects_bad_probability(value):
    with pytest.raises(ValueError, match="survival_probability="):
        StochasticDepth(value)


def test_stochastic_depth_needs_two_equal_inputs():
    with pytest.raises(ValueError, match="shortcut.shape"):
        StochasticDepth()([IMAGES, IMAGES[..., :2]])


# --------------------------------------------------------------------------------------------
# MCDropout
# --------------------------------------------------------------------------------------------


def test_mc_dropout_harness():
    harness.run_layer_test(
        MCDropout, {"rate": 0.3, "seed": 5}, FEATURES, expected_output_shape=(4, 5), stochastic=True
    )


def test_mc_dropout_stays_on_at_inference():
    layer = MCDropout(0.25, seed=1)
    x = np.ones((200, 50), "float32")
    first = keras.ops.convert_to_numpy(layer(x, training=False))
    second = keras.ops.convert_to_numpy(layer(x))
    assert not np.array_equal(first, second)
    assert abs((first == 0).mean() - 0.25) < 0.02
    np.testing.assert_allclose(first[first != 0], 1 / 0.75, rtol=1e-6)


def test_mc_dropout_is_seeded_and_averages_to_the_input():
    x = RNG.normal(size=(1, 8)).astype("float32")
    first, second = MCDropout(0.5, seed=3), MCDropout(0.5, seed=3)
    np.testing.assert_array_equal(first(x), second(x))
    inputs = keras.Input((8,))
    model = keras.Model(inputs, MCDropout(0.5, seed=3)(inputs))
    samples = model.predict(np.repeat(x, 4000, axis=0), verbose=0)
    np.testing.assert_allclose(samples.mean(axis=0), x[0], atol=0.1)


def test_mc_dropout_rejects_bad_rate():
    with pytest.raises(ValueError, match="rate=1.5"):
        MCDropout(1.5)
