"""LazyAdam: TensorFlow Addons' numbers, rows a batch does not touch stay, XLA, fit."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.optimizers import LazyAdam
from layers.optimizers.lazy_adam import merge_duplicate_rows
from tests import harness

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tfa", "lazy_adam.npz")


def test_shared_checks():
    harness.run_optimizer_test(LazyAdam, {"learning_rate": 0.01})


def _apply_steps(jit_compile: bool):
    want = np.load(FIXTURE)
    table, dense = keras.Variable(want["table0"]), keras.Variable(want["dense0"])
    optimizer = LazyAdam(learning_rate=0.01)
    optimizer.build([table, dense])

    def apply(values, indices, dense_grad):
        sparse = tf.IndexedSlices(values, indices, tf.constant([10, 3]))
        optimizer.apply([sparse, dense_grad], [table, dense])

    step = tf.function(apply, jit_compile=True) if jit_compile else apply
    for i in range(3):
        step(want[f"values{i}"], want[f"indices{i}"], want[f"dense_grad{i}"])
        np.testing.assert_allclose(table.numpy(), want[f"table{i + 1}"], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(dense.numpy(), want[f"dense{i + 1}"], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_matches_tensorflow_addons_lazy_adam(jit_compile):
    """Three steps of sparse (rows repeated within a step) and dense gradients, as TFA 0.23."""
    _apply_steps(jit_compile)


def test_merge_duplicate_rows_sums_repeats_with_static_shapes():
    gradient = tf.IndexedSlices(tf.constant([[1.0], [2.0], [4.0]]), tf.constant([5, 2, 5]))
    rows, values, valid = merge_duplicate_rows(gradient)
    np.testing.assert_array_equal(rows, [2, 5, 0])
    np.testing.assert_allclose(values, [[2.0], [5.0], [0.0]])
    np.testing.assert_array_equal(valid, [True, True, False])


def _embedding_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((2,), dtype="int32"), keras.layers.Embedding(50, 4), keras.layers.Dense(1)]
    )
    model.compile(optimizer=LazyAdam(0.01), loss="mse")
    return model


@pytest.mark.parametrize("distributed", [False, True])
def test_rows_outside_the_batch_keep_values_and_moments_in_fit(distributed):
    if distributed:  # two replicas on the two logical CPU devices
        model = harness.run_in_mirrored_strategy(lambda strategy: _embedding_model())
    else:
        model = _embedding_model()
    assert model.distribute_strategy.num_replicas_in_sync == (2 if distributed else 1)
    x = np.array([[1, 2], [3, 1]] * 4, "int32")
    y = np.ones((8, 1), "float32")
    before = model.layers[0].embeddings.numpy()
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    after = model.layers[0].embeddings.numpy()
    untouched = np.setdiff1d(np.arange(50), [1, 2, 3])
    np.testing.assert_array_equal(after[untouched], before[untouched])
    assert not np.allclose(after[[1, 2, 3]], before[[1, 2, 3]])
    momentum = model.optimizer._momentums[0].numpy()
    assert np.all(momentum[untouched] == 0) and np.all(momentum[[1, 2, 3]] != 0)


def test_no_amsgrad():
    with pytest.raises(ValueError, match="Received: amsgrad=True"):
        LazyAdam(amsgrad=True)
