"""TensorFlow Addons' metrics on Keras 3 (`layers.metrics`): TFA's own numbers replayed from
`tests/fixtures/tfa/metrics.npz` (three batches streamed, sample weights where TFA takes them),
TFA's docstring values, scikit-learn / SciPy references, configs and bad input.

`test_tfa_metrics_training.py` runs them in `fit` / `evaluate`, under XLA and `MirroredStrategy`.
"""

import os
import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats
from sklearn import metrics as sk

from layers.metrics import (
    CohenKappa,
    CorrelationBase,
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
    hamming_distance,
    hamming_loss_fn,
)
from tests import harness

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tfa", "metrics.npz")
TFA = np.load(FIXTURE)
CASES = sorted({key.split("/")[0] for key in TFA.files})
WEIGHTAGES = {"none": None, "linear": "linear", "quadratic": "quadratic"}
GRIDS = {
    "grid0": {},
    "grid1": dict(
        actual_min=-2.0,
        actual_max=3.0,
        preds_min=0.0,
        preds_max=10.0,
        actual_cutpoints=20,
        preds_cutpoints=31,
    ),
}
CORRELATIONS = {
    "kendall_b": KendallsTauB,
    "kendall_c": KendallsTauC,
    "spearman": SpearmansRank,
    "pearson": PearsonsCorrelation,
}
RSQUARE_OUTPUTS = ("raw_values", "uniform_average", "variance_weighted")


def _threshold(text):
    return None if text == "None" else float(text)


def metric_for(case: str):
    """Our metric for a fixture case, built as `make_metrics_fixtures.py` built TFA's."""
    parts = case.split("_")
    kind = parts[0]
    if kind == "kappa":
        weightage = WEIGHTAGES[parts[2]]
        return {
            "sparse": lambda: CohenKappa(5, weightage=weightage, sparse_labels=True),
            "onehot": lambda: CohenKappa(5, weightage=weightage),
            "ids": lambda: CohenKappa(4, weightage=weightage, sparse_labels=True),
            "regression": lambda: CohenKappa(
                5, weightage=weightage, sparse_labels=True, regression=True
            ),
            "binary": lambda: CohenKappa(2, weightage=weightage),
        }[parts[1]]()
    if kind == "mcc":
        return MatthewsCorrelationCoefficient(int(parts[1]))
    if kind == "hamming":
        return HammingLoss(parts[1], threshold=_threshold(parts[2]))
    if kind == "mlcm":
        return MultiLabelConfusionMatrix(4)
    if kind in ("kendall", "spearman", "pearson"):
        name, grid = case.rsplit("_", 1)
        return CORRELATIONS[name](**GRIDS[grid])
    if case == "rsquare_adjusted":
        return RSquare(num_regressors=2)
    if case.startswith("rsquare_1d"):
        return RSquare(multioutput="raw_values" if case.endswith("raw") else "uniform_average")
    if kind == "rsquare":
        return RSquare(multioutput=case[len("rsquare_") :].rsplit("_", 1)[0])
    if kind == "f1":
        average = None if parts[1] == "None" else parts[1]
        return F1Score(4, average=average, threshold=_threshold(parts[2]))
    if kind == "fbeta":
        average = None if parts[1] == "None" else parts[1]
        return FBetaScore(4, average=average, beta=2.0, threshold=_threshold(parts[2]))
    raise KeyError(case)


STREAMED = [c for c in CASES if f"{c}/y_true0" in TFA.files]


def test_every_fixture_case_is_replayed():
    values_cases = {c for c in CASES if f"{c}/values0" in TFA.files}
    others = {"hamming_distance", "hamming_distance2", "hamming_fn", "grid0", "grid1"}
    assert set(CASES) == set(STREAMED) | values_cases | others
    assert len(STREAMED) == 60, len(STREAMED)


@pytest.mark.parametrize("case", STREAMED)
def test_streamed_batches_match_tfa(case):
    metric = metric_for(case)
    for b in range(3):
        weight = TFA[f"{case}/weight{b}"] if f"{case}/weight{b}" in TFA.files else None
        metric.update_state(TFA[f"{case}/y_true{b}"], TFA[f"{case}/y_pred{b}"], weight)
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(metric.result()),
            TFA[f"{case}/result{b}"],
            atol=2e-5,
            rtol=1e-5,
            err_msg=f"{case}, after batch {b}",
        )
    metric.reset_state()
    metric.update_state(TFA[f"{case}/y_true0"], TFA[f"{case}/y_pred0"], None)
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(metric.result())))


