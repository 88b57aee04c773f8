"""Position embeddings: sinusoidal, learned, rotary and relative position biases."""

import math

import keras
import numpy as np
import pytest

from layers.embedding import (
    PositionEmbedding,
    RelativePositionBias,
    RotaryEmbedding,
    SinusoidalPositionEmbedding,
    swin_relative_position_index,
    t5_relative_position_bucket,
)
from tests import harness

RNG = np.random.default_rng(0)
X = RNG.normal(size=(2, 5, 6)).astype("float32")


# ----------------------------------------------------------------------------- sinusoidal


def sinusoidal_reference(length, dim, start=0, max_wavelength=10000.0):
    """Vaswani et al. 2017, section 3.5, one entry at a time."""
    table = np.zeros((length, dim))
    for pos in range(length):
        for k in range(dim):
            i = k // 2
            angle = (pos + start) / max_wavelength ** (2 * i / dim)
            table[pos, k] = math.sin(angle) if k % 2 == 0 else math.cos(angle)
    return table


def test_sinusoidal_harness_and_reference():
    expected = np.broadcast_to(sinusoidal_reference(5, 6, max_wavelength=100.0), X.shape)
    harness.run_layer_test(
        SinusoidalPositionEmbedding,
        {"max_wavelength": 100.0},
        X,
        expected_output_shape=X.shape,
        expected_output=expected,
        run_training=False,  # no weights
        run_distributed=False,
    )


def test_sinusoidal_start_index():
    out = SinusoidalPositionEmbedding()(X, start_index=3)
    np.testing.assert_allclose(out[0], sinusoidal_reference(5, 6, start=3), atol=1e-5)


def test_sinusoidal_rejects_bad_wavelength():
    with pytest.raises(ValueError, match="max_wavelength=1"):
        SinusoidalPositionEmbedding(max_wavelength=1)


# ----------------------------------------------------------------------------- learned


def test_position_embedding_harness():
    result = harness.run_layer_test(
        PositionEmbedding, {"sequence_length": 8}, X, expected_output_shape=X.shape
    )
    layer = result["layer"]
    table = keras.ops.convert_to_numpy(layer.embeddings)
    np.testing.assert_allclose(result["output"], np.broadcast_to(table[:5], X.shape))


def test_position_embedding_start_index():
    layer = PositionEmbedding(sequence_length=8)
    layer(X)
    table = keras.ops.convert_to_numpy(layer.embeddings)
    np.testing.assert_allclose(layer(X[:, :2], start_index=6)[1], table[6:8])


def test_position_embedding_errors():
    with pytest.raises(ValueError, match="sequence_length=0"):
        PositionEmbedding(sequence_length=0)
    with pytest.raises(ValueError, match="input_shape"):
        PositionEmbedding(sequence_length=4)(X)
    layer = PositionEmbedding(sequence_length=8)
    with pytest.raises(ValueError, match="start_index=4"):
        layer(X, start_index=4)


# ----------------------------------------------------------------------------- rotary


