"""TensorFlow Addons' metrics (`layers.metrics`) in `compile`: `fit` and `evaluate` give the
statistic over the whole dataset, an XLA training step logs what the plain one does, a
`MirroredStrategy` merges the replicas' state, and a `.keras` file keeps them.

Values, references and bad input: `test_tfa_metrics.py`.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats
from sklearn import metrics as sk

from layers.metrics import (
    CohenKappa,
    F1Score,
    FBetaScore,
    GeometricMean,
    HammingLoss,
    HarmonicMean,
    KendallsTauB,
    KendallsTauC,
    MatthewsCorrelationCoefficient,
    MeanMetricWrapper,
    MultiLabelConfusionMatrix,
    PearsonsCorrelation,
    RSquare,
    SpearmansRank,
    hamming_loss_fn,
)
from tests import harness

RNG = np.random.default_rng(3)
CLASSES = 4
X = RNG.normal(size=(48, 5)).astype("float32")
LABELS = RNG.integers(0, CLASSES, 48)
ONE_HOT = np.eye(CLASSES, dtype="float32")[LABELS]
TARGETS = (1 / (1 + np.exp(-X[:, 0] - 0.5 * X[:, 1]))).astype("float32")[:, None]


def classification_metrics():
    return [
        CohenKappa(CLASSES, weightage="quadratic", name="kappa"),
        MatthewsCorrelationCoefficient(CLASSES, name="mcc"),
        HammingLoss("multiclass", name="hamming"),
        MeanMetricWrapper(hamming_loss_fn, name="wrapped", mode="multiclass", threshold=None),
        MultiLabelConfusionMatrix(CLASSES, name="mlcm"),
        F1Score(CLASSES, average="macro", name="f1"),
        FBetaScore(CLASSES, beta=2.0, name="fbeta"),
    ]


def regression_metrics():
    return [
        KendallsTauB(name="tau_b"),
        KendallsTauC(name="tau_c"),
        SpearmansRank(name="spearman"),
        PearsonsCorrelation(name="pearson"),
        RSquare(name="r2"),
        RSquare(num_regressors=2, name="adjusted_r2"),
    ]


def two_headed_model(jit=False):
    """One model, two heads: class probabilities and a score in (0, 1), each with its metrics."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((5,))
    outputs = {
        "classes": keras.layers.Dense(CLASSES, "softmax", name="classes")(inputs),
        "score": keras.layers.Dense(1, "sigmoid", name="score")(inputs),
    }
    model = keras.Model(inputs, outputs)
    model.compile(
        "adam",
        {"classes": "categorical_crossentropy", "score": "mse"},
        metrics={"classes": classification_metrics(), "score": regression_metrics()},
        jit_compile=jit,
    )
    return model


Y = {"classes": ONE_HOT, "score": TARGETS}


@pytest.fixture(scope="module")
def fitted():
    """The plain (no XLA) model after two epochs of `fit`, and its history."""
    model = two_headed_model()
    history = model.fit(X, Y, batch_size=16, epochs=2, verbose=0, shuffle=False).history
    return model, history


def _by_metric(results):
    """`{"classes_kappa": v, ...}` -> `{"kappa": v, ...}` (the two heads' names differ)."""
    return {k.split("_", 1)[1]: v for k, v in results.items() if "_" in k and "loss" not in k}


def test_every_tfa_metric_in_an_xla_training_step_matches_the_plain_step(fitted):
    """The users' XLA path: `compile(jit_compile=True)`, the metrics' state built inside the
    compiled step. CohenKappa, MatthewsCorrelationCoefficient, HammingLoss, MeanMetricWrapper,
    MultiLabelConfusionMatrix, F1Score, FBetaScore, KendallsTauB, KendallsTauC, SpearmansRank,
    PearsonsCorrelation and RSquare log the plain run's values; GeometricMean and HarmonicMean
    (not `compile` metrics: they take values) update inside an XLA function as they do
    eagerly."""
    plain = fitted[1]
    compiled = two_headed_model(jit=True)
    compiled = compiled.fit(X, Y, batch_size=16, epochs=2, verbose=0, shuffle=False).history
    assert len(_by_metric(plain)) == 13, sorted(plain)
    for name, values in plain.items():
        np.testing.assert_allclose(
            np.asarray(compiled[name]), np.asarray(values), rtol=1e-4, atol=1e-5, err_msg=name
        )

    values = RNG.uniform(0.5, 3.0, (3, 8)).astype("float32")
    weights = RNG.uniform(0.5, 2.0, (3, 8)).astype("float32")
    for cls in (GeometricMean, HarmonicMean):
        eager, compiled = cls(), cls()
        update = tf.function(
            lambda v, w, metric=compiled: metric.update_state(v, w), jit_compile=True
        )
        for v, w in zip(values, weights, strict=True):
            eager.update_state(v, w)
            update(v, w)
        np.testing.assert_allclose(float(compiled.result()), float(eager.result()), rtol=1e-6)


