"""The terms of the counterfactual search's loss, and its post-hoc sparsity step."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


def target_log_margin(outputs, target_class, from_logits):
    """Per candidate: log p(target) - max log p(other), and the loss -log p(target)."""
    outputs = tf.cast(outputs, "float32")
    if outputs.shape[-1] == 1:
        if from_logits:
            logit = outputs[:, 0]
        else:
            p = tf.clip_by_value(outputs[:, 0], 1e-7, 1 - 1e-7)
            logit = tf.math.log(p) - tf.math.log1p(-p)
        signed = logit if target_class == 1 else -logit
        return signed, tf.nn.softplus(-signed)
    log_probs = (
        tf.nn.log_softmax(outputs) if from_logits else tf.math.log(tf.maximum(outputs, 1e-7))
    )
    target = log_probs[:, target_class]
    others = tf.concat([log_probs[:, :target_class], log_probs[:, target_class + 1 :]], -1)
    return target - tf.reduce_max(others, -1), -target


def dpp_diversity(deltas):
    """DiCE's diversity of `[num, F]` MAD-scaled changes: det(1 / (1 + pairwise L1 distance))."""
    distances = tf.reduce_sum(tf.abs(deltas[:, None] - deltas[None]), -1)
    return tf.linalg.det(1.0 / (1.0 + distances))


def revert_small_changes(model, x, candidates, scale, threshold, is_valid):
    """Puts changes below `threshold` MAD back to `x`, smallest first, while candidates stay valid.

    Adam moves every coordinate by about one learning rate per step, so the features the L1 term
    holds at `x` jitter around it instead of sitting on it; this restores the sparsity of the
    optimum (DiCE's post-hoc sparsity step, limited to changes of the size of that jitter).
    All candidates are tried together: one model call per reverted rank.
    """
    flat_x = x.reshape(-1)
    candidates = candidates.copy()
    changes = np.abs(candidates - flat_x) / scale
    small = (changes > 0) & (changes < threshold)
    order = np.argsort(np.where(small, changes, np.inf), axis=-1)
    rows = np.arange(len(candidates))
    for rank in range(int(small.sum(-1).max(initial=0))):
        features = order[:, rank]
        trying = small[rows, features]
        trial = candidates.copy()
        trial[rows[trying], features[trying]] = flat_x[features[trying]]
        outputs = model(trial.reshape((len(trial), *x.shape)), training=False)
        keep = trying & is_valid(keras.ops.convert_to_numpy(outputs))
        candidates[keep] = trial[keep]
    return candidates
