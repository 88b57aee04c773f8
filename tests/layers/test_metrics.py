"""Calibration and mixed-label accuracy metrics against NumPy references, and inside
compile/fit/evaluate."""

import keras
import numpy as np
import pytest

from layers.losses import SparseLabelSmoothingCrossentropy
from layers.metrics import (
    BrierScore,
    ExpectedCalibrationError,
    MixedLabelAccuracy,
    NegativeLogLikelihood,
    mixed_label_accuracy,
)
from tests import harness

RNG = np.random.default_rng(0)
NUM_CLASSES = 4


def random_batch(n, rng=RNG, sharpness=3.0):
    logits = (sharpness * rng.normal(size=(n, NUM_CLASSES))).astype("float32")
    labels = rng.integers(0, NUM_CLASSES, size=n)
    return labels, logits


def softmax(logits):
    z = np.exp(logits - logits.max(-1, keepdims=True))
    return z / z.sum(-1, keepdims=True)


def numpy_ece(labels, probs, num_bins, weights=None):
    """Guo et al.'s ECE: sum over bins (lo, hi] of |B|/n * |acc(B) - conf(B)|."""
    weights = np.ones(len(labels)) if weights is None else np.asarray(weights, float)
    confidence = probs.max(-1).astype("float64")
    correct = (probs.argmax(-1) == labels).astype("float64")
    edges = np.linspace(0.0, 1.0, num_bins + 1)
    total = 0.0
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        in_bin = (confidence > lo) & (confidence <= hi) | ((i == 0) & (confidence == 0))
        w = weights[in_bin]
        if w.sum() > 0:
            accuracy = np.sum(w * correct[in_bin]) / w.sum()
            mean_confidence = np.sum(w * confidence[in_bin]) / w.sum()
            total += w.sum() / weights.sum() * abs(accuracy - mean_confidence)
    return total


def numpy_brier(labels, probs, weights=None):
    one_hot = np.eye(probs.shape[-1])[labels]
    return np.average(np.sum((probs - one_hot) ** 2, -1), weights=weights)


def numpy_nll(labels, probs, weights=None):
    return np.average(
        -np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-7, 1)), weights=weights
    )


REFERENCES = {
    ExpectedCalibrationError: lambda y, p, w=None: numpy_ece(y, p, 15, w),
    BrierScore: numpy_brier,
    NegativeLogLikelihood: numpy_nll,
}


@pytest.mark.parametrize("cls", list(REFERENCES), ids=lambda c: c.__name__)
@pytest.mark.parametrize("from_logits", [False, True])
def test_accumulates_over_batches_like_numpy(cls, from_logits):
    metric = cls(from_logits=from_logits)
    batches = [random_batch(n) for n in (7, 20, 13)]
    for labels, logits in batches:
        metric.update_state(labels, logits if from_logits else softmax(logits))
    labels = np.concatenate([b[0] for b in batches])
    probs = softmax(np.concatenate([b[1] for b in batches]).astype("float64"))
    np.testing.assert_allclose(float(metric.result()), REFERENCES[cls](labels, probs), rtol=1e-5)

    metric.reset_state()
    labels, logits = batches[0]
    metric.update_state(labels, logits if from_logits else softmax(logits))
    np.testing.assert_allclose(
        float(metric.result()),
        REFERENCES[cls](labels, softmax(logits.astype("float64"))),
        rtol=1e-5,
    )


@pytest.mark.parametrize("cls", list(REFERENCES), ids=lambda c: c.__name__)
def test_one_hot_labels_and_sample_weights(cls):
    labels, logits = random_batch(30)
    probs = softmax(logits)
    weights = RNG.uniform(0.1, 2.0, size=30)
    metric = cls()
    metric.update_state(np.eye(NUM_CLASSES)[labels[:12]], probs[:12], weights[:12])
    metric.update_state(np.eye(NUM_CLASSES)[labels[12:]], probs[12:], weights[12:, None])
    expected = REFERENCES[cls](labels, probs.astype("float64"), weights)
    np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-5)


def test_ece_bins_are_open_below_and_closed_above():
    # Two bins, (0, 0.5] and (0.5, 1]: a confidence of exactly 0.5 belongs to the first.
    metric = ExpectedCalibrationError(num_bins=2)
    probs = np.array([[0.5, 0.5], [0.5, 0.5], [0.75, 0.25], [0.25, 0.75]], "float32")
    labels = np.array([0, 0, 1, 1])
    metric.update_state(labels, probs)
    # Bin 1: two predictions of class 0 at confidence 0.5, both right: gap |1 - 0.5| = 0.5.
    # Bin 2: confidences 0.75, one right: gap |0.5 - 0.75| = 0.25. ECE = 0.5 * 0.5 + 0.5 * 0.25.
    np.testing.assert_allclose(float(metric.result()), 0.375, rtol=1e-6)
    np.testing.assert_allclose(numpy_ece(labels, probs, 2), 0.375)


