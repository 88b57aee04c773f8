"""Target functions on [0, 1] for the depth-vs-width experiment, and a linear-piece counter.

Smooth targets (a sine, a Gaussian bump, a polynomial) are approximated well by shallow ReLU
networks; Telgarsky's sawtooth, the k-fold composition of the tent map, has 2^k linear pieces,
and a ReLU network with one hidden layer needs about 2^k units to draw it while a network of
depth k needs only 2 units per layer (Telgarsky, "Benefits of depth in neural networks", COLT
2016).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from layers.validation import check_positive_int


def tent(x: np.ndarray) -> np.ndarray:
    """The tent map of [0, 1]: `2x` below 1/2, `2(1 - x)` above.

    Args:
        x: values in [0, 1].

    Returns:
        `tent(x)`, the same shape.
    """
    x = np.asarray(x, dtype="float64")
    return np.where(x < 0.5, 2.0 * x, 2.0 * (1.0 - x))


def sawtooth(x: np.ndarray, k: int) -> np.ndarray:
    """Telgarsky's sawtooth: the tent map composed `k` times, 2^k linear pieces on [0, 1].

    Args:
        x: values in [0, 1].
        k: how many times the tent map is applied (>= 1).

    Returns:
        The sawtooth at `x`, values in [0, 1].

    Example:

    ```python
    sawtooth(np.array([0.0, 0.125, 0.25]), k=2)  # [0.0, 0.5, 1.0]
    ```
    """
    check_positive_int("k", k)
    y = np.asarray(x, dtype="float64")
    for _ in range(k):
        y = tent(y)
    return y


def count_linear_pieces(x: np.ndarray, y: np.ndarray, tolerance: float = 1e-9) -> int:
    """The number of linear pieces of a piecewise-linear function sampled on a sorted grid.

    A new piece starts wherever the slope between neighbouring samples changes by more than
    `tolerance`; the grid must hold the breakpoints (a dyadic grid does for the sawtooth).

    Args:
        x: sorted sample points.
        y: the function at `x`.
        tolerance: the slope change that counts as a breakpoint. Defaults to 1e-9.

    Returns:
        The number of pieces (1 for a line).
    """
    x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    if x.ndim != 1 or x.shape != y.shape or x.size < 2:
        raise ValueError(
            "`x` and `y` must be 1-D arrays of the same length >= 2. "
            f"Received: x.shape={x.shape}, y.shape={y.shape}"
        )
    slopes = np.diff(y) / np.diff(x)
    return 1 + int(np.sum(np.abs(np.diff(slopes)) > tolerance))


def smooth_targets() -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """The smooth targets on [0, 1], each with values in about [0, 1]: `sin` (one period),
    `gaussian_bump` (centre 0.5, width 0.1) and `polynomial` (a cubic)."""
    return {
        "sin": lambda x: 0.5 + 0.5 * np.sin(2.0 * np.pi * x),
        "gaussian_bump": lambda x: np.exp(-((x - 0.5) ** 2) / (2 * 0.1**2)),
        "polynomial": lambda x: 4.0 * x**3 - 6.0 * x**2 + 3.0 * x,
    }


def all_targets(sawtooth_k: int) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """The smooth targets plus `sawtooth_<k>`.

    Args:
        sawtooth_k: the sawtooth's number of tent-map compositions.

    Returns:
        Target name to a function of `x` in [0, 1].
    """
    check_positive_int("sawtooth_k", sawtooth_k)
    targets = smooth_targets()
    targets[f"sawtooth_{sawtooth_k}"] = lambda x: sawtooth(x, sawtooth_k)
    return targets
