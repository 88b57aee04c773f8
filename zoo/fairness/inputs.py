"""Checks and conversions of the arrays the fairness tools take."""

from __future__ import annotations

import numpy as np


def sensitive_array(sensitive, n: int | None = None, name: str = "sensitive") -> np.ndarray:
    """`sensitive` as a 1-D array of group values, checked.

    Args:
        sensitive: one group value per example (any hashable values: ints, strings).
        n: the number of examples it must match, or `None`.
        name: the argument's name in error messages.

    Returns:
        A 1-D NumPy array.

    Raises:
        ValueError: `sensitive` is missing (`None`), not one value per example, holds missing
            values, or has a single group (no disparity can be measured).

    Example:

    ```python
    groups = sensitive_array(["a", "b", "a"], n=3)
    ```
    """
    if sensitive is None:
        raise ValueError(
            f"`{name}` is missing: pass one sensitive-attribute value per example. "
            f"Received: {name}=None"
        )
    values = np.asarray(sensitive)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(
            f"`{name}` must hold one value per example (a 1-D array). "
            f"Received: {name} with shape {values.shape}"
        )
    if n is not None and len(values) != n:
        raise ValueError(
            f"`{name}` must have one value per example ({n}). Received: {len(values)} values"
        )
    if values.dtype.kind == "f" and np.isnan(values).any():
        raise ValueError(f"`{name}` has missing (NaN) values. Received: {name}={values!r}")
    if values.dtype == object and any(v is None for v in values):
        raise ValueError(f"`{name}` has missing (None) values. Received: {name}={values!r}")
    groups = np.unique(values)
    if len(groups) < 2:
        raise ValueError(
            f"`{name}` is constant: fairness compares at least two groups. "
            f"Received: {name} with the single group {groups.tolist()!r}"
        )
    return values


def binary_labels(y, name: str = "y_true") -> np.ndarray:
    """`y` as a 1-D int array of 0/1 labels, checked."""
    values = np.asarray(y)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1 or not np.isin(values, (0, 1)).all():
        raise ValueError(
            f"`{name}` must be binary labels (0 or 1), one per example. "
            f"Received: {name} with shape {values.shape} and values {np.unique(values)[:10]!r}"
        )
    return values.astype("int32")


def positive_probabilities(y_pred) -> np.ndarray | None:
    """The probability of class 1 when `y_pred` holds probabilities, else `None` (labels).

    Probabilities are a `(n, 2)` softmax, a `(n, 1)` sigmoid, or 1-D floats that are not all
    0 or 1; integer or boolean arrays, and floats that are all 0 or 1, are labels.
    """
    values = np.asarray(y_pred)
    if values.ndim == 2 and values.shape[1] == 2:
        values = values[:, 1]
    elif values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    elif values.ndim != 1:
        raise ValueError(
            "`y_pred` must be labels `(n,)`, or probabilities `(n,)`, `(n, 1)` or `(n, 2)` of "
            f"a binary classifier. Received: y_pred with shape {values.shape}"
        )
    if values.dtype.kind != "f" or np.isin(values, (0.0, 1.0)).all():
        return None
    if not ((values >= 0) & (values <= 1)).all():
        raise ValueError(
            "`y_pred` must be probabilities in [0, 1] (apply a sigmoid or softmax to logits). "
            f"Received: values from {values.min()} to {values.max()}"
        )
    return values.astype("float64")