def test_hand_computed_values():
    brier = BrierScore()
    brier.update_state([0, 1], [[0.9, 0.1], [0.4, 0.6]])
    np.testing.assert_allclose(float(brier.result()), 0.17, rtol=1e-6)
    nll = NegativeLogLikelihood()
    nll.update_state([0, 1], [[0.9, 0.1], [0.4, 0.6]])
    np.testing.assert_allclose(float(nll.result()), -(np.log(0.9) + np.log(0.6)) / 2, rtol=1e-6)
    perfect = ExpectedCalibrationError()
    perfect.update_state([0, 1], [[1.0, 0.0], [0.0, 1.0]])
    assert float(perfect.result()) == 0.0


@pytest.mark.parametrize("cls", list(REFERENCES), ids=lambda c: c.__name__)
def test_binary_single_column(cls):
    # One probability column p means the two-class distribution [1 - p, p].
    p = RNG.uniform(0.05, 0.95, size=(25, 1)).astype("float32")
    labels = RNG.integers(0, 2, size=25)
    metric = cls()
    metric.update_state(labels[:, None], p)
    two_class = np.concatenate([1 - p, p], axis=-1).astype("float64")
    np.testing.assert_allclose(
        float(metric.result()), REFERENCES[cls](labels, two_class), rtol=1e-4
    )


@pytest.mark.parametrize("cls", list(REFERENCES), ids=lambda c: c.__name__)
def test_float16_predictions(cls):
    labels, logits = random_batch(40)
    probs = softmax(logits)
    metric = cls()
    metric.update_state(labels, probs.astype("float16"))
    reference = REFERENCES[cls](labels, probs.astype("float16").astype("float64"))
    np.testing.assert_allclose(float(metric.result()), reference, rtol=1e-3, atol=1e-4)


def classifier(jit: bool = False) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(NUM_CLASSES, activation="softmax"),
        ]
    )
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=[ExpectedCalibrationError(num_bins=10), BrierScore(), NegativeLogLikelihood()],
        jit_compile=jit,
    )
    return model


def test_compile_fit_evaluate_and_save(tmp_path):
    x = RNG.normal(size=(48, 5)).astype("float32")
    y = RNG.integers(0, NUM_CLASSES, size=48)
    model = classifier()
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert {"ece", "brier", "nll"} <= set(history.history)
    results = model.evaluate(x, y, batch_size=10, verbose=0, return_dict=True)
    probs = model.predict(x, verbose=0).astype("float64")
    np.testing.assert_allclose(results["ece"], numpy_ece(y, probs, 10), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(results["brier"], numpy_brier(y, probs), rtol=1e-4)
    np.testing.assert_allclose(results["nll"], numpy_nll(y, probs), rtol=1e-4)
    np.testing.assert_allclose(results["nll"], results["loss"], rtol=1e-4)

    path = str(tmp_path / "metrics.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    reloaded = loaded.evaluate(x, y, batch_size=10, verbose=0, return_dict=True)
    for name in ("ece", "brier", "nll"):
        np.testing.assert_allclose(reloaded[name], results[name], rtol=1e-5)


def test_xla_evaluate():
    x = RNG.normal(size=(30, 5)).astype("float32")
    y = RNG.integers(0, NUM_CLASSES, size=30)
    model = classifier(jit=True)
    results = model.evaluate(x, y, batch_size=10, verbose=0, return_dict=True)
    probs = model.predict(x, verbose=0).astype("float64")
    np.testing.assert_allclose(results["ece"], numpy_ece(y, probs, 10), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(results["brier"], numpy_brier(y, probs), rtol=1e-4)


def test_every_metric_in_an_xla_training_step_matches_the_plain_step():
    """The users' XLA path: `compile(jit_compile=True)`; the metrics' variables are built
    inside the compiled step. The logged values equal the plain run's."""
    x = RNG.normal(size=(48, 5)).astype("float32")
    y = RNG.integers(0, NUM_CLASSES, size=48)

    def fit(jit):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(NUM_CLASSES, "softmax")])
        metrics = [
            ExpectedCalibrationError(num_bins=10),
            BrierScore(),
            NegativeLogLikelihood(),
            MixedLabelAccuracy(),
        ]
        model.compile("adam", "sparse_categorical_crossentropy", metrics=metrics, jit_compile=jit)
        return model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False).history

    plain, compiled = fit(jit=False), fit(jit=True)
    assert {"ece", "brier", "nll", "accuracy"} <= set(plain)
    for name, values in plain.items():
        np.testing.assert_allclose(compiled[name], values, rtol=1e-4, atol=1e-6, err_msg=name)


