"""FusedMultiHeadAttention: the same numbers as keras' MultiHeadAttention, one q/k/v matmul."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.attention import FusedMultiHeadAttention
from tests import harness

RNG = np.random.default_rng(0)


@keras.saving.register_keras_serializable(package="keras_zoo")
class FusedSelfAttentionForTests(FusedMultiHeadAttention):
    """Takes one input, as the harness calls layers, and attends it to itself."""

    def build(self, query_shape):
        super().build(query_shape, query_shape)

    def call(self, query, training=None):
        return super().call(query, query, training=training)

    def compute_output_spec(self, query, training=None):
        return super().compute_output_spec(query, query)


def paired(num_heads=2, key_dim=3, features=6, **kwargs):
    """A keras MultiHeadAttention and a FusedMultiHeadAttention with the same weights."""
    x = tf.zeros((1, 4, features))
    reference = keras.layers.MultiHeadAttention(num_heads, key_dim, **kwargs)
    fused = FusedMultiHeadAttention(num_heads, key_dim, **kwargs)
    reference(x, x)
    fused(x, x)
    fused.set_weights([RNG.normal(size=w.shape).astype("float32") for w in fused.weights])
    reference.set_weights(fused.get_weights())
    return reference, fused


def padding_mask(batch, length):
    lengths = np.linspace(1, length, batch).astype(int)
    return tf.constant(np.arange(length)[None, :] < lengths[:, None])


def fused_calls(layer, x, **kwargs):
    """How many times `layer(x, x)` took the fused path."""
    calls = []
    original = layer._self_attention
    layer._self_attention = lambda *a: (calls.append(1), original(*a))[1]
    try:
        layer(x, x, **kwargs)
    finally:
        del layer._self_attention
    return len(calls)


@pytest.mark.parametrize("mask_shape", [None, "keys", "full"])
def test_matches_multi_head_attention(mask_shape):
    reference, fused = paired(num_heads=3, key_dim=4, features=10)
    x = tf.constant(RNG.normal(size=(4, 7, 10)).astype("float32"))
    mask = None
    if mask_shape is not None:
        mask = padding_mask(4, 7)[:, None, :]
        if mask_shape == "full":
            mask = tf.repeat(mask, 7, axis=1)
    assert fused_calls(fused, x, attention_mask=mask) == 1
    with tf.GradientTape(persistent=True) as tape:
        expected = reference(x, x, attention_mask=mask)
        got = fused(x, x, attention_mask=mask)
        expected_loss = tf.reduce_sum(expected**2)
        got_loss = tf.reduce_sum(got**2)
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-5)
    expected_grads = tape.gradient(expected_loss, reference.trainable_weights)
    got_grads = tape.gradient(got_loss, fused.trainable_weights)
    # The key bias's true gradient is 0 (softmax ignores a constant shift of the logits): its
    # computed value is rounding noise, so tolerances are relative to the largest gradient.
    scale = max(float(np.abs(e).max()) for e in expected_grads)
    for g, e in zip(got_grads, expected_grads, strict=True):
        np.testing.assert_allclose(g, e, atol=1e-5 * scale)


def test_without_bias_matches():
    reference, fused = paired(use_bias=False)
    x = tf.constant(RNG.normal(size=(2, 5, 6)).astype("float32"))
    np.testing.assert_allclose(fused(x, x), reference(x, x), atol=1e-5, rtol=1e-5)


def test_other_uses_fall_back_to_multi_head_attention():
    reference, fused = paired()
    x = tf.constant(RNG.normal(size=(2, 5, 6)).astype("float32"))
    memory = tf.constant(RNG.normal(size=(2, 3, 6)).astype("float32"))
    np.testing.assert_allclose(fused(x, memory), reference(x, memory), atol=1e-6)
    np.testing.assert_allclose(
        fused(x, x, use_causal_mask=True), reference(x, x, use_causal_mask=True), atol=1e-6
    )
    out, scores = fused(x, x, return_attention_scores=True)
    expected_out, expected_scores = reference(x, x, return_attention_scores=True)
    np.testing.assert_allclose(out, expected_out, atol=1e-6)
    np.testing.assert_allclose(scores, expected_scores, atol=1e-6)
    assert fused_calls(fused, x, use_causal_mask=True) == 0


def test_same_weights_as_multi_head_attention():
    reference, fused = paired()
    assert [w.path.split("/", 1)[1] for w in fused.weights] == [
        w.path.split("/", 1)[1] for w in reference.weights
    ]


def test_dropout_applies_in_training_only():
    _, fused = paired(dropout=0.5)
    x = tf.constant(RNG.normal(size=(2, 5, 6)).astype("float32"))
    np.testing.assert_allclose(fused(x, x), fused(x, x), atol=0)
    assert not np.allclose(fused(x, x, training=True), fused(x, x))


def test_harness():
    x = RNG.normal(size=(2, 5, 6)).astype("float32")
    harness.run_layer_test(
        FusedSelfAttentionForTests,
        {"num_heads": 2, "key_dim": 3},
        x,
        expected_output_shape=x.shape,
        atol=1e-4,
    )
