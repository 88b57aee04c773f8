"""Fairness audits of a binary classifier's predictions with fairlearn's `MetricFrame`."""

from __future__ import annotations

from typing import Any

import numpy as np

from layers.validation import check_positive_int, check_unit_interval
from zoo.extras import require_extra
from zoo.fairness.calibration import expected_calibration_error
from zoo.fairness.inputs import binary_labels, positive_probabilities, sensitive_array

LABEL_METRICS = (
    "accuracy",
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "count",
)
PROBABILITY_METRICS = ("mean_probability", "observed_rate", "calibration_error")


def _label_metrics() -> dict[str, Any]:
    from fairlearn import metrics
    from sklearn.metrics import accuracy_score

    return {
        "accuracy": accuracy_score,
        "selection_rate": metrics.selection_rate,
        "true_positive_rate": metrics.true_positive_rate,
        "false_positive_rate": metrics.false_positive_rate,
        "count": metrics.count,
    }


def _probability_metrics(bins: int) -> dict[str, Any]:
    return {
        "mean_probability": lambda y_true, p: float(np.mean(p)),
        "observed_rate": lambda y_true, p: float(np.mean(y_true)),
        "calibration_error": lambda y_true, p: expected_calibration_error(y_true, p, bins),
    }


def _plain(value, name: str = ""):
    """NumPy scalars as Python numbers (JSON-ready); counts as ints."""
    value = value.item() if isinstance(value, np.generic) else value
    return int(value) if name == "count" else value


def audit(
    y_true,
    y_pred,
    sensitive,
    threshold: float = 0.5,
    calibration_bins: int = 10,
    sample_weight=None,
) -> dict[str, Any]:
    """Group fairness of a binary classifier: disparities and per-group metrics.

    `y_pred` may be labels or a model's probabilities (`model.predict(x)`: a `(n, 1)` sigmoid,
    a `(n, 2)` softmax or 1-D floats); probabilities become labels at `threshold` and add the
    calibration metrics. The two disparities are fairlearn's `demographic_parity_difference`
    (the largest gap in selection rate between groups) and `equalized_odds_difference` (the
    larger of the largest gaps in true- and false-positive rate; Hardt et al. 2016), the
    per-group metrics those of a fairlearn `MetricFrame`.

    Args:
        y_true: 0/1 labels.
        y_pred: 0/1 labels, or probabilities of class 1 (see above).
        sensitive: the sensitive attribute, one group value per example (at least two groups).
        threshold: probabilities at or above it predict class 1. Defaults to `0.5`.
        calibration_bins: equal-width bins of the expected calibration error. Defaults to `10`.
        sample_weight: optional weights of the disparities. Defaults to `None`.

    Returns:
        `{"demographic_parity_difference", "equalized_odds_difference", "overall", "by_group",
        "groups", "threshold"}`: `overall` and each `by_group[str(group)]` map a metric name
        (`accuracy`, `selection_rate`, `true_positive_rate`, `false_positive_rate`, `count`, and
        with probabilities `mean_probability`, `observed_rate`, `calibration_error`) to its
        value; `threshold` is `None` for labels.

    Raises:
        ValueError: `sensitive` missing or constant, labels not binary, or lengths that differ.

    Example:

    ```python
    result = audit(y_test, model.predict(x_test), sensitive_test)
    result["demographic_parity_difference"], result["by_group"]["1"]["accuracy"]
    ```
    """
    require_extra("fairlearn", "tracking", "Fairness audits")
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_difference,
        equalized_odds_difference,
    )

    y_true = binary_labels(y_true)
    sensitive = sensitive_array(sensitive, n=len(y_true))
    check_unit_interval("threshold", threshold, include_low=False, include_high=True)
    check_positive_int("calibration_bins", calibration_bins)
    probabilities = positive_probabilities(y_pred)
    if probabilities is None:
        labels = binary_labels(y_pred, name="y_pred")
    else:
        labels = (probabilities >= threshold).astype("int32")
    if len(labels) != len(y_true):
        raise ValueError(
            f"`y_pred` must have one prediction per label ({len(y_true)}). "
            f"Received: {len(labels)} predictions"
        )
    frames = [
        MetricFrame(
            metrics=_label_metrics(), y_true=y_true, y_pred=labels, sensitive_features=sensitive
        )
    ]
    if probabilities is not None:
        metrics = _probability_metrics(calibration_bins)
        frames.append(
            MetricFrame(
                metrics=metrics, y_true=y_true, y_pred=probabilities, sensitive_features=sensitive
            )
        )
    overall: dict[str, Any] = {}
    by_group: dict[str, dict[str, Any]] = {}
    for frame in frames:
        overall.update({k: _plain(v, k) for k, v in frame.overall.items()})
        for group, row in frame.by_group.iterrows():
            by_group.setdefault(str(group), {}).update({k: _plain(v, k) for k, v in row.items()})
    options = {"sensitive_features": sensitive, "sample_weight": sample_weight}
    return {
        "demographic_parity_difference": float(
            demographic_parity_difference(y_true, labels, **options)
        ),
        "equalized_odds_difference": float(equalized_odds_difference(y_true, labels, **options)),
        "overall": overall,
        "by_group": by_group,
        "groups": [_plain(g) for g in np.unique(sensitive)],
        "threshold": None if probabilities is None else float(threshold),
    }