@pytest.mark.parametrize("case", [c for c in STREAMED if c.startswith("hamming_")])
def test_mean_metric_wrapper_of_hamming_loss_fn_is_tfa_hamming_loss(case):
    # TFA's HammingLoss was its MeanMetricWrapper around hamming_loss_fn.
    _, mode, threshold = case.split("_")
    metric = MeanMetricWrapper(hamming_loss_fn, mode=mode, threshold=_threshold(threshold))
    for b in range(3):
        metric.update_state(
            TFA[f"{case}/y_true{b}"], TFA[f"{case}/y_pred{b}"], TFA[f"{case}/weight{b}"]
        )
    np.testing.assert_allclose(float(metric.result()), TFA[f"{case}/result2"], rtol=1e-6)


def test_mean_metric_wrapper_casts_inputs_like_tfa():
    def absolute_error(y_true, y_pred):
        return keras.ops.mean(keras.ops.abs(y_true - y_pred), axis=-1)

    metric = MeanMetricWrapper(absolute_error, name="mae")
    metric.update_state(np.array([[1], [2]], np.int32), np.array([[1.5], [2.0]], np.float32))
    np.testing.assert_allclose(float(metric.result()), 0.25)
    with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError)):  # no cast
        keras.metrics.MeanMetricWrapper(absolute_error).update_state(
            tf.constant([[1], [2]]), tf.constant([[1.5], [2.0]])
        )


@pytest.mark.parametrize("cls", [GeometricMean, HarmonicMean], ids=lambda c: c.__name__)
@pytest.mark.parametrize("weighted", [False, True])
def test_means_match_tfa_and_numpy(cls, weighted):
    case = f"{'geometric' if cls is GeometricMean else 'harmonic'}_"
    case += "weighted" if weighted else "plain"
    metric = cls()
    values, weights = [], []
    for b in range(3):
        v = TFA[f"{case}/values{b}"]
        w = TFA[f"{case}/weight{b}"] if weighted else np.ones_like(v)
        metric.update_state(v, w if weighted else None)
        values.append(v.astype("float64"))
        weights.append(w.astype("float64"))
        np.testing.assert_allclose(float(metric.result()), TFA[f"{case}/result{b}"], rtol=1e-5)
    v, w = np.concatenate(values), np.concatenate(weights)
    expected = (
        np.exp(np.sum(w * np.log(v)) / w.sum()) if cls is GeometricMean else w.sum() / (w / v).sum()
    )
    np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-5)


def test_stateless_hamming_functions_match_tfa():
    for case in ("hamming_distance", "hamming_distance2"):
        got = hamming_distance(TFA[f"{case}/actuals"], TFA[f"{case}/predictions"])
        np.testing.assert_allclose(float(got), TFA[f"{case}/result"], rtol=1e-6)
    y_true, y_pred = TFA["hamming_fn/y_true"], TFA["hamming_fn/y_pred"]
    for mode in ("multiclass", "multilabel"):
        for threshold in (None, 0.5):
            got = hamming_loss_fn(y_true, y_pred, threshold, mode)
            np.testing.assert_allclose(
                keras.ops.convert_to_numpy(got), TFA[f"hamming_fn/{mode}_{threshold}"], rtol=1e-6
            )


@pytest.mark.parametrize("grid", sorted(GRIDS))
def test_correlation_grids_are_tfa_cut_points(grid):
    metric = KendallsTauB(**GRIDS[grid])
    np.testing.assert_array_equal(metric.actual_cuts, TFA[f"{grid}/actual_cuts"])
    np.testing.assert_array_equal(metric.preds_cuts, TFA[f"{grid}/preds_cuts"])


# --------------------------------------------------------------------------------------------
# TFA's docstring values.
# --------------------------------------------------------------------------------------------


def _result(metric, *args):
    metric.update_state(*args)
    return keras.ops.convert_to_numpy(metric.result())