def _assert_classification_results(results, probs):
    predicted = probs.argmax(-1)
    np.testing.assert_allclose(
        results["kappa"], sk.cohen_kappa_score(LABELS, predicted, weights="quadratic"), rtol=1e-4
    )
    np.testing.assert_allclose(results["mcc"], sk.matthews_corrcoef(LABELS, predicted), rtol=1e-4)
    np.testing.assert_allclose(results["hamming"], np.mean(predicted != LABELS), rtol=1e-5)
    np.testing.assert_allclose(results["wrapped"], results["hamming"], rtol=1e-6)
    np.testing.assert_allclose(
        results["f1"], sk.f1_score(LABELS, predicted, average="macro"), rtol=1e-4
    )
    np.testing.assert_allclose(
        results["fbeta"], sk.fbeta_score(LABELS, predicted, beta=2.0, average=None), rtol=1e-4
    )


def _assert_regression_results(results, predictions):
    x, y = TARGETS[:, 0], predictions[:, 0]
    # Continuous values on the default 100-bin grid: within a bin width of SciPy's numbers.
    np.testing.assert_allclose(results["tau_b"], stats.kendalltau(x, y).statistic, atol=0.05)
    np.testing.assert_allclose(results["spearman"], stats.spearmanr(x, y).statistic, atol=0.05)
    np.testing.assert_allclose(results["pearson"], stats.pearsonr(x, y).statistic, atol=0.05)
    r2 = sk.r2_score(x, y)
    np.testing.assert_allclose(results["r2"], r2, rtol=1e-4)
    np.testing.assert_allclose(results["adjusted_r2"], 1 - (1 - r2) * 47 / 45, rtol=1e-4)


def test_evaluate_gives_the_statistic_over_the_whole_dataset_and_survives_keras_files(
    fitted, tmp_path
):
    model = fitted[0]
    results = model.evaluate(X, Y, batch_size=10, verbose=0, return_dict=True)
    outputs = model.predict(X, verbose=0)
    _assert_classification_results(_by_metric(results), outputs["classes"])
    _assert_regression_results(_by_metric(results), outputs["score"])
    path = str(tmp_path / "tfa_metrics.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    reloaded = loaded.evaluate(X, Y, batch_size=10, verbose=0, return_dict=True)
    for name, value in results.items():
        np.testing.assert_allclose(reloaded[name], value, rtol=1e-5, err_msg=name)

    results, predictions = _by_metric(results), outputs["score"]
    # The whole-dataset histogram: the value a single update over all 48 pairs gives.
    names = ("tau_b", "tau_c", "spearman", "pearson", "r2", "adjusted_r2")
    for metric, name in zip(regression_metrics(), names, strict=True):
        metric.update_state(TARGETS, predictions)
        np.testing.assert_allclose(results[name], float(metric.result()), rtol=1e-5, err_msg=name)


def test_mirrored_strategy_merges_the_replicas_state():
    """Two replicas, each seeing half of every batch: the results must be over all the data
    (one replica's share would give other numbers)."""

    def evaluate(strategy):
        assert strategy.num_replicas_in_sync == 2
        model = two_headed_model()
        return model.evaluate(X, Y, batch_size=8, verbose=0, return_dict=True), model.predict(
            X, verbose=0
        )

    results, outputs = harness.run_in_mirrored_strategy(evaluate)
    results, predictions = _by_metric(results), outputs["score"]
    _assert_classification_results(results, outputs["classes"])
    matrix = np.asarray(results["mlcm"])
    assert matrix.sum() == 48 * CLASSES, matrix  # every example counted once per label
    _assert_regression_results(results, predictions)
    names = ("tau_b", "tau_c", "spearman", "pearson")
    for metric, name in zip(regression_metrics()[:4], names, strict=True):
        metric.update_state(TARGETS, predictions)
        np.testing.assert_allclose(results[name], float(metric.result()), rtol=1e-5, err_msg=name)


def test_geometric_and_harmonic_means_merge_the_replicas_state():
    """Not `compile` metrics (they take values): updated per replica with `strategy.run`."""
    values = RNG.uniform(0.5, 3.0, 32).astype("float32")
    weights = RNG.uniform(0.5, 2.0, 32).astype("float32")

    def stream(strategy):
        metrics = [GeometricMean(), HarmonicMean()]
        data = tf.data.Dataset.from_tensor_slices((values, weights)).batch(8)

        @tf.function
        def step(v, w):
            for metric in metrics:
                metric.update_state(v, w)

        for batch in strategy.experimental_distribute_dataset(data):
            strategy.run(step, args=batch)
        return [float(metric.result()) for metric in metrics]

    geometric, harmonic = harness.run_in_mirrored_strategy(stream)
    v, w = values.astype("float64"), weights.astype("float64")
    np.testing.assert_allclose(geometric, np.exp(np.sum(w * np.log(v)) / w.sum()), rtol=1e-5)
    np.testing.assert_allclose(harmonic, w.sum() / np.sum(w / v), rtol=1e-5)
