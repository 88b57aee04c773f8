"""Sparse attention, adaptive computation time and the transformer encoder block."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.attention import AdaptiveComputationTime, SparseAttention, TransformerEncoderBlock
from tests import harness

RNG = np.random.default_rng(0)


def numpy_weights(layer):
    return [keras.ops.convert_to_numpy(w) for w in layer.weights]


# ----------------------------------------------------------------------------- dense reference


def pattern_mask(pattern, length, block, summary=None, causal=False):
    """Child et al. 2019, section 4.2: which keys j each query i may attend to."""
    i = np.arange(length)[:, None]
    j = np.arange(length)[None, :]
    if pattern == "strided":
        allowed = (np.abs(i - j) <= block) | ((i - j) % block == 0)
    elif pattern == "fixed":
        allowed = (i // block == j // block) | (j % block >= block - summary)
    else:
        allowed = np.abs(i - j) <= block
    if causal:
        allowed &= j <= i
    return allowed


def dense_attention_reference(
    x, query, key, value, output, allowed, padding_mask, x_value=None, x_key=None
):
    """Masked multi-head softmax attention over the full length x length score matrix.

    `query`, `key`, `value`, `output` are (kernel, bias) pairs with keras MultiHeadAttention's
    shapes. `x` is the query sequence; `x_value` defaults to `x` and `x_key` to `x_value`. A
    query with no allowed key gets a zero attention output.
    """
    x_value = x if x_value is None else x_value
    x_key = x_value if x_key is None else x_key
    q = np.einsum("blc,chd->blhd", x, query[0]) + query[1]
    k = np.einsum("blc,chd->blhd", x_key, key[0]) + key[1]
    v = np.einsum("blc,chd->blhd", x_value, value[0]) + value[1]
    scores = np.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(q.shape[-1])
    mask = allowed[None, None] & padding_mask[:, None, None, :].astype(bool)
    scores = np.where(mask, scores, -np.inf)
    top = np.max(scores, axis=-1, keepdims=True)
    exp = np.exp(scores - np.where(np.isfinite(top), top, 0.0)) * mask
    total = exp.sum(-1, keepdims=True)
    probs = np.where(total > 0, exp / np.where(total > 0, total, 1.0), 0.0)
    attended = np.einsum("bhqk,bkhd->bqhd", probs, v)
    return np.einsum("bqhd,hdc->bqc", attended, output[0]) + output[1]


def sparse_projections(layer):
    return [
        (keras.ops.convert_to_numpy(d.kernel), keras.ops.convert_to_numpy(d.bias))
        for d in (layer.query_dense, layer.key_dense, layer.value_dense, layer.output_dense)
    ]


# ----------------------------------------------------------------------------- SparseAttention


@pytest.mark.parametrize("pattern", ["strided", "fixed", "local"])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("length, block", [(13, 4), (16, 4), (5, 8)])
def test_sparse_attention_matches_dense_reference(pattern, causal, length, block):
    summary = 2 if pattern == "fixed" else None
    x = RNG.normal(size=(2, length, 6)).astype("float32")
    padding = np.ones((2, length), "int32")
    padding[1, -3:] = 0
    layer = SparseAttention(
        num_heads=2,
        key_dim=3,
        pattern=pattern,
        block_size=block,
        summary_size=summary,
        causal=causal,
        bias_initializer="random_normal",
    )
    got = layer(x, padding_mask=padding)
    allowed = pattern_mask(pattern, length, block, summary, causal)
    expected = dense_attention_reference(x, *sparse_projections(layer), allowed, padding)
    np.testing.assert_allclose(got, expected, atol=2e-5, rtol=1e-4)


def test_sparse_attention_with_full_window_equals_multi_head_attention():
    x = RNG.normal(size=(2, 9, 8)).astype("float32")
    padding = np.ones((2, 9), bool)
    padding[0, 6:] = False
    mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, bias_initializer="random_normal")
    expected = mha(x, x, attention_mask=padding[:, None, :])
    # A local window of 8 >= length - 1 lets every query see every key.
    sparse = SparseAttention(num_heads=2, key_dim=4, pattern="local", block_size=8)
    sparse(x)
    sparse.set_weights(mha.get_weights())
    np.testing.assert_allclose(sparse(x, padding_mask=padding), expected, atol=1e-5)


def test_sparse_attention_harness():
    x = RNG.normal(size=(2, 10, 8)).astype("float32")
    init = {
        "num_heads": 2,
        "key_dim": 4,
        "pattern": "fixed",
        "block_size": 4,
        "summary_size": 2,
        "causal": True,
        "dropout": 0.1,
    }
    harness.run_layer_test(SparseAttention, init, x, expected_output_shape=x.shape, atol=1e-4)
    # The strided gather differs from the fixed one: check it compiles and saves too (training
    # under every setting is already covered above).
    strided = {"num_heads": 2, "key_dim": 4, "pattern": "strided", "block_size": 3}
    harness.run_layer_test(
        SparseAttention,
        strided,
        x,
        expected_output_shape=x.shape,
        atol=1e-4,
        run_training=False,
        run_distributed=False,
    )


def largest_intermediate(layer, length, features=8):
    """Element count of the largest tensor in the traced graph of one call."""
    fn = tf.function(lambda x: layer(x))
    graph = fn.get_concrete_function(tf.TensorSpec((1, length, features))).graph
    sizes = [t.shape.num_elements() or 0 for op in graph.get_operations() for t in op.outputs]
    return max(sizes)


@pytest.mark.parametrize("pattern", ["strided", "fixed", "local"])
def test_sparse_attention_never_builds_a_length_squared_tensor(pattern):
    length, block, heads = 1024, 32, 2
    layer = SparseAttention(heads, 4, pattern=pattern, block_size=block, causal=True)
    largest = largest_intermediate(layer, length)
    # A dense score matrix would hold heads * length**2 = 2M elements; blocked scores hold
    # at most heads * length * (3 * block + length / block) = 260k.
    assert largest <= heads * length * (3 * block + length // block)
    assert largest < heads * length * length // 8


def test_sparse_attention_errors():
    with pytest.raises(ValueError, match="pattern='dense'"):
        SparseAttention(2, 4, pattern="dense")
    with pytest.raises(ValueError, match="block_size=0"):
        SparseAttention(2, 4, block_size=0)
    with pytest.raises(ValueError, match="summary_size=3"):
        SparseAttention(2, 4, pattern="strided", summary_size=3)
    with pytest.raises(ValueError, match="summary_size=9"):
        SparseAttention(2, 4, pattern="fixed", block_size=8, summary_size=9)
    with pytest.raises(ValueError, match="dropout=1.5"):
        SparseAttention(2, 4, dropout=1.5)
    with pytest.raises(ValueError, match=r"query\.shape=\(2, 3\)"):
        SparseAttention(2, 4)(np.zeros((2, 3), "float32"))


def test_sparse_attention_called_as_multi_head_attention():
    """`layer(x, x)` is self-attention, as for keras.layers.MultiHeadAttention."""
    x = RNG.normal(size=(2, 10, 8)).astype("float32")
    layer = SparseAttention(num_heads=2, key_dim=16)  # block_size 128 > length: one block
    together = layer(x, x)
    np.testing.assert_array_equal(together, layer(x))
    padding = np.ones((2, 10), bool)
    padding[1, 7:] = False
    mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=16)
    mha(x, x)
    mha.set_weights(layer.get_weights())
    np.testing.assert_allclose(
        layer(x, x, padding_mask=padding),
        mha(x, x, attention_mask=padding[:, None, :]),
        atol=1e-5,
    )


@pytest.mark.parametrize("with_key", [False, True])
def test_sparse_cross_attention_matches_dense_reference(with_key):
    """Queries from one sequence, keys and values from another of the same length."""
    length, block = 11, 3
    x = RNG.normal(size=(2, length, 6)).astype("float32")
    other = RNG.normal(size=(2, length, 5)).astype("float32")
    keys = RNG.normal(size=(2, length, 4)).astype("float32") if with_key else None
    padding = np.ones((2, length), "int32")
    padding[0, -2:] = 0
    layer = SparseAttention(
        num_heads=2, key_dim=3, block_size=block, causal=True, bias_initializer="random_normal"
    )
    args = (x, other, keys) if with_key else (x, other)
    got = layer(*args, padding_mask=padding)
    assert got.shape == x.shape
    allowed = pattern_mask("strided", length, block, causal=True)
    expected = dense_attention_reference(
        x, *sparse_projections(layer), allowed, padding, x_value=other, x_key=keys
    )
    np.testing.assert_allclose(got, expected, atol=2e-5, rtol=1e-4)


def test_sparse_cross_attention_saves_and_loads(tmp_path):
    query = keras.Input((9, 6))
    value = keras.Input((9, 5))
    outputs = SparseAttention(2, 4, pattern="local", block_size=4)(query, value)
    model = keras.Model([query, value], outputs)
    data = [RNG.normal(size=(2, 9, 6)), RNG.normal(size=(2, 9, 5))]
    path = tmp_path / "cross.keras"
    model.save(path)
    np.testing.assert_allclose(keras.saving.load_model(path)(data), model(data), atol=1e-6)


def test_sparse_attention_builds_from_a_single_input_shape():
    """Build configs saved before the (query, value, key) call still rebuild the layer."""
    layer = SparseAttention(2, 4)
    layer.build_from_config({"input_shape": (None, 10, 8)})
    assert [tuple(w.shape) for w in layer.weights[::2]] == [(8, 2, 4)] * 3 + [(2, 4, 8)]
    assert layer(np.zeros((1, 13, 8), "float32")).shape == (1, 13, 8)


def test_sparse_attention_input_errors():
    x = np.zeros((2, 10, 8), "float32")
    with pytest.raises(ValueError, match=r"same length.*value\.shape=\(2, 7, 8\)"):
        SparseAttention(2, 4)(x, x[:, :7])
    with pytest.raises(ValueError, match=r"same batch size.*key\.shape=\(1, 10, 8\)"):
        SparseAttention(2, 4)(x, x, x[:1])
    with pytest.raises(ValueError, match=r"value\.shape=\(2, 10\)"):
        SparseAttention(2, 4)(x, x[..., 0])
    with pytest.raises(ValueError, match="Received: value=None"):
        SparseAttention(2, 4)(x, key=x)
    layer = SparseAttention(2, 4)
    layer(x)
    # After building: another length, feature size or mask shape.
    with pytest.raises(ValueError, match=r"same length.*value\.shape=\(2, 3, 8\)"):
        layer(x, x[:, :3])
    with pytest.raises(ValueError, match=r"8 features.*value\.shape=\(2, 10, 5\)"):
        layer(x, np.zeros((2, 10, 5), "float32"))
    with pytest.raises(ValueError, match=r"padding_mask\.shape=\(2, 10, 8\)"):
        layer(x, padding_mask=x)
    with pytest.raises(ValueError, match=r"padding_mask\.shape=\(2, 9\)"):
        layer(x, padding_mask=np.ones((2, 9), bool))


# ----------------------------------------------------------------------------- ACT


@keras.saving.register_keras_serializable(package="keras_zoo_tests")
class AffineStep(keras.layers.Layer):
    """A deterministic step: `s -> tanh(0.8 * s + 0.5)`, no weights."""

    def call(self, inputs):
        return keras.ops.tanh(0.8 * inputs + 0.5)


def act_reference(x, kernel, bias, max_steps, epsilon):
    """Graves 2016, eq. 6-11, one position at a time, with a step of tanh(0.8 s + 0.5)."""
    batch, length, _ = x.shape
    output = np.zeros_like(x, dtype=np.float64)
    steps = np.zeros((batch, length))
    remainders = np.zeros((batch, length))
    for b in range(batch):
        for t in range(length):
            state = x[b, t].astype(np.float64)
            total = 0.0
            for n in range(1, max_steps + 1):
                state = np.tanh(0.8 * state + 0.5)
                halt = 1.0 / (1.0 + np.exp(-(state @ kernel + bias)))
                if total + halt >= 1.0 - epsilon or n == max_steps:
                    remainders[b, t] = 1.0 - total
                    steps[b, t] = n
                    output[b, t] += (1.0 - total) * state
                    break
                total += halt
                output[b, t] += halt * state
    return output, steps, remainders


def act_with_halting(kernel, bias, **kwargs):
    layer = AdaptiveComputationTime(AffineStep(), **kwargs)
    layer.build((None, None, kernel.shape[0]))
    layer.halting.set_weights([kernel[:, None], np.array([bias])])
    return layer


def test_act_matches_reference_with_mixed_halting_times():
    x = RNG.normal(size=(2, 5, 3)).astype("float32")
    kernel, bias = np.array([1.5, -2.0, 0.7], "float32"), -1.0
    layer = act_with_halting(kernel, bias, max_steps=6, epsilon=0.05, time_penalty=0.5)
    output, ponder = layer(x, return_ponder=True)
    expected, steps, remainders = act_reference(x, kernel, bias, 6, 0.05)
    np.testing.assert_allclose(output, expected, atol=1e-5)
    np.testing.assert_array_equal(ponder["steps"], steps)
    np.testing.assert_allclose(ponder["remainders"], remainders, atol=1e-6)
    assert len(set(steps.ravel())) > 1  # the positions really halt at different steps
    # Ponder cost (eq. 12 and 14), averaged over positions.
    np.testing.assert_allclose(layer.losses[0], 0.5 * np.mean(steps + remainders), rtol=1e-5)


def test_act_stops_at_max_steps():
    x = RNG.normal(size=(2, 4, 3)).astype("float32")
    kernel, bias = np.zeros(3, "float32"), -8.0  # h ~ 3e-4: would need thousands of steps
    layer = act_with_halting(kernel, bias, max_steps=3)
    output, ponder = layer(x, return_ponder=True)
    expected, steps, remainders = act_reference(x, kernel, bias, 3, 0.01)
    np.testing.assert_array_equal(ponder["steps"], np.full((2, 4), 3.0))
    np.testing.assert_allclose(ponder["remainders"], 1.0 - 2.0 / (1.0 + math.exp(8.0)), rtol=1e-5)
    np.testing.assert_allclose(output, expected, atol=1e-5)


def test_act_halts_after_one_step_when_sure():
    x = RNG.normal(size=(1, 4, 3)).astype("float32")
    layer = act_with_halting(np.zeros(3, "float32"), 10.0, max_steps=5)
    output, ponder = layer(x, return_ponder=True)
    np.testing.assert_array_equal(ponder["steps"], np.ones((1, 4)))
    np.testing.assert_allclose(output, np.tanh(0.8 * x + 0.5), atol=1e-6)


def test_act_errors():
    with pytest.raises(TypeError, match="layer="):
        AdaptiveComputationTime("dense")
    with pytest.raises(ValueError, match="max_steps=0"):
        AdaptiveComputationTime(AffineStep(), max_steps=0)
    with pytest.raises(ValueError, match="epsilon=1.0"):
        AdaptiveComputationTime(AffineStep(), epsilon=1.0)
    with pytest.raises(ValueError, match="time_penalty=-1"):
        AdaptiveComputationTime(AffineStep(), time_penalty=-1)


# ----------------------------------------------------------------------------- encoder block


def layer_norm(x, gamma, beta, epsilon):
    mean = x.mean(-1, keepdims=True)
    variance = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * gamma + beta


def gelu(x):
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def block_reference(block, x, padding_mask, norm_first):
    """Vaswani et al. 2017 (post-norm) / Xiong et al. 2020 (pre-norm), composed in NumPy."""
    mha = block.attention_layer
    projections = [
        (keras.ops.convert_to_numpy(d.kernel), keras.ops.convert_to_numpy(d.bias))
        for d in (mha._query_dense, mha._key_dense, mha._value_dense, mha._output_dense)
    ]
    length = x.shape[1]
    everything = np.ones((length, length), bool)

    def attention(h):
        return dense_attention_reference(h, *projections, everything, padding_mask)

    def norm(h, layer):
        gamma, beta = numpy_weights(layer)
        return layer_norm(h, gamma, beta, block.layer_norm_epsilon)

    def ffn(h):
        w1, b1, w2, b2 = numpy_weights(block.intermediate) + numpy_weights(block.ffn_output)
        return gelu(h @ w1 + b1) @ w2 + b2

    if norm_first:
        h = x + attention(norm(x, block.attention_norm))
        return h + ffn(norm(h, block.ffn_norm))
    h = norm(x + attention(x), block.attention_norm)
    return norm(h + ffn(h), block.ffn_norm)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_block_matches_numpy_composition(norm_first):
    x = RNG.normal(size=(2, 5, 8)).astype("float32")
    padding = np.ones((2, 5), "int32")
    padding[1, 3:] = 0
    block = TransformerEncoderBlock(
        num_heads=2, intermediate_dim=16, norm_first=norm_first, bias_initializer="random_normal"
    )
    got = block(x, padding_mask=padding)
    expected = block_reference(block, x.astype(np.float64), padding, norm_first)
    np.testing.assert_allclose(got, expected, atol=2e-5, rtol=1e-4)


def test_encoder_block_ignores_padding_tokens():
    x = RNG.normal(size=(1, 6, 8)).astype("float32")
    changed = x.copy()
    changed[0, 4:] = RNG.normal(size=(2, 8))
    padding = np.array([[1, 1, 1, 1, 0, 0]])
    for attention in (None, "sparse"):
        kwargs = {"block_size": 2} if attention else None
        block = TransformerEncoderBlock(2, 16, attention=attention, attention_kwargs=kwargs)
        a = block(x, padding_mask=padding)
        b = block(changed, padding_mask=padding)
        np.testing.assert_allclose(a[:, :4], b[:, :4], atol=1e-5)


def test_sparse_block_with_full_window_equals_multi_head_block():
    x = RNG.normal(size=(2, 7, 8)).astype("float32")
    dense = TransformerEncoderBlock(2, 16, norm_first=True)
    sparse = TransformerEncoderBlock(
        2,
        16,
        norm_first=True,
        attention="sparse",
        attention_kwargs={"pattern": "local", "block_size": 8},
    )
    expected = dense(x)
    sparse(x)
    sparse.set_weights(dense.get_weights())
    np.testing.assert_allclose(sparse(x), expected, atol=1e-5)


@pytest.mark.parametrize(
    "init",
    [
        {"num_heads": 2, "intermediate_dim": 16, "dropout": 0.1, "norm_first": False},
        {
            "num_heads": 2,
            "intermediate_dim": 8,
            "norm_first": True,
            "activation": "relu",
            "layer_norm_epsilon": 1e-6,
            "attention": {
                "class_name": "SparseAttention",
                "module": "layers.attention.sparse_attention",
                "registered_name": "keras_zoo>SparseAttention",
                "config": {
                    "num_heads": 2,
                    "key_dim": 4,
                    "pattern": "strided",
                    "block_size": 2,
                },
            },
        },
    ],
)
def test_encoder_block_harness(init):
    x = RNG.normal(size=(2, 6, 8)).astype("float32")
    harness.run_layer_test(
        TransformerEncoderBlock, init, x, expected_output_shape=x.shape, atol=1e-4
    )


def test_universal_transformer_harness():
    """ACT over an encoder block: the Universal Transformer's recurrent-in-depth encoder."""
    x = RNG.normal(size=(2, 6, 8)).astype("float32")
    block = keras.saving.serialize_keras_object(TransformerEncoderBlock(2, 16, norm_first=True))
    # Without a stored dtype the block follows the global policy, mixed_float16 included.
    del block["config"]["dtype"]
    harness.run_layer_test(
        AdaptiveComputationTime,
        {"layer": block, "max_steps": 3},
        x,
        expected_output_shape=x.shape,
        atol=1e-4,
    )