def test_tfa_docstring_values():
    y_true = np.array([4, 4, 3, 4, 2, 4, 1, 1], np.int32)
    y_pred = np.array([4, 4, 3, 4, 4, 2, 1, 1], np.int32)
    weights = np.array([1, 1, 2, 5, 10, 2, 3, 3], np.int32)
    kappa = CohenKappa(num_classes=5, sparse_labels=True)
    np.testing.assert_allclose(_result(kappa, y_true, y_pred), 0.61904764, rtol=1e-6)
    kappa = CohenKappa(num_classes=5, sparse_labels=True)
    np.testing.assert_allclose(_result(kappa, y_true, y_pred, weights), 0.37209308, rtol=1e-6)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(kappa.conf_mtx)[4], [0.0, 0.0, 2.0, 0.0, 7.0]
    )

    one_hot_true = np.array([[0, 1], [0, 1], [0, 1], [1, 0]], np.float32)
    one_hot_pred = np.array([[0, 1], [1, 0], [0, 1], [0, 1]], np.float32)
    mcc = MatthewsCorrelationCoefficient(num_classes=2)
    np.testing.assert_allclose(_result(mcc, one_hot_true, one_hot_pred), -0.33333334, rtol=1e-6)

    bits_true = np.array([1, 1, 0, 0, 1, 0, 1, 0, 0, 1], np.int32)
    bits_pred = np.array([1, 0, 0, 0, 1, 0, 0, 1, 0, 1], np.int32)
    np.testing.assert_allclose(float(hamming_distance(bits_true, bits_pred)), 0.3, rtol=1e-6)
    multiclass = HammingLoss(mode="multiclass", threshold=0.6)
    classes = np.eye(4, dtype=np.float32)[[0, 2, 3, 1]]
    scores = np.array(
        [[0.8, 0.1, 0.1, 0.0], [0.2, 0.0, 0.8, 0.0], [0.05, 0.05, 0.1, 0.8], [1.0, 0, 0, 0]],
        np.float32,
    )
    np.testing.assert_allclose(_result(multiclass, classes, scores), 0.25, rtol=1e-6)
    multilabel = HammingLoss(mode="multilabel", threshold=0.8)
    labels = np.array([[1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 0, 1]], np.int32)
    label_scores = np.array(
        [[0.82, 0.5, 0.90, 0], [0, 1, 0.4, 0.98], [0.89, 0.79, 0, 0.3]], np.float32
    )
    np.testing.assert_allclose(_result(multilabel, labels, label_scores), 0.16666667, rtol=1e-6)

    matrix = MultiLabelConfusionMatrix(num_classes=3)
    got = _result(matrix, np.array([[1, 0, 1], [0, 1, 0]]), np.array([[1, 0, 0], [0, 1, 1]]))
    np.testing.assert_array_equal(got, [[[1, 0], [0, 1]], [[1, 0], [0, 1]], [[0, 1], [1, 0]]])

    np.testing.assert_allclose(_result(GeometricMean(), [1, 3, 5, 7, 9]), 3.9362833, rtol=1e-6)
    np.testing.assert_allclose(_result(HarmonicMean(), [1, 4, 4]), 2.0, rtol=1e-6)

    actuals = np.array([12, 2, 1, 12, 2], np.int32)
    preds = np.array([1, 4, 7, 1, 0], np.int32)
    for cls, expected in (
        (KendallsTauB, -0.47140455),
        (KendallsTauC, -0.48000002),
        (SpearmansRank, -0.54073805),
        (PearsonsCorrelation, -0.5618297),
    ):
        np.testing.assert_allclose(_result(cls(0, 13, 0, 8), actuals, preds), expected, rtol=1e-5)

    fbeta = FBetaScore(num_classes=3, beta=2.0, threshold=0.5)
    multi_hot = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]], np.int32)
    probabilities = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]], np.float32)
    np.testing.assert_allclose(
        _result(fbeta, multi_hot, probabilities), [0.3846154, 0.90909094, 0.8333334], rtol=1e-5
    )
    f1 = F1Score(num_classes=3, threshold=0.5)
    np.testing.assert_allclose(
        _result(f1, multi_hot, probabilities), [0.5, 0.8, 0.6666667], rtol=1e-5
    )
    r2 = RSquare()
    got = _result(r2, np.array([3.0, -0.5, 2.0, 7.0]), np.array([2.5, 0.0, 2.0, 8.0]))
    np.testing.assert_allclose(got, 0.94860816, rtol=1e-6)
    assert got.shape == ()


