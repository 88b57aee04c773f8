"""Predictive summaries of Monte Carlo or ensemble samples: mean, spread, entropy, mutual info."""

from __future__ import annotations

import dataclasses

import numpy as np

_TINY = 1e-12


@dataclasses.dataclass(frozen=True)
class PredictiveSummary:
    """The predictive distribution summarised from `S` sampled predictions.

    Attributes:
        mean: the predictive mean: average class probabilities `(n, classes)` for
            classification, the average prediction for regression.
        variance: the variance across samples (per class for classification); for Gaussian
            heads the mixture variance (mean of the variances plus variance of the means).
        entropy: classification only: entropy of the mean probabilities, `(n,)`, in nats
            (total uncertainty).
        mutual_information: classification only: entropy minus the mean per-sample entropy,
            `(n,)` (the epistemic part, BALD).
        samples: the stacked sampled predictions, `(S, n, ...)`.
    """

    mean: np.ndarray
    variance: np.ndarray
    entropy: np.ndarray | None = None
    mutual_information: np.ndarray | None = None
    samples: np.ndarray | None = None

    @property
    def std(self) -> np.ndarray:
        """The predictive standard deviation, `sqrt(variance)`."""
        return np.sqrt(self.variance)


def entropy(probs: np.ndarray) -> np.ndarray:
    """Shannon entropy in nats over the last axis."""
    return -np.sum(probs * np.log(np.clip(probs, _TINY, 1.0)), axis=-1)


def to_probabilities(outputs: np.ndarray, from_logits: bool) -> np.ndarray:
    """Class probabilities from sampled outputs `(S, n, classes)`; one column means binary."""
    outputs = np.asarray(outputs, np.float64)
    if outputs.shape[-1] == 1:
        p = 1.0 / (1.0 + np.exp(-outputs)) if from_logits else outputs
        return np.concatenate([1.0 - p, p], axis=-1)
    if from_logits:
        shifted = np.exp(outputs - outputs.max(axis=-1, keepdims=True))
        return shifted / shifted.sum(axis=-1, keepdims=True)
    return outputs


def summarize_classification(probs: np.ndarray) -> PredictiveSummary:
    """Summarises sampled class probabilities `(S, n, classes)`.

    Mutual information `H[E p] - E H[p]` is the BALD estimate of epistemic uncertainty (Houlsby
    et al. 2011; Gal et al. 2017); it is zero when every sample agrees.
    """
    probs = np.asarray(probs, np.float64)
    mean = probs.mean(axis=0)
    total = entropy(mean)
    expected = entropy(probs).mean(axis=0)
    return PredictiveSummary(
        mean=mean,
        variance=probs.var(axis=0),
        entropy=total,
        mutual_information=np.maximum(total - expected, 0.0),
        samples=probs,
    )


def summarize_regression(
    means: np.ndarray, variances: np.ndarray | None = None
) -> PredictiveSummary:
    """Summarises sampled regression outputs `(S, n, ...)`.

    With per-sample `variances` (Gaussian heads) the result is the moment-matched Gaussian
    mixture: mean `E mu`, variance `E[sigma^2 + mu^2] - (E mu)^2`.
    """
    means = np.asarray(means, np.float64)
    mean = means.mean(axis=0)
    variance = means.var(axis=0)
    if variances is not None:
        variance = variance + np.asarray(variances, np.float64).mean(axis=0)
    return PredictiveSummary(mean=mean, variance=variance, samples=means)