def test_encoder_block_errors():
    with pytest.raises(ValueError, match="attention='flash'"):
        TransformerEncoderBlock(2, 8, attention="flash")
    with pytest.raises(ValueError, match="intermediate_dim=0"):
        TransformerEncoderBlock(2, 0)
    with pytest.raises(ValueError, match="num_heads=3"):
        TransformerEncoderBlock(3, 8)(np.zeros((1, 4, 8), "float32"))
    with pytest.raises(ValueError, match="attention_kwargs"):
        TransformerEncoderBlock(2, 8, attention=SparseAttention(2, 4), attention_kwargs={"a": 1})


def test_encoder_block_builds_named_sparse_attention():
    block = TransformerEncoderBlock(
        2, 8, attention="sparse", attention_kwargs={"pattern": "fixed", "block_size": 2}
    )
    block(np.zeros((1, 6, 8), "float32"))
    assert isinstance(block.attention_layer, SparseAttention)
    assert block.attention_layer.pattern == "fixed"
    assert block.attention_layer.key_dim == 4
    harness.assert_config_round_trip(block)


@pytest.mark.parametrize("intermediate_dropout", [True, False])
def test_encoder_block_feed_forward_dropout_is_optional(intermediate_dropout):
    block = TransformerEncoderBlock(
        num_heads=2, intermediate_dim=64, dropout=0.5, intermediate_dropout=intermediate_dropout
    )
    x = np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32")
    block.build(x.shape)
    without_dropout = block.ffn_output(block.intermediate(x))
    trained = block._feed_forward(x, training=True)
    if intermediate_dropout:
        assert not np.allclose(trained, without_dropout)
    else:
        np.testing.assert_allclose(trained, without_dropout, rtol=1e-6)
    np.testing.assert_allclose(block._feed_forward(x, training=False), without_dropout, rtol=1e-6)
    assert block.get_config()["intermediate_dropout"] is intermediate_dropout