# --------------------------------------------------------------------------------------------
# scikit-learn and SciPy references, over several batches.
# --------------------------------------------------------------------------------------------

REF_RNG = np.random.default_rng(7)


@pytest.mark.parametrize("weightage", [None, "linear", "quadratic"])
def test_cohen_kappa_matches_sklearn(weightage):
    y1, y2 = REF_RNG.integers(0, 6, 300), REF_RNG.integers(0, 6, 300)
    y2 = np.where(REF_RNG.random(300) < 0.5, y1, y2)  # some agreement
    w = REF_RNG.uniform(0.1, 3.0, 300)
    metric = CohenKappa(6, weightage=weightage, sparse_labels=True)
    for part in np.array_split(np.arange(300), 4):
        metric.update_state(y1[part], y2[part], w[part])
    expected = sk.cohen_kappa_score(y1, y2, weights=weightage, sample_weight=w)
    np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-5)


@pytest.mark.parametrize("classes", [2, 5])
def test_mcc_matches_sklearn(classes):
    y1, y2 = REF_RNG.integers(0, classes, 200), REF_RNG.integers(0, classes, 200)
    y2 = np.where(REF_RNG.random(200) < 0.4, y1, y2)
    w = REF_RNG.uniform(0.1, 3.0, 200)
    eye = np.eye(classes, dtype="float32")
    metric = MatthewsCorrelationCoefficient(classes)
    for part in np.array_split(np.arange(200), 3):
        metric.update_state(eye[y1[part]], eye[y2[part]], w[part])
    expected = sk.matthews_corrcoef(y1, y2, sample_weight=w)
    np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-5)


def test_hamming_loss_and_confusion_matrix_match_sklearn():
    y_true = REF_RNG.integers(0, 2, (60, 5))
    scores = REF_RNG.random((60, 5)).astype("float32")
    loss = HammingLoss("multilabel", threshold=0.5)
    matrix = MultiLabelConfusionMatrix(5)
    for part in np.array_split(np.arange(60), 3):
        loss.update_state(y_true[part], scores[part])
        matrix.update_state(y_true[part], (scores[part] > 0.5).astype("int32"))
    y_pred = (scores > 0.5).astype("int64")
    np.testing.assert_allclose(float(loss.result()), sk.hamming_loss(y_true, y_pred), rtol=1e-6)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(matrix.result()), sk.multilabel_confusion_matrix(y_true, y_pred)
    )
    # Multi-class: the loss of the arg-max prediction, sklearn's hamming loss on class ids.
    classes, class_scores = REF_RNG.integers(0, 4, 40), REF_RNG.random((40, 4))
    multiclass = HammingLoss("multiclass")
    multiclass.update_state(np.eye(4)[classes], class_scores)
    np.testing.assert_allclose(
        float(multiclass.result()), sk.hamming_loss(classes, class_scores.argmax(-1)), rtol=1e-6
    )


def _discrete_pairs(n=400):
    """Integer ratings 0..9 (ties galore); the grid [0, 10] with 11 cut points gives each value
    a bin of its own, where the histogram statistics are exact."""
    x = REF_RNG.integers(0, 10, n)
    y = np.clip(x + REF_RNG.integers(-3, 4, n), 0, 9)
    return x.astype("float32"), y.astype("float32")


