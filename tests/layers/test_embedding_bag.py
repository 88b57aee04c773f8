"""EmbeddingBag: TFA's numbers and gradients (fixtures), the harness, sparse updates, bad input."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.embedding import EmbeddingBag
from layers.optimizers import LazyAdam
from tests import harness

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tfa", "embedding_bag.npz")
INDICES = np.array([[1, 4, 1], [0, 9, 2], [4, 4, 7], [3, 3, 3]], "int32")


def _cases() -> list[dict]:
    with np.load(FIXTURE) as fixture:
        count = len({key.split("/")[0] for key in fixture.files})
        return [
            {k.split("/", 1)[1]: fixture[k] for k in fixture.files if k.startswith(f"{i}/")}
            for i in range(count)
        ]


@pytest.mark.parametrize("case", _cases(), ids=lambda case: str(case["combiner"]))
def test_matches_tensorflow_addons(case):
    """TFA's table through `set_weights`: TFA's output, and the gradients of TFA's custom op."""
    layer = EmbeddingBag(*case["params"].shape, combiner=str(case["combiner"]))
    layer.build(case["indices"].shape)
    layer.set_weights([case["params"]])
    weights = tf.constant(case["weights"]) if "weights" in case else None
    with tf.GradientTape() as tape:
        if weights is not None:
            tape.watch(weights)
        output = layer(case["indices"], weights)
        loss = tf.reduce_sum(output * case["upstream"])
    sources = [layer.embeddings.value] + ([] if weights is None else [weights])
    table_grad, *weights_grad = tape.gradient(loss, sources)
    np.testing.assert_allclose(output, case["output"], atol=1e-5)
    assert isinstance(table_grad, tf.IndexedSlices)  # a gather: only the looked-up rows
    np.testing.assert_allclose(tf.convert_to_tensor(table_grad), case["params_grad"], atol=1e-5)
    if weights is not None:
        np.testing.assert_allclose(weights_grad[0], case["weights_grad"], atol=1e-5)


def test_harness():
    harness.run_layer_test(
        EmbeddingBag,
        {"input_dim": 10, "output_dim": 4, "combiner": "mean"},
        INDICES,
        expected_output_shape=(4, 4),
    )


def test_higher_rank_bags_and_weights_under_xla():
    layer = EmbeddingBag(10, 3)
    indices = INDICES.reshape(2, 2, 3)
    weights = np.linspace(-1, 1, 12, dtype="float32").reshape(2, 2, 3)
    output = tf.function(layer, jit_compile=True)(indices, weights)
    table = layer.embeddings.numpy()
    expected = np.einsum("abk,abkd->abd", weights, table[indices])
    np.testing.assert_allclose(output, expected, atol=1e-6)


def test_mask_zero_keeps_tfa_semantics():
    """TFA's `mask_zero` neither drops index 0 from its bag nor makes a mask of its own."""
    plain, masked = EmbeddingBag(10, 3), EmbeddingBag(10, 3, mask_zero=True)
    plain.build(INDICES.shape)
    masked.build(INDICES.shape)
    masked.set_weights(plain.get_weights())
    np.testing.assert_allclose(masked(INDICES), plain(INDICES))
    assert masked.supports_masking and masked.compute_mask(INDICES, None) is None


def _bag_model(optimizer) -> keras.Model:
    keras.utils.set_random_seed(0)
    indices, weights = keras.Input((3,), dtype="int32"), keras.Input((3,))
    bags = EmbeddingBag(50, 4, name="bag")(indices, weights)
    model = keras.Model([indices, weights], keras.layers.Dense(1)(bags))
    model.compile(optimizer=optimizer, loss="mse")
    return model


def test_weighted_bags_train_with_lazy_adam_touching_only_their_rows():
    model = _bag_model(LazyAdam(0.01))
    weights = np.ones(INDICES.shape, "float32") / 3
    table = model.get_layer("bag").embeddings
    before = table.numpy()
    history = model.fit([INDICES, weights], np.ones((4, 1), "float32"), epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    touched = np.unique(INDICES)
    untouched = np.setdiff1d(np.arange(50), touched)
    np.testing.assert_array_equal(table.numpy()[untouched], before[untouched])
    assert np.all(np.abs(table.numpy()[touched] - before[touched]).max(axis=1) > 0)
    momentum = model.optimizer._momentums[0].numpy()
    assert np.all(momentum[untouched] == 0) and np.all(momentum[touched] != 0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"input_dim": 0, "output_dim": 3}, "input_dim=0"),
        ({"input_dim": 5, "output_dim": -1}, "output_dim=-1"),
        ({"input_dim": 5, "output_dim": 3, "combiner": "max"}, "combiner='max'"),
        ({"input_dim": 5, "output_dim": 3, "mask_zero": 1}, "mask_zero=1"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        EmbeddingBag(**kwargs)


def test_bad_calls():
    with pytest.raises(ValueError, match="combiner='mean'"):
        EmbeddingBag(5, 3, combiner="mean")(INDICES % 5, np.ones(INDICES.shape, "float32"))
    with pytest.raises(ValueError, match=r"indices.shape=\(3,\)"):
        EmbeddingBag(5, 3)(np.array([0, 1, 2]))
