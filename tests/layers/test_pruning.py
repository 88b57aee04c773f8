"""Magnitude pruning: masks, the Zhu-Gupta schedule, the wrapper, the callback, strip and export."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from layers.pruning import (
    PolynomialSparsity,
    PruneLowMagnitude,
    PruningCallback,
    magnitude_mask,
    prune_low_magnitude,
    sparsity,
    strip_pruning,
)
from serving.tflite import to_tflite
from tests import harness
from zoo.datasets import load_digits

RNG = np.random.default_rng(0)


def test_magnitude_mask_zeroes_smallest_and_only_grows():
    weights = np.array([[0.5, -0.1], [0.05, -2.0]])
    np.testing.assert_array_equal(magnitude_mask(weights, 0.5), [[1, 0], [0, 1]])
    # An already-pruned large weight stays pruned.
    np.testing.assert_array_equal(
        magnitude_mask(weights, 0.5, mask=np.array([[1, 1], [1, 0]])), [[1, 1], [0, 0]]
    )


def test_polynomial_schedule_matches_zhu_and_gupta():
    schedule = PolynomialSparsity(begin_step=100, end_step=300, initial_sparsity=0.1, frequency=50)
    # s_t = s_f + (s_i - s_f) (1 - (t - t0) / (n dt))^3
    assert schedule(50, 0.9) == pytest.approx(0.1)
    assert schedule(200, 0.9) == pytest.approx(0.9 + (0.1 - 0.9) * 0.5**3)
    assert schedule(1000, 0.9) == pytest.approx(0.9)
    assert [t for t in range(400) if schedule.should_update(t)] == [100, 150, 200, 250, 300]
    with pytest.raises(ValueError, match="end_step=10"):
        PolynomialSparsity(begin_step=20, end_step=10)


def test_wrapper_harness():
    harness.run_layer_test(
        PruneLowMagnitude,
        # A serialized inner layer, so each harness instance (and strategy scope) gets its own.
        {
            "layer": keras.saving.serialize_keras_object(keras.layers.Dense(4)),
            "target_sparsity": 0.5,
        },
        RNG.normal(size=(4, 6)).astype("float32"),
        # The serialized Dense names its float32 policy, so it stays float32.
        expected_mixed_dtype=None,
    )


def test_wrapper_errors():
    with pytest.raises(TypeError, match="layer="):
        PruneLowMagnitude(keras.layers.LayerNormalization(), 0.5)
    with pytest.raises(ValueError, match="target_sparsity=1.0"):
        PruneLowMagnitude(keras.layers.Dense(2), 1.0)


def small_pruned_model():
    inputs = keras.Input((6,))
    x = keras.layers.Dense(8, activation="relu")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(x))
    pruned = prune_low_magnitude(model, 0.75, PolynomialSparsity(0, 10, frequency=2))
    pruned.compile(keras.optimizers.AdamW(0.01), "mse")
    return pruned


def test_callback_harness_reaches_sparsity():
    model, _, _ = harness.run_callback_test(PruningCallback, model_fn=small_pruned_model, epochs=3)
    for value in sparsity(model).values():
        assert value == pytest.approx(0.75, abs=0.02)


def test_pruned_digits_cnn_keeps_sparsity_through_fine_tuning_and_export():
    keras.utils.set_random_seed(0)
    digits = load_digits(dtype="float32")
    x, y = digits.train.x[:512], digits.train.y[:512]
    model = zoo.create("cnn_digits", filters=(8, 16))
    pruned = prune_low_magnitude(model, 0.8, PolynomialSparsity(0, 32, frequency=8))
    pruned.compile(
        keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    pruned.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[PruningCallback()])
    reached = sparsity(pruned)
    assert all(value == pytest.approx(0.8, abs=0.01) for value in reached.values()), reached
    # Fine-tuning past end_step keeps the masks.
    pruned.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[PruningCallback()])
    assert sparsity(pruned) == reached
    with harness.temporary_path("pruned.keras") as path:
        pruned.save(path)
        assert sparsity(keras.saving.load_model(path)) == reached
    stripped = strip_pruning(pruned)
    assert not any(isinstance(layer, PruneLowMagnitude) for layer in stripped.layers)
    assert sparsity(stripped) == reached
    np.testing.assert_allclose(stripped.predict(x[:8], verbose=0), pruned.predict(x[:8], verbose=0))
    # The exported float TFLite kernels hold the same zeros.
    interpreter = tf.lite.Interpreter(model_content=to_tflite(stripped))
    interpreter.allocate_tensors()
    kernel_zeros = []
    for detail in interpreter.get_tensor_details():
        if "conv_1" in detail["name"] and len(detail["shape"]) == 4 and detail["shape"][0] == 16:
            try:
                kernel_zeros.append(np.mean(interpreter.get_tensor(detail["index"]) == 0))
            except ValueError:
                continue
    assert kernel_zeros and kernel_zeros[0] == pytest.approx(reached["conv_1"], abs=0.01)