@pytest.mark.parametrize(
    "cls, reference",
    [
        (KendallsTauB, lambda x, y: stats.kendalltau(x, y, variant="b").statistic),
        (KendallsTauC, lambda x, y: stats.kendalltau(x, y, variant="c").statistic),
        (SpearmansRank, lambda x, y: stats.spearmanr(x, y).statistic),
        (PearsonsCorrelation, lambda x, y: stats.pearsonr(x, y).statistic),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_correlations_over_the_stream_match_scipy(cls, reference):
    x, y = _discrete_pairs()
    metric = cls(0.0, 10.0, 0.0, 10.0, 11, 11)
    for part in np.array_split(np.arange(len(x)), 5):
        metric.update_state(x[part], y[part])
    expected = reference(x, y)
    np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-5)
    # Not a mean of per-batch values: that would differ.
    per_batch = np.mean([reference(x[p], y[p]) for p in np.array_split(np.arange(len(x)), 5)])
    assert abs(per_batch - expected) > 1e-4


def test_continuous_correlations_approach_scipy_with_fine_bins():
    x = REF_RNG.random(500).astype("float32")
    y = np.clip(x + 0.2 * REF_RNG.normal(size=500), 0, 0.999).astype("float32")
    for cls, reference, tolerance in (
        (KendallsTauB, stats.kendalltau(x, y).statistic, 5e-3),
        (SpearmansRank, stats.spearmanr(x, y).statistic, 5e-3),
        (PearsonsCorrelation, stats.pearsonr(x, y).statistic, 5e-3),
    ):
        metric = cls(actual_cutpoints=1001, preds_cutpoints=1001)
        metric.update_state(x, y)
        np.testing.assert_allclose(float(metric.result()), reference, atol=tolerance)


def test_correlation_values_at_the_range_maximum_land_in_the_last_bin():
    # TFA raised an indexing error here (the float32 cut point 3 + 1e-7 is 3); ours clips.
    metric = SpearmansRank(-2.0, 3.0, 0.0, 1.0, 6, 5)
    metric.update_state([3.0, 5.0, -2.0, 0.5], [1.0, 0.9, 0.0, 0.3])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(metric.m).sum(), 4)
    assert np.isfinite(float(metric.result()))


@pytest.mark.parametrize("multioutput", RSQUARE_OUTPUTS)
def test_rsquare_matches_sklearn(multioutput):
    y_true = REF_RNG.normal(size=(50, 3)) * [1.0, 2.0, 0.3]
    y_pred = y_true + REF_RNG.normal(size=(50, 3)) * 0.5
    w = REF_RNG.uniform(0.2, 2.0, 50)
    metric = RSquare(multioutput=multioutput)
    for part in np.array_split(np.arange(50), 3):
        metric.update_state(y_true[part], y_pred[part], w[part])
    expected = sk.r2_score(y_true, y_pred, sample_weight=w, multioutput=multioutput)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(metric.result()), expected, rtol=1e-4)


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_f1_matches_sklearn(average):
    y_true = REF_RNG.integers(0, 2, (40, 4))
    scores = REF_RNG.random((40, 4)).astype("float32")
    metric = F1Score(4, average=average, threshold=0.5)
    for part in np.array_split(np.arange(40), 3):
        metric.update_state(y_true[part], scores[part])
    expected = sk.f1_score(y_true, (scores > 0.5).astype(int), average=average, zero_division=0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(metric.result()), expected, rtol=1e-5)


# --------------------------------------------------------------------------------------------
# Configs, `.keras` round trips and bad input.
# --------------------------------------------------------------------------------------------

CONFIGURED = [
    (CohenKappa, dict(num_classes=4, weightage="quadratic", sparse_labels=True, name="kappa")),
    (CohenKappa, dict(num_classes=3, regression=True)),
    (MatthewsCorrelationCoefficient, dict(num_classes=3, name="mcc")),
    (HammingLoss, dict(mode="multilabel", threshold=0.3)),
    (MultiLabelConfusionMatrix, dict(num_classes=5)),
    (GeometricMean, dict(name="gm")),
    (HarmonicMean, dict()),
    (KendallsTauB, dict(actual_min=-1.0, actual_max=2.0, preds_cutpoints=7)),
    (KendallsTauC, dict(preds_min=-3.0, actual_cutpoints=5)),
    (SpearmansRank, dict()),
    (PearsonsCorrelation, dict(actual_max=5.0, preds_max=4)),
    (RSquare, dict(multioutput="raw_values", num_regressors=1)),
    (RSquare, dict(multioutput="variance_weighted")),
    (F1Score, dict(num_classes=3, average="macro", threshold=0.4)),
    (MeanMetricWrapper, dict(fn=hamming_loss_fn, mode="multiclass", threshold=None)),
    (FBetaScore, dict(num_classes=3, average="weighted", beta=0.5)),
]


@pytest.mark.parametrize(
    "cls, kwargs", CONFIGURED, ids=[f"{c.__name__}-{i}" for i, (c, _) in enumerate(CONFIGURED)]
)
def test_config_round_trip(cls, kwargs):
    metric = cls(**kwargs)
    harness.assert_registered(cls)
    config = harness.assert_config_covers_signature(metric, kwargs)
    restored = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert type(restored) is cls and restored.get_config() == config


