"""Reliability diagrams: accuracy against confidence in equal-width bins, as a PNG."""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from layers.validation import check_positive_int


@dataclasses.dataclass(frozen=True)
class CalibrationBins:
    """Per-bin statistics of equal-width confidence bins `(lo, hi]` over `[0, 1]`.

    Attributes:
        edges: the `num_bins + 1` bin edges.
        counts: predictions per bin.
        accuracy: fraction correct per bin (`nan` for empty bins).
        confidence: mean confidence per bin (`nan` for empty bins).
        ece: the expected calibration error, `sum_b counts_b / n * |accuracy_b - confidence_b|`.
    """

    edges: np.ndarray
    counts: np.ndarray
    accuracy: np.ndarray
    confidence: np.ndarray
    ece: float


def _validate(y_true, probs) -> tuple[np.ndarray, np.ndarray]:
    probs = np.asarray(probs, np.float64)
    if probs.ndim != 2 or probs.shape[1] < 2:
        raise ValueError(
            "`probs` must be class probabilities of shape (n, num_classes >= 2). "
            f"Received: probs.shape={probs.shape}"
        )
    y_true = np.asarray(y_true)
    if y_true.ndim == 2 and y_true.shape[1] == probs.shape[1]:
        y_true = y_true.argmax(axis=1)
    y_true = y_true.reshape(-1).astype(np.int64)
    if len(y_true) != len(probs):
        raise ValueError(
            f"`y_true` has {len(y_true)} labels but `probs` has {len(probs)} rows. "
            f"Received: y_true.shape={np.shape(y_true)}, probs.shape={probs.shape}"
        )
    return y_true, probs


def calibration_bins(y_true, probs, num_bins: int = 15) -> CalibrationBins:
    """Bins predictions by confidence (the largest probability) into `(lo, hi]` bins.

    Args:
        y_true: integer labels `(n,)` or one-hot labels `(n, num_classes)`.
        probs: class probabilities `(n, num_classes)`.
        num_bins: number of equal-width bins. Defaults to `15`.
    """
    check_positive_int("num_bins", num_bins)
    y_true, probs = _validate(y_true, probs)
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == y_true).astype(np.float64)
    edges = np.linspace(0.0, 1.0, num_bins + 1)
    index = np.digitize(confidence, edges[1:-1], right=True)
    counts = np.bincount(index, minlength=num_bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.bincount(index, correct, minlength=num_bins) / counts
        mean_confidence = np.bincount(index, confidence, minlength=num_bins) / counts
    gaps = np.where(counts > 0, np.abs(accuracy - mean_confidence), 0.0)
    ece = float(np.sum(counts * gaps) / max(len(y_true), 1))
    return CalibrationBins(edges, counts, accuracy, mean_confidence, ece)


def reliability_diagram(
    y_true, probs, path: str, num_bins: int = 15, title: str = "reliability"
) -> str:
    """Writes a reliability diagram of classifier probabilities to a PNG file.

    Bars show each bin's accuracy, the red overlay its gap to the bin's mean confidence, and the
    diagonal perfect calibration; a lower panel shows how many predictions fall in each bin. The
    title carries the expected calibration error.

    Args:
        y_true: integer labels `(n,)` or one-hot labels `(n, num_classes)`.
        probs: predicted class probabilities `(n, num_classes)`.
        path: PNG file to write; parent directories are created.
        num_bins: number of equal-width confidence bins. Defaults to `15`.
        title: figure title (the ECE is appended). Defaults to `"reliability"`.

    Returns:
        `path`.

    Example:

    ```python
    summary = mc_predict(model, x_test, from_logits=True)
    reliability_diagram(y_test, summary.mean, "artifacts/mc_dropout_reliability.png")
    ```

    Reference:
        Guo, Pleiss, Sun and Weinberger, "On Calibration of Modern Neural Networks", ICML 2017,
        figure 1. https://arxiv.org/abs/1706.04599
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = calibration_bins(y_true, probs, num_bins)
    width = 1.0 / num_bins
    centers = bins.edges[:-1] + width / 2
    # Empty bins draw nothing: zero accuracy and zero gap.
    accuracy = np.nan_to_num(bins.accuracy)
    confidence = np.where(bins.counts > 0, bins.confidence, accuracy)

    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(4.5, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    top.bar(centers, accuracy, width=width, edgecolor="black", label="accuracy")
    top.bar(
        centers,
        confidence - accuracy,
        bottom=accuracy,
        width=width,
        color="red",
        alpha=0.3,
        edgecolor="red",
        label="gap",
    )
    top.plot([0, 1], [0, 1], "k--", label="perfect calibration")
    top.set_ylabel("accuracy")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.legend(loc="upper left")
    top.set_title(f"{title} (ECE {bins.ece:.3f})")
    bottom.bar(centers, bins.counts, width=width, edgecolor="black")
    bottom.set_xlabel("confidence")
    bottom.set_ylabel("count")
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
