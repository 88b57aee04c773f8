"""Recurrent layers: NumPy references written from the papers, the harness, and behaviour."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.recurrent import (
    HMLSTM,
    QRNN,
    AttentionDecoder,
    BoundarySlopeAnnealing,
    HMLSTMCell,
    IndRNN,
    IndRNNCell,
)
from layers.recurrent.hmlstm import hmlstm_update
from tests import harness

RNG = np.random.default_rng(0)
X = RNG.normal(size=(4, 6, 4)).astype("float32")


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# --------------------------------------------------------------------------------------------
# QRNN
# --------------------------------------------------------------------------------------------


def qrnn_reference(x, kernel, bias, mask=None, c0=None, go_backwards=False):
    """Bradbury et al. eq. 1-4 with fo-pooling, one step at a time."""
    batch, steps, _ = x.shape
    window, _, width = kernel.shape
    units = width // 3
    mask = np.ones((batch, steps), bool) if mask is None else mask
    if go_backwards:
        x, mask = x[:, ::-1], mask[:, ::-1]
    x = x * mask[..., None]
    c = np.zeros((batch, units)) if c0 is None else c0.astype(np.float64)
    h = np.zeros((batch, units))
    outputs = []
    for t in range(steps):
        gates = np.tile(bias, (batch, 1)).astype(np.float64)
        for j in range(window):  # kernel[window - 1] sees step t, kernel[0] step t - window + 1
            source = t - window + 1 + j
            if source >= 0:
                gates += x[:, source] @ kernel[j]
        z, f, o = (
            np.tanh(gates[:, :units]),
            sigmoid(gates[:, units:-units]),
            sigmoid(gates[:, -units:]),
        )
        for b in range(batch):
            if mask[b, t]:
                c[b] = f[b] * c[b] + (1 - f[b]) * z[b]
                h[b] = o[b] * c[b]
        outputs.append(h.copy())
    return np.stack(outputs, 1), c


def _random_weights(layer, seed=1):
    rng = np.random.default_rng(seed)
    layer.set_weights(
        [rng.normal(scale=0.5, size=w.shape).astype("float32") for w in layer.weights]
    )


@pytest.mark.parametrize("go_backwards", [False, True])
def test_qrnn_matches_loop_reference_with_mask_and_initial_state(go_backwards):
    layer = QRNN(
        5, window_size=3, return_sequences=True, return_state=True, go_backwards=go_backwards
    )
    layer.build(X.shape)
    _random_weights(layer)
    mask = np.array(
        [[1, 1, 1, 1, 0, 0], [0, 1, 1, 1, 1, 1], [1, 0, 1, 1, 0, 1], [1, 1, 1, 1, 1, 1]], bool
    )
    c0 = RNG.normal(size=(4, 5)).astype("float32")
    outputs, state = layer(X, mask=mask, initial_state=c0)
    expected, expected_state = qrnn_reference(
        X, *layer.get_weights(), mask=mask, c0=c0, go_backwards=go_backwards
    )
    np.testing.assert_allclose(outputs, expected, atol=1e-5)
    np.testing.assert_allclose(state, expected_state, atol=1e-5)


def test_qrnn_unknown_length_uses_the_same_scan():
    layer = QRNN(4, window_size=2, return_sequences=True)
    inputs = keras.Input((None, 4))
    model = keras.Model(inputs, layer(inputs))
    _random_weights(layer)
    expected, _ = qrnn_reference(X, *layer.get_weights())
    np.testing.assert_allclose(model.predict(X, verbose=0), expected, atol=1e-5)
    graph = tf.function(
        lambda x: layer(x), input_signature=[tf.TensorSpec((None, None, 4), tf.float32)]
    )
    np.testing.assert_allclose(graph(X), expected, atol=1e-5)


def test_qrnn_masking_layer_carries_state_and_propagates_mask():
    x = X.copy()
    x[:, -2:] = 0.0
    inputs = keras.Input((6, 4))
    masked = keras.layers.Masking()(inputs)
    layer = QRNN(4, return_sequences=True)
    outputs = layer(masked)
    assert outputs._keras_mask is not None
    model = keras.Model(inputs, outputs)
    result = model.predict(x, verbose=0)
    np.testing.assert_allclose(result[:, -1], result[:, -3], atol=1e-6)  # carried through
    last = QRNN.from_config({**layer.get_config(), "return_sequences": False})
    last.build(x.shape)
    last.set_weights(layer.get_weights())
    np.testing.assert_allclose(last(x, mask=np.any(x != 0, -1)), result[:, -3], atol=1e-6)


def test_qrnn_zoneout_only_in_training():
    layer = QRNN(4, zoneout=0.5, return_sequences=True, seed=3)
    inference = layer(X)
    np.testing.assert_allclose(layer(X, training=False), inference)
    assert not np.allclose(layer(X, training=True), inference)


@pytest.mark.parametrize(
    "kwargs, shape",
    [
        pytest.param({"units": 5, "window_size": 2}, (4, 5), marks=pytest.mark.slow),
        (
            {"units": 5, "window_size": 3, "return_sequences": True, "return_state": True},
            [(4, 6, 5), (4, 5)],
        ),
    ],
)
def test_qrnn_harness(kwargs, shape):
    harness.run_layer_test(QRNN, kwargs, X, expected_output_shape=shape, atol=1e-4)


def test_qrnn_bad_arguments():
    with pytest.raises(ValueError, match="window_size=0"):
        QRNN(4, window_size=0)
    with pytest.raises(ValueError, match="zoneout=1.0"):
        QRNN(4, zoneout=1.0)
    with pytest.raises(ValueError, match="units=-2"):
        QRNN(-2)


# --------------------------------------------------------------------------------------------
# IndRNN
# --------------------------------------------------------------------------------------------


def indrnn_reference(x, kernel, recurrent, bias):
    """Li et al. eq. 2 with ReLU: h_t = relu(W x_t + u * h_{t-1} + b)."""
    h = np.zeros((x.shape[0], kernel.shape[1]))
    outputs = []
    for t in range(x.shape[1]):
        h = np.maximum(x[:, t] @ kernel + recurrent * h + bias, 0.0)
        outputs.append(h)
    return np.stack(outputs, 1)


def test_indrnn_matches_loop_reference():
    layer = IndRNN(5, return_sequences=True)
    layer.build(X.shape)
    _random_weights(layer, seed=2)
    np.testing.assert_allclose(layer(X), indrnn_reference(X, *layer.get_weights()), atol=1e-5)


def test_indrnn_cell_in_keras_rnn_equals_layer():
    cell_layer = keras.layers.RNN(IndRNNCell(5), return_sequences=True)
    layer = IndRNN(5, return_sequences=True)
    cell_layer.build(X.shape)
    layer.build(X.shape)
    _random_weights(layer, seed=2)
    cell_layer.set_weights(layer.get_weights())
    np.testing.assert_allclose(cell_layer(X), layer(X), atol=1e-6)


def test_indrnn_recurrent_max_clips_after_an_update():
    layer = IndRNN(4, recurrent_max=0.5, recurrent_initializer=keras.initializers.Constant(3.0))
    inputs = keras.Input((6, 4))
    model = keras.Model(inputs, layer(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(X, np.ones((4, 4), "float32"), epochs=1, verbose=0)
    recurrent = keras.ops.convert_to_numpy(layer.cell.recurrent_kernel)
    np.testing.assert_allclose(np.abs(recurrent), 0.5)  # 3.0 and its update, clipped to 0.5


def test_indrnn_default_recurrent_init_within_bound():
    layer = IndRNN(64, recurrent_max=0.8)
    layer.build(X.shape)
    recurrent = keras.ops.convert_to_numpy(layer.cell.recurrent_kernel)
    assert recurrent.min() >= 0.0 and recurrent.max() <= 0.8


def test_indrnn_harness():
    harness.run_layer_test(
        IndRNN,
        {"units": 5, "recurrent_max": 1.0, "return_sequences": True},
        X,
        expected_output_shape=(4, 6, 5),
    )


def test_indrnn_bad_arguments():
    with pytest.raises(ValueError, match="recurrent_max=0"):
        IndRNN(4, recurrent_max=0)
    with pytest.raises(ValueError, match="units=0"):
        IndRNNCell(0)


# --------------------------------------------------------------------------------------------
# HM-LSTM
# --------------------------------------------------------------------------------------------


def test_hmlstm_copy_update_flush_on_hand_set_inputs():
    c = np.array([[0.5, -1.0]])
    h = np.array([[0.2, 0.3]])
    f, i, o, g = (np.array([[v, v]]) for v in (0.9, 0.4, 0.7, -0.5))
    cases = {
        "copy": (0.0, 0.0, c, h),
        "update": (1.0, 0.0, f * c + i * g, o * np.tanh(f * c + i * g)),
        "flush": (0.0, 1.0, i * g, o * np.tanh(i * g)),
        "flush_with_boundary_below": (1.0, 1.0, i * g, o * np.tanh(i * g)),
    }
    for name, (z_below, z_previous, c_expected, h_expected) in cases.items():
        c_new, h_new = hmlstm_update(
            c, h, f, i, o, g, np.array([[z_below]]), np.array([[z_previous]])
        )
        np.testing.assert_allclose(c_new, c_expected, atol=1e-7, err_msg=name)
        np.testing.assert_allclose(h_new, h_expected, atol=1e-7, err_msg=name)


def hmlstm_reference(x, weights, units, slope=1.0):
    """Chung et al. eq. 2-7 with explicit COPY/UPDATE/FLUSH branches, one example at a time."""
    levels = len(units)
    outputs, boundaries_out = [], []
    for b in range(x.shape[0]):
        c = [np.zeros(u) for u in units]
        h = [np.zeros(u) for u in units]
        z = [0.0] * (levels - 1)
        rows, zrows = [], []
        for t in range(x.shape[1]):
            below, z_below = x[b, t], 1.0
            new_h, new_z = [], []
            for level, u in enumerate(units):
                w = weights[level]
                top = level == levels - 1
                z_prev = 0.0 if top else z[level]
                s = h[level] @ w["recurrent"] + w["bias"] + z_below * (below @ w["bottom_up"])
                if not top:
                    s = s + z_prev * (h[level + 1] @ w["top_down"])
                f, i, o = sigmoid(s[:u]), sigmoid(s[u : 2 * u]), sigmoid(s[2 * u : 3 * u])
                g = np.tanh(s[3 * u : 4 * u])
                if z_prev == 1.0:  # FLUSH
                    c[level] = i * g
                    h[level] = o * np.tanh(c[level])
                elif z_below == 1.0:  # UPDATE
                    c[level] = f * c[level] + i * g
                    h[level] = o * np.tanh(c[level])
                # else COPY: c and h unchanged
                if not top:
                    z_below = float(np.clip((slope * s[4 * u] + 1) / 2, 0, 1) >= 0.5)
                    new_z.append(z_below)
                below = h[level]
                new_h.append(h[level].copy())
            z = new_z
            rows.append(np.concatenate(new_h))
            zrows.append(np.array(new_z))
        outputs.append(rows)
        boundaries_out.append(zrows)
    return np.array(outputs), np.array(boundaries_out)


def _hmlstm_weights(cell):
    levels = len(cell.units)
    weights = []
    for level in range(levels):
        w = {
            "bottom_up": cell.bottom_up[level].numpy(),
            "recurrent": cell.recurrent[level].numpy(),
            "bias": cell.biases[level].numpy(),
        }
        if level < levels - 1:
            w["top_down"] = cell.top_down[level].numpy()
        weights.append(w)
    return weights


def test_hmlstm_matches_branching_reference():
    layer = HMLSTM((3, 4, 2), return_sequences=True, return_boundaries=True)
    layer.build(X.shape)
    rng = np.random.default_rng(5)
    for w in layer.trainable_weights:
        w.assign(rng.normal(scale=0.8, size=w.shape).astype("float32"))
    hidden, boundaries = layer(X)
    expected_hidden, expected_boundaries = hmlstm_reference(
        X.astype(np.float64), _hmlstm_weights(layer.cell), (3, 4, 2)
    )
    # The random weights must exercise every operation for the comparison to mean something.
    assert 0 < expected_boundaries.mean() < 1
    np.testing.assert_array_equal(boundaries, expected_boundaries)
    np.testing.assert_allclose(hidden, expected_hidden, atol=1e-5)


def test_hmlstm_boundary_gradient_flows_through_straight_through_estimator():
    layer = HMLSTM((3, 3), return_sequences=True)
    layer.build(X.shape)
    rng = np.random.default_rng(6)
    for w in layer.trainable_weights:
        w.assign(rng.normal(scale=0.3, size=w.shape).astype("float32"))
    boundary_column = layer.cell.bottom_up[0]
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(layer(X)))
    gradient = tape.gradient(loss, boundary_column).numpy()
    assert np.all(np.isfinite(gradient))
    # Only the last column feeds the boundary logit; it is trained through the estimator.
    assert np.abs(gradient[:, -1]).max() > 1e-6


@pytest.mark.parametrize("jit", [False, True])
def test_hmlstm_slope_annealing_callback(jit):
    inputs = keras.Input((6, 4))
    layer = HMLSTM((4, 4))
    model = keras.Model(inputs, keras.layers.Dense(1)(layer(inputs)))
    model.compile(optimizer="adam", loss="mse", jit_compile=jit)
    callback = BoundarySlopeAnnealing(rate=0.5, max_slope=1.8)
    model.fit(X, np.ones((4, 1), "float32"), epochs=3, verbose=0, callbacks=[callback])
    np.testing.assert_allclose(layer.boundary_slope.numpy(), 1.8)  # min(1.8, 1 + 0.5 * 2)


def test_hmlstm_harness():
    harness.run_layer_test(
        HMLSTM,
        {"units": (4, 3), "slope": 2.0, "return_sequences": True, "return_boundaries": True},
        X,
        expected_output_shape=[(4, 6, 7), (4, 6, 1)],
        atol=1e-4,
    )


def test_hmlstm_cell_harness():
    harness.assert_config_round_trip(HMLSTMCell((4, 3), slope=2.0), {"units": (4, 3), "slope": 2.0})


def test_hmlstm_bad_arguments():
    with pytest.raises(ValueError, match=r"units=\(4,\)"):
        HMLSTM((4,))
    with pytest.raises(ValueError, match="slope=0"):
        HMLSTM((4, 4), slope=0)


# --------------------------------------------------------------------------------------------
# Attention decoder
# --------------------------------------------------------------------------------------------

ENCODED = RNG.normal(size=(4, 5, 7)).astype("float32")


@pytest.mark.parametrize(
    "kwargs, shapes",
    [
        pytest.param({"units": 6, "attention": "luong"}, (4, 6, 6), marks=pytest.mark.slow),
        (
            {
                "units": 6,
                "attention": "bahdanau",
                "rnn_type": "gru",
                "return_attention_weights": True,
                "return_state": True,
            },
            [(4, 6, 6), (4, 6, 5), (4, 6)],
        ),
    ],
)
def test_attention_decoder_harness(kwargs, shapes):
    harness.run_layer_test(
        AttentionDecoder, kwargs, [X, ENCODED], expected_output_shape=shapes, atol=1e-4
    )


def test_luong_attention_math():
    layer = AttentionDecoder(6, attention="luong", return_attention_weights=True)
    outputs, weights = layer([X, ENCODED])
    decoded = keras.ops.convert_to_numpy(layer.rnn(X)[0]).astype(np.float64)
    keys = ENCODED @ layer.key_projection.kernel.numpy()
    scores = np.einsum("btu,bsu->bts", decoded, keys)
    expected_weights = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    context = np.einsum("bts,bsd->btd", expected_weights, ENCODED)
    expected = np.tanh(
        np.concatenate([context, decoded], -1) @ layer.output_projection.kernel.numpy()
    )
    np.testing.assert_allclose(weights, expected_weights, atol=1e-5)
    np.testing.assert_allclose(outputs, expected, atol=1e-5)


@pytest.mark.parametrize("attention", ["luong", "bahdanau"])
def test_attention_decoder_masks(attention):
    source = keras.Input((5,), dtype="int32")
    target = keras.Input((6,), dtype="int32")
    encoded = keras.layers.Embedding(10, 7, mask_zero=True)(source)
    decoder = AttentionDecoder(6, attention=attention, return_attention_weights=True)
    outputs, weights = decoder([keras.layers.Embedding(10, 4, mask_zero=True)(target), encoded])
    assert outputs._keras_mask is not None
    model = keras.Model([source, target], [outputs, weights])
    sources = np.array([[1, 2, 3, 0, 0], [4, 5, 0, 0, 0], [1, 1, 1, 1, 1]])
    targets = np.array([[1, 2, 3, 4, 5, 6], [1, 2, 0, 0, 0, 0], [3, 3, 3, 3, 0, 0]])
    _, attention_weights = model.predict([sources, targets], verbose=0)
    valid = sources != 0
    np.testing.assert_allclose(attention_weights * ~valid[:, None, :], 0.0, atol=1e-7)
    np.testing.assert_allclose(attention_weights[targets != 0].sum(-1), 1.0, rtol=1e-5)


def test_attention_decoder_step_by_step_equals_full_sequence():
    layer = AttentionDecoder(6, return_state=True)
    full, h, c = layer([X, ENCODED])
    states, steps = None, []
    for t in range(X.shape[1]):
        out, *states = layer([X[:, t : t + 1], ENCODED], initial_state=states)
        steps.append(out)
    np.testing.assert_allclose(np.concatenate(steps, 1), full, atol=1e-5)
    np.testing.assert_allclose(states[0], h, atol=1e-5)


def test_attention_decoder_learns_to_reverse():
    vocabulary, length, start = 6, 5, 6
    rng = np.random.default_rng(0)
    sources = rng.integers(1, vocabulary, size=(128, length))
    targets = sources[:, ::-1]
    decoder_inputs = np.concatenate([np.full((128, 1), start), targets[:, :-1]], 1)

    source = keras.Input((length,), dtype="int32")
    target = keras.Input((length,), dtype="int32")
    encoded, h, c = keras.layers.LSTM(16, return_sequences=True, return_state=True)(
        keras.layers.Embedding(vocabulary + 1, 8)(source)
    )
    decoded = AttentionDecoder(16, attention="bahdanau")(
        [keras.layers.Embedding(vocabulary + 1, 8)(target), encoded], initial_state=[h, c]
    )
    logits = keras.layers.Dense(vocabulary)(decoded)
    model = keras.Model([source, target], logits)
    model.compile(
        optimizer=keras.optimizers.Adam(0.02),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = model.fit([sources, decoder_inputs], targets, batch_size=32, epochs=10, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.6 * losses[0], losses


def test_attention_decoder_bad_arguments():
    with pytest.raises(ValueError, match="attention='dot'"):
        AttentionDecoder(4, attention="dot")
    with pytest.raises(ValueError, match="rnn_type='rnn'"):
        AttentionDecoder(4, rnn_type="rnn")
    with pytest.raises(ValueError, match="inputs"):
        AttentionDecoder(4)(X)
