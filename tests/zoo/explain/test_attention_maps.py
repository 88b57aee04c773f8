"""Attention rollout: the closed form on uniform and identity attention, the attention read from
zoo's ViT against keras' own scores, and bad input."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.explain import attention_probabilities, attention_rollout, rollout


def tiny_vit(**overrides) -> keras.Model:
    keras.utils.set_random_seed(0)
    spec = zoo.get_spec("vit_tiny_32")
    return zoo.create("vit_tiny_32", **{**spec.tiny, "pooling": "token", **overrides})


def images(count=2):
    return np.random.default_rng(0).uniform(size=(count, 8, 8, 3)).astype("float32")


def test_rollout_of_uniform_attention_has_the_closed_form():
    # A = U (all 1/n): each layer is 0.5 I + 0.5 U, and (0.5 I + 0.5 U)^L = 0.5^L I + (1 - 0.5^L) U.
    n, layers = 5, 3
    uniform = np.full((1, 2, n, n), 1.0 / n)
    expected = 0.5**layers * np.eye(n) + (1 - 0.5**layers) / n
    np.testing.assert_allclose(rollout([uniform] * layers)[0], expected, atol=1e-6)


def test_rollout_of_attention_to_oneself_is_the_identity():
    identity = np.eye(4)[None, None].repeat(2, axis=1)
    np.testing.assert_allclose(rollout([identity, identity])[0], np.eye(4), atol=1e-6)


def test_rollout_fuses_heads_as_asked():
    heads = np.stack([np.eye(2), np.full((2, 2), 0.5)])[None]  # (1, 2 heads, 2, 2)
    fused_max = np.maximum(np.eye(2), 0.5)
    expected = 0.5 * fused_max + 0.5 * np.eye(2)
    expected /= expected.sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(rollout([heads], head_fusion="max")[0], expected, atol=1e-6)


def test_attention_read_from_vit_is_keras_attention_and_leaves_the_output_alone():
    model = tiny_vit(num_layers=2)
    x = images()
    before = model(x, training=False)
    found = attention_probabilities(model, x)
    np.testing.assert_array_equal(model(x, training=False), before)
    assert len(found) == 2 and found[0].shape == (2, 2, 5, 5)  # 2 heads, class token + 2x2
    np.testing.assert_allclose(found[1].sum(axis=-1), 1.0, atol=1e-5)
    backbone = model.backbone
    tokens = keras.Model(backbone.input, backbone.get_layer("add_positions").output)(x)
    block = backbone.get_layer("block_0")
    _, scores = block.attention(
        block.norm_1(tokens), block.norm_1(tokens), return_attention_scores=True
    )
    np.testing.assert_allclose(found[0], scores, atol=1e-6)


def test_uniform_attention_gives_a_flat_map():
    model = tiny_vit(num_layers=2)
    for i in range(2):
        query = model.backbone.get_layer(f"block_{i}").attention._query_dense
        query.set_weights([np.zeros_like(w) for w in query.get_weights()])
    maps = attention_rollout(model, images())
    np.testing.assert_allclose(maps, 1.0, atol=1e-6)


def test_rollout_maps_without_a_class_token_average_the_rows():
    model = tiny_vit(pooling="mean")
    x = images()
    patches = rollout(attention_probabilities(model, x)).mean(axis=1).reshape(2, 2, 2, 1)
    expected = tf.image.resize(patches, (8, 8), method="bilinear").numpy()[..., 0]
    expected /= expected.max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(attention_rollout(model, x), expected, atol=1e-6)


def test_a_model_without_multi_head_attention_is_refused():
    model = zoo.create("cnn_digits", **zoo.get_spec("cnn_digits").tiny)
    with pytest.raises(ValueError, match="no keras.layers.MultiHeadAttention"):
        attention_rollout(model, np.zeros((1, 8, 8, 1)))


def test_an_unknown_head_fusion_is_refused():
    with pytest.raises(ValueError, match="Received: head_fusion='median'"):
        rollout([np.ones((1, 1, 2, 2)) / 2], head_fusion="median")


def test_no_layers_is_refused():
    with pytest.raises(ValueError, match=r"Received: attentions=\[\]"):
        rollout([])
