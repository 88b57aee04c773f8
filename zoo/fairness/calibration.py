"""Expected calibration error of binary probabilities (Naeini et al. 2015; Guo et al. 2017)."""

from __future__ import annotations

import numpy as np

from layers.validation import check_positive_int


def expected_calibration_error(y_true, probabilities, bins: int = 10) -> float:
    """`sum_b (n_b / n) |observed rate in b - mean probability in b|` over equal-width bins.

    Args:
        y_true: 0/1 labels.
        probabilities: predicted probabilities of class 1, in [0, 1].
        bins: equal-width bins over [0, 1]. Defaults to `10`.

    Returns:
        The error, in [0, 1]; 0 for perfectly calibrated probabilities.

    Example:

    ```python
    expected_calibration_error([0, 1, 1], [0.2, 0.7, 0.9])
    ```
    """
    check_positive_int("bins", bins)
    y_true = np.asarray(y_true, dtype="float64")
    probabilities = np.asarray(probabilities, dtype="float64")
    # Bin b holds (b / bins, (b + 1) / bins]; probability 0 goes to the first bin.
    index = np.clip(np.ceil(probabilities * bins).astype(int) - 1, 0, bins - 1)
    total = 0.0
    for b in np.unique(index):
        members = index == b
        total += members.sum() * abs(y_true[members].mean() - probabilities[members].mean())
    return float(total / max(len(y_true), 1))