def test_tfa_defaults_and_positional_arguments():
    assert CohenKappa(3).name == "cohen_kappa"
    assert MatthewsCorrelationCoefficient(2).name == "MatthewsCorrelationCoefficient"
    assert MultiLabelConfusionMatrix(2).name == "Multilabel_confusion_matrix"
    assert HammingLoss("multiclass").name == "hamming_loss"
    assert RSquare().name == "r_square" and F1Score(2).name == "f1_score"
    assert FBetaScore(2, "micro", 2).beta == 2.0  # TFA took an integer beta
    assert KendallsTauB().name.startswith("kendalls_tau_b")
    tau = KendallsTauB(-1, 1, 0, 5, 11, 21)
    assert (tau.actual_min, tau.preds_max, tau.actual_cutpoints, tau.preds_cutpoints) == (
        -1,
        5,
        11,
        21,
    )


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"Received: num_classes=1"):
        CohenKappa(num_classes=1)
    with pytest.raises(ValueError, match=r"Received: num_classes=0"):
        MatthewsCorrelationCoefficient(0)
    with pytest.raises(ValueError, match=r"Received: num_classes=0"):
        F1Score(0)
    with pytest.raises(ValueError, match=r"Received: num_classes=-2"):
        MultiLabelConfusionMatrix(-2)
    with pytest.raises(ValueError, match=r"Received: weightage='cubic'"):
        CohenKappa(3, weightage="cubic")
    with pytest.raises(TypeError, match=r"Received: sparse_labels=1"):
        CohenKappa(3, sparse_labels=1)
    with pytest.raises(ValueError, match=r"Received: average='samples'"):
        F1Score(3, average="samples")
    with pytest.raises(ValueError, match=r"Received: beta=0"):
        FBetaScore(3, beta=0)
    with pytest.raises(ValueError, match=r"Received: threshold=1.5"):
        F1Score(3, threshold=1.5)
    with pytest.raises(ValueError, match=r"Received: mode='binary'"):
        HammingLoss("binary")
    with pytest.raises(ValueError, match=r"Received: mode='binary'"):
        hamming_loss_fn([[1]], [[1.0]], None, "binary")
    with pytest.raises(ValueError, match=r"Received: multioutput='variance_weighted_average'"):
        RSquare(multioutput="variance_weighted_average")
    with pytest.raises(ValueError, match=r"Received: num_regressors=-1"):
        RSquare(num_regressors=-1)
    with pytest.raises(ValueError, match=r"Received: actual_min=1.0, actual_max=1.0"):
        SpearmansRank(actual_min=1.0, actual_max=1.0)
    with pytest.raises(ValueError, match=r"Received: preds_cutpoints=1"):
        KendallsTauB(preds_cutpoints=1)
    with pytest.warns(UserWarning, match=r"does not use `sample_weight`"):
        KendallsTauB().update_state([0.1], [0.2], sample_weight=[1.0])
    with pytest.warns(UserWarning, match=r"does not use `sample_weight`"):
        MultiLabelConfusionMatrix(2).update_state([[0, 1]], [[1, 1]], sample_weight=[2.0])
    with pytest.raises(NotImplementedError):
        CorrelationBase().result()


def test_labels_outside_num_classes():
    kappa = CohenKappa(num_classes=3, sparse_labels=True)
    message = re.escape("outside [0, num_classes=3). Received: y_true with value 3")
    with pytest.raises(ValueError, match=message):
        kappa.update_state(np.array([0, 3, 1]), np.array([0, 1, 1]))
    with pytest.raises(ValueError, match=r"Received: y_pred with value -1"):
        kappa.update_state(np.array([0, 2]), np.array([0, -1]))
    with pytest.raises(ValueError, match=r"Received: y_pred with value 4"):
        CohenKappa(4, regression=True, sparse_labels=True).update_state([1], [[-4.2]])
    assert float(keras.ops.sum(kappa.conf_mtx)) == 0.0  # a refused batch adds nothing

    update = tf.function(lambda t, p: kappa.update_state(t, p))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"`y_true` holds a class outside"):
        update(tf.constant([0, 5]), tf.constant([0, 1]))
    mcc = MatthewsCorrelationCoefficient(2)
    with pytest.raises(ValueError, match=r"Received: y_true with value 2"):
        mcc.update_state(np.eye(3)[[2, 0]], np.eye(2)[[1, 0]])
