"""Counterfactual explanations: Wachter et al.'s gradient search and DiCE's diverse counterfactuals.

A counterfactual of an example `x` is a nearby `x'` that the model puts in another class: "had
income been 4,000 higher, the loan would have been granted". The search minimises, per candidate
`x'_i`, `lambda_i * CE(f(x'_i), target) + d(x'_i, x)` by gradient descent (Adam), with `d` the
L1 (Wachter et al.'s choice: sparse changes) or squared L2 distance in units of each feature's
median absolute deviation (MAD). Wachter et al. minimise at a fixed lambda and raise it until the
minimum reaches the target: here each `lambda_i` starts small and doubles when its candidate is
invalid and has stopped progressing. Once every candidate is valid the search goes on at the
same lambdas and returns the valid set of least distance seen. With `num > 1` the candidates are
optimised jointly and `diversity_weight * det(K)`, DiCE's determinantal point-process term with
`K_ij = 1 / (1 + d(x'_i, x'_j))`, is subtracted from the loss, which pushes them apart.

Decisions:

- Constraints hold exactly: immutable features are masked out of the gradient and copied bit for
  bit from `x`; every step is projected onto the feature ranges.
- Every row returned is valid. When the step budget ends first, `CounterfactualNotFoundError`
  is raised (it carries the last candidates and their validity), never a silent invalid row.
- One example per call: a batch of examples is refused rather than looped over, since each has
  its own search, budget and possible failure.
- Resolution: Adam moves each feature by about `learning_rate` MAD per step, so distances are
  optimal to within about that (on a linear model, within a few % of the closed form unless
  `x` is within a step or two of the boundary); lower it for finer answers.

References: Wachter, Mittelstadt & Russell 2017, "Counterfactual Explanations without Opening the
Black Box: Automated Decisions and the GDPR"; Mothilal, Sharma & Tan 2020, "Explaining Machine
Learning Classifiers through Diverse Counterfactual Explanations" (DiCE).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from layers.validation import (
    check_choice,
    check_int_in_range,
    check_non_negative_float,
    check_positive_float,
    check_positive_int,
)
from zoo.explain.counterfactual_inputs import (
    check_example,
    feature_bounds,
    mutable_mask,
    outputs_are_probabilities,
)
from zoo.explain.counterfactual_losses import dpp_diversity, revert_small_changes, target_log_margin
from zoo.explain.counterfactual_metrics import median_absolute_deviation, predicted_classes

DISTANCES = ("l1", "l2")
# Least gain of log p(target) - max log p(other) over `check_every` steps that counts as progress.
STALL_PROGRESS = 0.01


class CounterfactualNotFoundError(RuntimeError):
    """No valid counterfactual within `max_steps`; `candidates` and `valid` hold the last state."""

    def __init__(self, message, candidates, valid):
        super().__init__(message)
        self.candidates = candidates
        self.valid = valid


def counterfactuals(
    model,
    x,
    target_class: int,
    immutable=None,
    num: int = 1,
    *,
    data=None,
    feature_ranges=None,
    distance: str = "l1",
    diversity_weight: float = 1.0,
    learning_rate: float = 0.05,
    initial_lambda: float = 0.1,
    check_every: int = 10,
    max_steps: int = 1000,
    patience: int = 50,
    margin: float = 0.05,
    from_logits: bool | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Counterfactuals of one example: nearby inputs the classifier assigns to `target_class`.

    Args:
        model: a classifier with one tensor input and `[B, K]` outputs (probabilities or
            logits), or `[B, 1]` for a binary one-unit (sigmoid) model.
        x: the example to explain, `[...features]` or a batch of one, `[1, ...features]`.
            A larger batch is refused: call once per example (each has its own search).
        target_class: the class the counterfactuals must be predicted as; not `x`'s class.
        immutable: flat indices of the features that must not change (age, a sensitive
            attribute); they are copied bit for bit from `x`. Defaults to `None`.
        num: how many counterfactuals; more than one are optimised jointly for diversity.
            Defaults to `1`.
        data: reference data `[N, ...features]` (training rows): its per-feature median
            absolute deviation scales the distances and the steps, and its min and max are the
            feature ranges unless `feature_ranges` is given. Defaults to `None` (unit scale, no
            ranges).
        feature_ranges: `(low, high)`, numbers or arrays broadcastable to `x`'s shape; every
            candidate is clipped into them. Defaults to `None`.
        distance: `"l1"` (sum of MAD-scaled absolute changes; favours changing few features)
            or `"l2"` (sum of squared MAD-scaled changes). Defaults to `"l1"`.
        diversity_weight: weight of DiCE's determinantal diversity term (used when `num > 1`).
            Defaults to `1.0`.
        learning_rate: Adam's step, in MAD units. Defaults to `0.05`.
        initial_lambda: the class-loss weight each candidate starts with; it doubles at a
            check where the candidate is invalid and its margin grew by less than 0.01 since
            the previous check (the minimum at this lambda is not valid). Defaults to `0.1`.
        check_every: steps between two such checks. Defaults to `10`.
        max_steps: the step budget. Defaults to `1000`.
        patience: once every candidate is valid, the search goes on at the same lambdas and
            stops after `patience` steps without a valid set of lower distance (minus the
            diversity term). Defaults to `50`.
        margin: a candidate is valid once `log p(target) - max log p(other) >= margin` (a small
            margin keeps it valid under float round-off). Defaults to `0.05`.
        from_logits: whether the model outputs logits; `None` reads the last layer's
            activation (softmax/sigmoid: probabilities). Defaults to `None`.
        seed: seed of the starting jitter of the candidates (`num > 1`). Defaults to `0`.

    Returns:
        float32 `[num, ...features]`, every row predicted as `target_class`, with the immutable
        features equal to `x`'s and every feature within the ranges.

    Raises:
        ValueError: bad arguments, naming the argument and value (a `target_class` out of range
            or equal to `x`'s prediction, an `x` of the wrong shape, an immutable index out of
            range).
        CounterfactualNotFoundError: when not every candidate is valid after `max_steps`
            (for instance the immutable features or the ranges forbid the target); the error
            holds the last `candidates` and their `valid` flags.

    Example:

    ```python
    found = counterfactuals(model, x_test[0], target_class=1, immutable=[0], num=3,
                            data=x_train)
    counterfactual_metrics(model, x_test[0], found, target_class=1, data=x_train)
    ```
    """
    x = check_example(model, x)
    check_positive_int("num", num)
    check_choice("distance", distance, DISTANCES)
    check_non_negative_float("diversity_weight", diversity_weight)
    check_positive_float("learning_rate", learning_rate)
    check_positive_float("initial_lambda", initial_lambda)
    check_positive_int("check_every", check_every)
    check_positive_int("max_steps", max_steps)
    check_positive_int("patience", patience)
    check_non_negative_float("margin", margin)

    outputs_x = keras.ops.convert_to_numpy(model(x[None], training=False))
    if outputs_x.ndim != 2:
        raise ValueError(
            f"`model` must output [batch, classes]. Received: output shape {outputs_x.shape}"
        )
    num_classes = max(2, outputs_x.shape[-1])
    check_int_in_range(
        "target_class", target_class, 0, num_classes, include_high=False, allow_numpy=True
    )
    target_class = int(target_class)
    if from_logits is None:
        from_logits = not outputs_are_probabilities(model, outputs_x)
    if predicted_classes(outputs_x, from_logits)[0] == target_class:
        raise ValueError(
            "`target_class` must differ from the class the model predicts for `x`. "
            f"Received: target_class={target_class}"
        )

    num_features = x.size
    flat_x = x.reshape(-1)
    scale = median_absolute_deviation(data, x.shape)
    mutable = mutable_mask(immutable, num_features)
    if not mutable.any():
        raise ValueError(f"`immutable` covers every feature. Received: immutable={immutable!r}")
    low, high = feature_bounds(feature_ranges, data, x)
    delta_low, delta_high = (low - flat_x) / scale, (high - flat_x) / scale

    rng = np.random.default_rng(seed)
    # Identical starting points would get identical (zero) diversity gradients.
    jitter = rng.normal(0.0, learning_rate, (num, num_features)) if num > 1 else 0.0
    jitter = np.broadcast_to(jitter, (num, num_features))
    deltas = tf.Variable(np.clip(jitter * mutable, delta_low, delta_high).astype("float32"))
    lambdas = tf.Variable(np.full(num, initial_lambda, "float32"))
    optimizer = keras.optimizers.Adam(learning_rate)
    use_diversity = num > 1 and diversity_weight > 0

    def candidates_of(current):
        moved = tf.clip_by_value(flat_x + current * scale, low, high)
        return tf.where(mutable > 0, moved, flat_x)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            candidates = candidates_of(deltas)
            outputs = model(tf.reshape(candidates, (num, *x.shape)), training=False)
            margins, class_loss = target_log_margin(outputs, target_class, from_logits)
            moved = deltas * mutable
            spread = tf.abs(moved) if distance == "l1" else tf.square(moved)
            objective = tf.reduce_sum(spread)
            if use_diversity:
                objective -= diversity_weight * dpp_diversity(moved)
            loss = tf.reduce_sum(lambdas * class_loss) + objective
        optimizer.apply_gradients([(tape.gradient(loss, deltas) * mutable, deltas)])
        deltas.assign(tf.clip_by_value(deltas, delta_low, delta_high))
        return candidates, margins, objective

    checked_margins = np.full(num, -np.inf, "float32")
    best, best_objective, since_best = None, np.inf, 0
    for step_index in range(max_steps):
        candidates, margins, objective = (t.numpy() for t in step())
        valid = margins >= margin
        # Past the first valid set, keep minimising at the same lambdas (Wachter et al.'s inner
        # minimisation) and keep the best valid set, until `patience` steps bring no better one.
        if valid.all() and objective < best_objective:
            best, best_objective, since_best = candidates, objective, 0
        elif best is not None:
            since_best += 1
            if since_best >= patience:
                break
        if (step_index + 1) % check_every == 0:
            # Raise lambda only where the minimum at this lambda is not valid: the candidate is
            # invalid and no longer progressing towards the target.
            stalled = ~valid & (margins < checked_margins + STALL_PROGRESS)
            lambdas.assign(np.where(stalled, 2.0 * lambdas.numpy(), lambdas.numpy()))
            checked_margins = margins
    if best is None:
        shaped = candidates.reshape((num, *x.shape))
        raise CounterfactualNotFoundError(
            f"No valid counterfactual for target_class={target_class} within "
            f"max_steps={max_steps}: {int(valid.sum())} of {num} candidates reach it. Allow more "
            "steps or a larger learning_rate, or relax `immutable` / `feature_ranges`.",
            shaped,
            valid,
        )

    def is_valid(outputs):
        margins = target_log_margin(tf.constant(outputs), target_class, from_logits)[0]
        return margins.numpy() >= margin

    if distance == "l1":
        best = revert_small_changes(model, x, best, scale, 2 * learning_rate, is_valid)
    return best.reshape((num, *x.shape)).astype("float32")
