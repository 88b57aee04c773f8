"""Monte Carlo prediction with a stochastic model (MC dropout or Bayesian layers)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from layers.validation import check_choice, check_positive_int
from zoo.uncertainty.gaussian import has_gaussian_head, split_mean_variance
from zoo.uncertainty.summaries import (
    PredictiveSummary,
    summarize_classification,
    summarize_regression,
    to_probabilities,
)

TASKS = ("classification", "regression")


def mc_predict(
    model: keras.Model,
    x,
    samples: int = 30,
    task: str = "classification",
    from_logits: bool = False,
    batch_size: int = 256,
    training: bool = False,
) -> PredictiveSummary:
    """Predicts `samples` times with a stochastic model and summarises the predictive spread.

    Each forward pass of a model holding `MCDropout` or Bayesian layers (`DenseFlipout`,
    `DenseReparameterization`, `Conv2DFlipout`) draws new dropout masks or weights; averaging
    them approximates the Bayesian model average. For classification the result holds the
    mean probabilities, the predictive entropy (total uncertainty) and the mutual information
    between prediction and weights (the epistemic part); for regression the mean and the
    standard deviation across samples. Regression models ending in a `GaussianHead` get the
    mixture variance, aleatoric (mean predicted variance) plus epistemic (variance of means).

    Args:
        model: a Keras model whose forward pass is stochastic at inference.
        x: inputs (a NumPy array or a structure of arrays).
        samples: number of forward passes, a positive integer. Defaults to `30`.
        task: `"classification"` or `"regression"`. Defaults to `"classification"`.
        from_logits: classification outputs are logits (softmax is applied per sample, before
            averaging). Defaults to `False`.
        batch_size: examples per forward pass. Defaults to `256`.
        training: the `training` flag passed to the model; `True` turns on plain
            `keras.layers.Dropout` too (and batch-statistics in BatchNormalization, which is
            seldom wanted). Defaults to `False`.

    Returns:
        A `PredictiveSummary` (`mean`, `variance`, `std`, `entropy`, `mutual_information`,
        `samples`).

    Example:

    ```python
    summary = mc_predict(model, x_test, samples=30, from_logits=True)
    summary.mean.argmax(-1), summary.entropy, summary.mutual_information
    ```

    References:
        Gal and Ghahramani, "Dropout as a Bayesian Approximation", ICML 2016.
        https://arxiv.org/abs/1506.02142
        Depeweg et al., "Decomposition of Uncertainty in Bayesian Deep Learning", ICML 2018.
        https://arxiv.org/abs/1710.07283
    """
    check_positive_int("samples", samples)
    check_choice("task", task, TASKS)
    check_positive_int("batch_size", batch_size)
    outputs = stochastic_forward_passes(model, x, samples, batch_size, training)
    if task == "classification":
        return summarize_classification(to_probabilities(outputs, from_logits))
    if has_gaussian_head(model):
        return summarize_regression(*split_mean_variance(outputs))
    return summarize_regression(outputs)


def stochastic_forward_passes(model, x, samples: int, batch_size: int, training: bool):
    """`samples` stacked predictions `(S, n, ...)`, batched and compiled once."""
    forward = tf.function(lambda batch: model(batch, training=training), reduce_retracing=True)
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(batch_size)
    draws = []
    for _ in range(samples):
        draws.append(np.concatenate([np.asarray(forward(batch)) for batch in dataset]))
    return np.stack(draws)
