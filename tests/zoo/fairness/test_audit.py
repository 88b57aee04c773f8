import csv
import io

import numpy as np
import pytest
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from sklearn.metrics import accuracy_score

from zoo import fairness

RNG = np.random.default_rng(0)
N = 400
Y = RNG.integers(0, 2, N)
GROUPS = RNG.choice(np.array(["a", "b", "c"]), N)
# Probabilities that depend on the group and the label: real disparities.
PROBABILITIES = np.clip(0.25 + 0.4 * Y + 0.15 * (GROUPS == "b") + RNG.normal(0, 0.2, N), 0, 1)


def test_disparities_equal_fairlearn():
    threshold = 0.3
    result = fairness.audit(Y, PROBABILITIES, GROUPS, threshold=threshold)
    labels = (threshold <= PROBABILITIES).astype(int)
    expected_dp = demographic_parity_difference(Y, labels, sensitive_features=GROUPS)
    expected_eo = equalized_odds_difference(Y, labels, sensitive_features=GROUPS)
    assert result["demographic_parity_difference"] == pytest.approx(expected_dp, abs=1e-12)
    assert result["equalized_odds_difference"] == pytest.approx(expected_eo, abs=1e-12)
    assert expected_dp > 0.05  # the data do have a disparity
    for group in ("a", "b", "c"):
        members = group == GROUPS
        row = result["by_group"][group]
        assert row["accuracy"] == pytest.approx(accuracy_score(Y[members], labels[members]))
        assert row["selection_rate"] == pytest.approx(labels[members].mean())
        assert row["true_positive_rate"] == pytest.approx(labels[members & (Y == 1)].mean())
        assert row["false_positive_rate"] == pytest.approx(labels[members & (Y == 0)].mean())
        assert row["count"] == members.sum()
        assert row["mean_probability"] == pytest.approx(PROBABILITIES[members].mean())
        assert row["observed_rate"] == pytest.approx(Y[members].mean())
    assert result["overall"]["accuracy"] == pytest.approx(accuracy_score(Y, labels))
    assert result["threshold"] == threshold and result["groups"] == ["a", "b", "c"]


def test_labels_and_model_output_shapes_give_the_same_audit():
    labels = (PROBABILITIES >= 0.5).astype(int)
    from_labels = fairness.audit(Y, labels, GROUPS)
    sigmoid = fairness.audit(Y, PROBABILITIES[:, None].astype("float32"), GROUPS)
    softmax = fairness.audit(Y, np.stack([1 - PROBABILITIES, PROBABILITIES], 1), GROUPS)
    assert from_labels["threshold"] is None and "calibration_error" not in from_labels["overall"]
    for result in (sigmoid, softmax):
        for name in ("demographic_parity_difference", "equalized_odds_difference"):
            assert result[name] == pytest.approx(from_labels[name])


def test_sample_weight_reaches_fairlearn():
    weights = RNG.uniform(0.1, 2.0, N)
    labels = (PROBABILITIES >= 0.5).astype(int)
    result = fairness.audit(Y, labels, GROUPS, sample_weight=weights)
    options = {"sensitive_features": GROUPS, "sample_weight": weights}
    expected = demographic_parity_difference(Y, labels, **options)
    assert result["demographic_parity_difference"] == pytest.approx(expected)


def test_calibration_error_matches_sklearn_calibration_curve():
    from sklearn.calibration import calibration_curve

    observed, predicted = calibration_curve(Y, PROBABILITIES, n_bins=10, strategy="uniform")
    edges = np.linspace(0, 1, 11)
    counts = np.bincount(np.searchsorted(edges[1:-1], PROBABILITIES), minlength=10)
    expected = np.sum(counts[counts > 0] * np.abs(observed - predicted)) / N
    assert fairness.expected_calibration_error(Y, PROBABILITIES, 10) == pytest.approx(expected)
    assert fairness.expected_calibration_error([0, 1], [0.0, 1.0]) == 0.0


@pytest.mark.parametrize(
    "sensitive, message",
    [
        (None, "`sensitive` is missing"),
        (np.zeros(N), "`sensitive` is constant"),
        (GROUPS[:-1], "one value per example"),
        (np.where(Y == 1, np.nan, 1.0), "missing \\(NaN\\)"),
    ],
)
def test_a_missing_or_constant_sensitive_attribute_is_an_error(sensitive, message):
    with pytest.raises(ValueError, match=message):
        fairness.audit(Y, PROBABILITIES, sensitive)


def test_bad_predictions_are_errors():
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\]"):
        fairness.audit(Y, PROBABILITIES * 3, GROUPS)
    with pytest.raises(ValueError, match="shape \\(400, 3\\)"):
        fairness.audit(Y, np.ones((N, 3)) / 3, GROUPS)
    with pytest.raises(ValueError, match="`y_true` must be binary"):
        fairness.audit(Y * 2, PROBABILITIES, GROUPS)


def test_report_table_and_plot(tmp_path):
    result = fairness.audit(Y, PROBABILITIES, GROUPS)
    markdown = fairness.audit_table(result)
    assert markdown.splitlines()[0].startswith("| group | accuracy | selection_rate")
    assert f"{result['demographic_parity_difference']:.4f}" in markdown
    rows = list(csv.reader(io.StringIO(fairness.audit_table(result, "csv"))))
    header, body = rows[0], {row[0]: row for row in rows[1:] if row[0] != "disparity"}
    assert set(body) == {"a", "b", "c", "overall"}
    column = header.index("selection_rate")
    assert float(body["b"][column]) == pytest.approx(result["by_group"]["b"]["selection_rate"])
    assert rows[-1][:2] == ["disparity", "equalized_odds_difference"]
    with pytest.raises(ValueError, match="table_format"):
        fairness.audit_table(result, "html")
    path = fairness.plot_audit(result, str(tmp_path / "plots" / "audit.png"))
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_synthetic_data_is_biased_through_a_proxy_and_seeded():
    data = fairness.make_biased_data(4000, seed=3)
    again = fairness.make_biased_data(4000, seed=3)
    np.testing.assert_array_equal(data.x, again.x)
    np.testing.assert_array_equal(data.sensitive, again.sensitive)
    rates = [data.y[data.sensitive == g].mean() for g in (0, 1)]
    assert rates[1] - rates[0] > 0.3
    proxy = data.x[:, -1]
    assert np.corrcoef(proxy, data.sensitive)[0, 1] > 0.8
    assert not any(np.array_equal(column, data.sensitive) for column in data.x.T)
    fair = fairness.make_biased_data(4000, bias=0.0, seed=3)
    assert abs(np.diff([fair.y[fair.sensitive == g].mean() for g in (0, 1)])[0]) < 0.05
    train, test = data.split(0.25)
    assert (len(train.y), len(test.y)) == (3000, 1000)