def rotary_reference(x, interleaved, max_wavelength=10000.0, start=0, scaling=1.0):
    """Su et al. 2021, eq. 34: a 2x2 rotation by position * theta_i for every feature pair."""
    out = np.zeros_like(x, dtype=np.float64)
    dim = x.shape[-1]
    for pos in range(x.shape[1]):
        for i in range(dim // 2):
            angle = (pos + start) / scaling * max_wavelength ** (-2 * i / dim)
            a, b = (2 * i, 2 * i + 1) if interleaved else (i, i + dim // 2)
            x_a, x_b = x[:, pos, ..., a], x[:, pos, ..., b]
            out[:, pos, ..., a] = x_a * math.cos(angle) - x_b * math.sin(angle)
            out[:, pos, ..., b] = x_a * math.sin(angle) + x_b * math.cos(angle)
    return out


QK = RNG.normal(size=(2, 6, 3, 8)).astype("float32")  # (batch, sequence, heads, head_dim)


@pytest.mark.parametrize("interleaved", [False, True])
def test_rotary_harness_and_reference(interleaved):
    harness.run_layer_test(
        RotaryEmbedding,
        {"max_wavelength": 100.0, "interleaved": interleaved},
        QK,
        expected_output_shape=QK.shape,
        expected_output=rotary_reference(QK, interleaved, 100.0),
        run_training=False,  # no weights
        run_distributed=False,
    )


def test_rotary_start_index_and_scaling():
    layer = RotaryEmbedding(scaling_factor=2.0)
    expected = rotary_reference(QK[:, :2], False, start=5, scaling=2.0)
    np.testing.assert_allclose(layer(QK[:, :2], start_index=5), expected, atol=1e-5)


def test_rotary_scores_depend_on_relative_position_only():
    rope = RotaryEmbedding()
    vector_q, vector_k = RNG.normal(size=(2, 8)).astype("float32")
    q = np.broadcast_to(vector_q, (1, 10, 1, 8))
    k = np.broadcast_to(vector_k, (1, 10, 1, 8))
    scores = np.einsum("bqhd,bkhd->qk", rope(q), rope(k))
    # Same offset m - n: same score.
    np.testing.assert_allclose(scores[3, 1], scores[9, 7], rtol=1e-4)
    np.testing.assert_allclose(scores[2, 6], scores[4, 8], rtol=1e-4)


def test_rotary_errors():
    with pytest.raises(ValueError, match="input_shape"):
        RotaryEmbedding()(QK[..., :7])
    with pytest.raises(ValueError, match="scaling_factor=0"):
        RotaryEmbedding(scaling_factor=0)


# ----------------------------------------------------------------------------- T5 buckets


def t5_bucket_reference(relative, bidirectional, num_buckets, max_distance):
    """Raffel et al. 2020 / mesh-tensorflow's `_relative_position_bucket`, for one distance."""
    bucket = 0
    n = relative
    if bidirectional:
        num_buckets //= 2
        if n > 0:
            bucket += num_buckets
        n = abs(n)
    else:
        n = max(-n, 0)
    max_exact = num_buckets // 2
    if n < max_exact:
        return bucket + n
    large = max_exact + int(
        np.float32(math.log(n / max_exact) / math.log(max_distance / max_exact))
        * (num_buckets - max_exact)
    )
    return bucket + min(large, num_buckets - 1)


@pytest.mark.parametrize(
    "relative, bidirectional, expected",
    # Hand-computed with 32 buckets and max_distance 128 (16 per direction, 8 exact).
    [
        (-3, True, 3),
        (3, True, 19),
        (-8, True, 8),
        (-20, True, 10),  # 8 + floor(8 * ln(20 / 8) / ln(16)) = 8 + 2
        (-200, True, 15),
        (200, True, 31),
        (5, False, 0),
        (-5, False, 5),
        (-20, False, 17),  # 16 + floor(16 * ln(20 / 16) / ln(8)) = 16 + 1
    ],
)
def test_t5_bucket_hand_values(relative, bidirectional, expected):
    bucket = t5_relative_position_bucket(np.array([relative]), bidirectional, 32, 128)
    assert int(keras.ops.convert_to_numpy(bucket)[0]) == expected


@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("num_buckets, max_distance", [(32, 128), (10, 20)])
def test_t5_buckets_match_reference(bidirectional, num_buckets, max_distance):
    relative = np.arange(-300, 301)
    got = keras.ops.convert_to_numpy(
        t5_relative_position_bucket(relative, bidirectional, num_buckets, max_distance)
    )
    expected = [t5_bucket_reference(r, bidirectional, num_buckets, max_distance) for r in relative]
    np.testing.assert_array_equal(got, expected)


def test_t5_bias_harness_and_lookup():
    x = RNG.normal(size=(1, 6, 4)).astype("float32")
    init = {"num_heads": 3, "num_buckets": 8, "max_distance": 16, "bidirectional": False}
    # The bias has a broadcast axis of 1 where the harness expects the batch, so the shape is
    # checked here rather than symbolically by the harness.
    # Batch 1 (the bias's own leading axis) cannot be split over two replicas: see
    # test_relative_position_bias_trains_in_mirrored_strategy.
    result = harness.run_layer_test(RelativePositionBias, init, x, run_distributed=False)
    assert tuple(result["output"].shape) == (1, 3, 6, 6)
    table = keras.ops.convert_to_numpy(result["layer"].table)
    bias = keras.ops.convert_to_numpy(result["output"])
    for q in range(6):
        for k in range(6):
            bucket = t5_bucket_reference(k - q, False, 8, 16)
            np.testing.assert_allclose(bias[0, :, q, k], table[bucket])


def test_t5_bias_cross_attention_shape():
    layer = RelativePositionBias(num_heads=2)
    query, key = np.zeros((1, 3, 4), "float32"), np.zeros((1, 7, 4), "float32")
    assert tuple(layer(query, key).shape) == (1, 2, 3, 7)


# ----------------------------------------------------------------------------- Swin table


def swin_index_reference(height, width):
    """Liu et al. 2021, section 3.2: index of (dy + Wh - 1, dx + Ww - 1) in the 2-D table."""
    tokens = [(y, x) for y in range(height) for x in range(width)]
    index = np.zeros((len(tokens), len(tokens)), int)
    for a, (ya, xa) in enumerate(tokens):
        for b, (yb, xb) in enumerate(tokens):
            index[a, b] = (ya - yb + height - 1) * (2 * width - 1) + (xa - xb + width - 1)
    return index


@pytest.mark.parametrize("window", [(2, 2), (3, 2), (7, 7)])
def test_swin_index_matches_reference(window):
    np.testing.assert_array_equal(
        swin_relative_position_index(window), swin_index_reference(*window)
    )


def test_swin_index_hand_values():
    # 2x2 window: tokens (0,0),(0,1),(1,0),(1,1); table is 3x3, the centre (0,0) offset is 4.
    np.testing.assert_array_equal(
        swin_relative_position_index((2, 2)),
        [[4, 3, 1, 0], [5, 4, 2, 1], [7, 6, 4, 3], [8, 7, 5, 4]],
    )


def test_swin_bias_harness_and_lookup():
    windows = RNG.normal(size=(1, 6, 4)).astype("float32")  # one 3x2 window
    init = {"num_heads": 2, "mode": "swin", "window_size": (3, 2)}
    result = harness.run_layer_test(RelativePositionBias, init, windows, run_distributed=False)
    assert tuple(result["output"].shape) == (1, 2, 6, 6)
    table = keras.ops.convert_to_numpy(result["layer"].table)
    assert table.shape == (5 * 3, 2)
    index = swin_index_reference(3, 2)
    expected = np.transpose(table[index], (2, 0, 1))[None]
    np.testing.assert_allclose(result["output"], expected)


def test_relative_position_bias_errors():
    with pytest.raises(ValueError, match="mode='rel'"):
        RelativePositionBias(2, mode="rel")
    with pytest.raises(ValueError, match="window_size=None"):
        RelativePositionBias(2, mode="swin")
    with pytest.raises(ValueError, match="num_buckets=8"):
        RelativePositionBias(2, mode="swin", window_size=3, num_buckets=8)
    with pytest.raises(ValueError, match="window_size"):
        RelativePositionBias(2, window_size=3)
    with pytest.raises(ValueError, match="window_size=\\(2, 2\\)"):
        RelativePositionBias(2, mode="swin", window_size=(2, 2))(np.zeros((1, 5, 3), "float32"))
    with pytest.raises(ValueError, match="num_buckets=2"):
        RelativePositionBias(2, num_buckets=2)


@pytest.mark.parametrize(
    "init",
    [
        {"num_heads": 2, "num_buckets": 8, "max_distance": 16},
        {"num_heads": 2, "mode": "swin", "window_size": 2},
    ],
)
def test_relative_position_bias_trains_in_mirrored_strategy(init):
    x = RNG.normal(size=(4, 4, 6)).astype("float32")
    y = RNG.normal(size=(4, 2, 4, 4)).astype("float32")

    def fit(strategy):
        inputs = keras.Input((4, 6))
        layer = RelativePositionBias(**init)
        scores = keras.layers.EinsumDense("bqc,ch->bhq", (2, 4))(inputs)[..., None]
        model = keras.Model(inputs, scores + layer(inputs))
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        before = keras.ops.convert_to_numpy(layer.table)
        model.fit(x, y, batch_size=4, epochs=1, verbose=0)
        return before, keras.ops.convert_to_numpy(layer.table)

    before, after = harness.run_in_mirrored_strategy(fit)
    assert not np.array_equal(before, after)
