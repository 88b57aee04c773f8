"""Mutual information of a layer's activations with the input and the label, in bits.

Two estimators, as in the information-plane papers:

- binning (Shwartz-Ziv & Tishby, "Opening the black box of deep neural networks via
  information", 2017): each unit's activation is cut into equal bins over its range, the layer's
  binned vector is a discrete variable T, and I(X;T), I(T;Y) are plug-in estimates from counts.
- KDE (Kolchinsky & Tracey, "Estimating mixture entropy with pairwise distances", 2017, as used
  by Saxe et al., "On the information bottleneck theory of deep learning", ICLR 2018): T is the
  activation plus Gaussian noise of variance `noise_variance`; the entropy of that mixture of
  Gaussians has the pairwise-KL upper bound, which gives
  I(X;T) <= -mean_i log mean_j exp(-|h_i - h_j|^2 / (2 noise_variance)), and I(T;Y) is the
  entropy bound of T minus the class-weighted bounds of T given each label.

X is the input pattern: each row of the activations belongs to one input, and rows with the same
`input_ids` value are the same input (the 4096 distinct 12-bit patterns: every row its own).
"""

from __future__ import annotations

import numpy as np

from layers.validation import check_positive_float, check_positive_int

LOG2 = np.log(2.0)


def _as_rows(values: np.ndarray, name: str) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[0] == 0:
        raise ValueError(
            f"`{name}` must be a non-empty 1-D or 2-D array. Received: {name}.shape={values.shape}"
        )
    return values


def discrete_entropy(codes: np.ndarray) -> float:
    """The plug-in entropy in bits of a discrete variable given by its samples.

    Args:
        codes: `(n,)` or `(n, k)`: one sample per row (a row of `k` codes is one value).

    Returns:
        `-sum p log2 p` over the distinct rows' frequencies.
    """
    codes = _as_rows(codes, "codes")
    _, counts = np.unique(codes, axis=0, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def discrete_mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """The plug-in I(A;B) = H(A) + H(B) - H(A,B) in bits from paired samples.

    Args:
        a: `(n,)` or `(n, k)` samples of A.
        b: `(n,)` or `(n, m)` samples of B, paired with `a`'s rows.

    Returns:
        The mutual information in bits (>= 0 up to rounding).

    Example:

    ```python
    discrete_mutual_information(np.arange(8), np.arange(8))  # 3.0: B = A, H(A) = 3 bits
    ```
    """
    a, b = _as_rows(a, "a"), _as_rows(b, "b")
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"`a` and `b` must have the same number of rows. Received: a.shape={a.shape}, "
            f"b.shape={b.shape}"
        )
    joint = np.concatenate([a.astype("float64"), b.astype("float64")], axis=1)
    return max(0.0, discrete_entropy(a) + discrete_entropy(b) - discrete_entropy(joint))


def bin_activations(
    activations: np.ndarray, bins: int = 30, value_range: tuple[float, float] | None = None
) -> np.ndarray:
    """Each activation's bin among `bins` equal bins over `value_range`.

    Args:
        activations: `(n, units)`.
        bins: the number of bins. Defaults to 30.
        value_range: `(low, high)`; defaults to the activations' own min and max (for ReLU
            layers pass `(0, max)`; for tanh `(-1, 1)`).

    Returns:
        `(n, units)` integer codes in `[0, bins)`.
    """
    check_positive_int("bins", bins)
    activations = _as_rows(activations, "activations").astype("float64")
    low, high = (
        (float(activations.min()), float(activations.max()))
        if value_range is None
        else map(float, value_range)
    )
    if not high > low:
        return np.zeros(activations.shape, dtype="int64")
    edges = np.linspace(low, high, bins + 1)[1:-1]
    return np.digitize(activations, edges).astype("int64")


def binning_information(
    activations: np.ndarray,
    labels: np.ndarray,
    input_ids: np.ndarray | None = None,
    bins: int = 30,
    value_range: tuple[float, float] | None = None,
) -> tuple[float, float]:
    """I(X;T) and I(T;Y) in bits, T the layer's binned activations (binning estimator).

    Args:
        activations: `(n, units)`, one row per sample.
        labels: `(n,)` class labels Y.
        input_ids: `(n,)` the input X of each row; defaults to every row a distinct input.
        bins: bins per unit. Defaults to 30.
        value_range: the binned range; see `bin_activations`.

    Returns:
        `(I(X;T), I(T;Y))`.

    Example:

    ```python
    i_xt, i_ty = binning_information(layer_output, y, bins=30, value_range=(-1.0, 1.0))
    ```
    """
    codes = bin_activations(activations, bins, value_range)
    x = np.arange(codes.shape[0]) if input_ids is None else np.asarray(input_ids)
    return discrete_mutual_information(x, codes), discrete_mutual_information(codes, labels)


def _kde_entropy_term(activations: np.ndarray, noise_variance: float, chunk: int = 512) -> float:
    """`-mean_i log mean_j exp(-|h_i - h_j|^2 / (2 noise_variance))` in nats.

    Each row's sum holds its own term exp(0) = 1, so it is at least 1: no log of zero and no
    overflow, and the plain sum needs no log-sum-exp shift (float32 distances keep it fast).
    """
    n = activations.shape[0]
    points = activations.astype("float32")
    squares = (points**2).sum(axis=1)
    scale = np.float32(-0.5 / noise_variance)
    total = 0.0
    for start in range(0, n, chunk):
        rows = points[start : start + chunk]
        distances = squares[start : start + chunk, None] + squares[None, :] - 2.0 * rows @ points.T
        np.maximum(distances, 0.0, out=distances)
        np.multiply(distances, scale, out=distances)
        np.exp(distances, out=distances)
        sums = distances.sum(axis=1, dtype="float64")
        # the diagonal is exactly exp(0) = 1 in exact arithmetic; keep rounding from losing it
        total += float(np.log(np.maximum(sums, 1.0)).sum())
    return -(total / n - np.log(n))


def kde_information(
    activations: np.ndarray, labels: np.ndarray, noise_variance: float = 1e-3
) -> tuple[float, float]:
    """I(X;T) and I(T;Y) in bits for T = activation + N(0, noise_variance I) (KDE estimator).

    Each row is a distinct input X. I(X;T) is Kolchinsky & Tracey's pairwise-KL upper bound; it
    lies in `[0, log2 n]` and falls as `noise_variance` grows. I(T;Y) is the same entropy bound
    of T minus the label-weighted bounds within each class (Saxe et al. 2018).

    Args:
        activations: `(n, units)`.
        labels: `(n,)` class labels.
        noise_variance: the added noise's variance. Defaults to 1e-3 (Saxe et al.'s code).

    Returns:
        `(I(X;T), I(T;Y))`.

    Example:

    ```python
    i_xt, i_ty = kde_information(layer_output, y, noise_variance=1e-3)
    ```
    """
    check_positive_float("noise_variance", noise_variance)
    activations = _as_rows(activations, "activations").astype("float64")
    labels = np.asarray(labels).reshape(-1)
    if labels.shape[0] != activations.shape[0]:
        raise ValueError(
            f"`labels` must have one entry per row of `activations` ({activations.shape[0]}). "
            f"Received: labels.shape={labels.shape}"
        )
    total = _kde_entropy_term(activations, noise_variance)
    within = 0.0
    for label in np.unique(labels):
        members = activations[labels == label]
        within += members.shape[0] / labels.shape[0] * _kde_entropy_term(members, noise_variance)
    return float(total / LOG2), float(max(0.0, total - within) / LOG2)