def test_mirrored_strategy_evaluate():
    x = RNG.normal(size=(32, 5)).astype("float32")
    y = RNG.integers(0, NUM_CLASSES, size=32)

    def evaluate(strategy):
        model = classifier()
        return model, model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)

    model, results = harness.run_in_mirrored_strategy(evaluate)
    probs = model.predict(x, verbose=0).astype("float64")
    np.testing.assert_allclose(results["ece"], numpy_ece(y, probs, 10), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(results["brier"], numpy_brier(y, probs), rtol=1e-4)


@pytest.mark.parametrize(
    "metric",
    [
        ExpectedCalibrationError(num_bins=7, from_logits=True, name="cal"),
        BrierScore(True),
        NegativeLogLikelihood(name="x"),
    ],
    ids=lambda m: type(m).__name__,
)
def test_config_round_trip(metric):
    harness.assert_registered(type(metric))
    config = harness.assert_config_covers_signature(metric)
    restored = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert type(restored) is type(metric)
    assert restored.get_config() == config


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"Received: num_bins=0"):
        ExpectedCalibrationError(num_bins=0)
    with pytest.raises(TypeError, match=r"Received: from_logits='yes'"):
        BrierScore(from_logits="yes")
    with pytest.raises(TypeError, match=r"Received: from_logits=1"):
        NegativeLogLikelihood(from_logits=1)


# --------------------------------------------------------------------------------------------
# MixedLabelAccuracy: class ids or the mixed probability labels of MixUp/CutMix.
# --------------------------------------------------------------------------------------------


def test_mixed_label_accuracy_by_hand():
    labels, logits = random_batch(6, rng=np.random.default_rng(1))
    # Mixed labels whose largest weight is on `labels`: 0.6 on it, 0.4 on the next class.
    mixed = 0.6 * np.eye(NUM_CLASSES)[labels] + 0.4 * np.eye(NUM_CLASSES)[(labels + 1) % 4]
    metric = MixedLabelAccuracy()
    metric.update_state(mixed.astype("float32"), logits)
    expected = np.mean(logits.argmax(-1) == labels)
    np.testing.assert_allclose(float(metric.result()), expected)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(mixed_label_accuracy(mixed, logits)),
        (logits.argmax(-1) == labels).astype("float32"),
    )
    for shape in ((6,), (6, 1)):
        metric = MixedLabelAccuracy()
        metric.update_state(labels.reshape(shape), logits)
        sparse = keras.metrics.SparseCategoricalAccuracy()
        sparse.update_state(labels, logits)
        np.testing.assert_allclose(float(metric.result()), float(sparse.result()))
    harness.assert_config_round_trip(MixedLabelAccuracy(name="acc"), {"name": "acc"})
    with pytest.raises(ValueError, match=r"labels of shape \(6, 3\)"):
        MixedLabelAccuracy().update_state(mixed[:, :3], logits)


def test_mixed_label_accuracy_in_fit_under_mirrored_strategy():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(8, 3)).astype("float32")
    labels = np.eye(4, dtype="float32")[np.arange(8) % 4]

    def fit(strategy):
        with strategy.scope():
            model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)])
            model.compile(
                "sgd",
                SparseLabelSmoothingCrossentropy(0.1),
                metrics=[MixedLabelAccuracy()],
            )
        logs = model.fit(x, labels, batch_size=4, epochs=1, verbose=0).history
        evaluated = model.evaluate(x, np.arange(8) % 4, batch_size=4, verbose=0)
        return logs, evaluated

    logs, evaluated = harness.run_in_mirrored_strategy(fit)
    assert 0.0 <= logs["accuracy"][0] <= 1.0 and np.isfinite(evaluated).all()


def test_mixed_label_accuracy_saved_before_the_move_still_loads():
    # What `serialize_keras_object` wrote when the class lived in zoo/vision/task.py.
    saved = {
        "module": "zoo.vision.task",
        "class_name": "MixedLabelAccuracy",
        "config": {"name": "acc", "dtype": "float32"},
        "registered_name": "keras_zoo>MixedLabelAccuracy",
    }
    for module in ("zoo.vision.task", "no_such_module"):
        metric = keras.saving.deserialize_keras_object({**saved, "module": module})
        assert type(metric) is MixedLabelAccuracy and metric.name == "acc"
