"""Triplet loss with in-batch mining: semi-hard, hard and all triplets (FaceNet)."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from layers.validation import check_bool, check_choice, check_non_negative_float
from layers.xla import compiling_with_xla

STRATEGIES = ("semi_hard", "hard", "all")
DISTANCES = ("euclidean", "squared_euclidean", "cosine")


def pairwise_distances(embeddings, distance: str = "euclidean"):
    """`(batch, batch)` distances between the rows of `embeddings`, as TensorFlow Addons does.

    `"euclidean"` and `"squared_euclidean"` use `|a|^2 + |b|^2 - 2 a.b` clipped at 0, with a
    zero diagonal and a square root whose gradient stays finite at 0. `"cosine"` is
    `max(1 - cos(a, b), 1e-16)`.
    """
    check_choice("distance", distance, DISTANCES)
    if distance == "cosine":
        normalized = embeddings / ops.sqrt(
            ops.maximum(ops.sum(ops.square(embeddings), axis=1, keepdims=True), 1e-12)
        )
        return ops.maximum(1.0 - ops.matmul(normalized, ops.transpose(normalized)), 1e-16)
    squared_norms = ops.sum(ops.square(embeddings), axis=1, keepdims=True)
    squared = squared_norms + ops.transpose(squared_norms)
    squared = squared - 2.0 * ops.matmul(embeddings, ops.transpose(embeddings))
    squared = ops.maximum(squared, 0.0)
    zero = ops.cast(squared <= 0.0, squared.dtype)
    if distance == "euclidean":
        # The epsilon only keeps sqrt's gradient finite at 0; the mask removes it again.
        distances = ops.sqrt(squared + zero * 1e-16) * (1.0 - zero)
    else:
        distances = squared
    off_diagonal = 1.0 - ops.eye(ops.shape(embeddings)[0], dtype=distances.dtype)
    return distances * off_diagonal


def masked_maximum(data, mask, axis=-1):
    """Returns the maximum of `data` over `axis` among the entries where `mask` is 1 (kept dims)."""
    # Unselected entries become the row minimum, so an empty row gives the row minimum.
    minimum = ops.min(data, axis=axis, keepdims=True)
    return ops.max((data - minimum) * mask, axis=axis, keepdims=True) + minimum


def masked_minimum(data, mask, axis=-1):
    """Returns the minimum of `data` over `axis` among the entries where `mask` is 1 (kept dims)."""
    # Unselected entries become the row maximum, so an empty row gives the row maximum.
    maximum = ops.max(data, axis=axis, keepdims=True)
    return ops.min((data - maximum) * mask, axis=axis, keepdims=True) + maximum


def _safe_mean(total, count):
    return total / ops.maximum(count, 1.0)


def semi_hard_triplet_loss(labels, distances, margin):
    """FaceNet semi-hard mining, as TensorFlow Addons' `triplet_semihard_loss`.

    For anchor `a` and positive `p` the negative is the closest one farther than `p`
    (`d_an > d_ap`); if there is none, the farthest negative. The loss is the mean of
    `max(margin + d_ap - d_an, 0)` over all ordered positive pairs `a != p`.
    """
    same = ops.cast(ops.expand_dims(labels, 1) == ops.expand_dims(labels, 0), distances.dtype)
    different = 1.0 - same
    # [anchor, positive, negative]: negatives of the anchor farther than the positive.
    farther = ops.cast(
        ops.expand_dims(distances, 1) > ops.expand_dims(distances, 2), distances.dtype
    ) * ops.expand_dims(different, 1)
    anchor_rows = ops.broadcast_to(ops.expand_dims(distances, 1), ops.shape(farther))
    outside = ops.squeeze(masked_minimum(anchor_rows, farther), -1)
    has_outside = ops.sum(farther, axis=-1) > 0.0
    inside = masked_maximum(distances, different)
    negatives = ops.where(has_outside, outside, ops.broadcast_to(inside, ops.shape(outside)))
    positives = same - ops.eye(ops.shape(labels)[0], dtype=distances.dtype)
    losses = ops.maximum((margin + distances - negatives) * positives, 0.0)
    return _safe_mean(ops.sum(losses), ops.sum(positives))


def hard_triplet_loss(labels, distances, margin):
    """Batch-hard mining, as TensorFlow Addons' `triplet_hard_loss`.

    Each anchor takes its farthest positive and closest negative; the loss is the mean over
    anchors of `max(d_ap - d_an + margin, 0)`.
    """
    same = ops.cast(ops.expand_dims(labels, 1) == ops.expand_dims(labels, 0), distances.dtype)
    positives = same - ops.eye(ops.shape(labels)[0], dtype=distances.dtype)
    hardest_negative = masked_minimum(distances, 1.0 - same)
    hardest_positive = masked_maximum(distances, positives)
    return ops.mean(ops.maximum(hardest_positive - hardest_negative + margin, 0.0))


def all_triplet_loss(labels, distances, margin):
    """Batch-all: the mean of `max(d_ap - d_an + margin, 0)` over every valid triplet."""
    same = ops.cast(ops.expand_dims(labels, 1) == ops.expand_dims(labels, 0), distances.dtype)
    positives = same - ops.eye(ops.shape(labels)[0], dtype=distances.dtype)
    valid = ops.expand_dims(positives, 2) * ops.expand_dims(1.0 - same, 1)
    gaps = ops.expand_dims(distances, 2) - ops.expand_dims(distances, 1) + margin
    return _safe_mean(ops.sum(ops.maximum(gaps, 0.0) * valid), ops.sum(valid))


_STRATEGY_FUNCTIONS = {
    "semi_hard": semi_hard_triplet_loss,
    "hard": hard_triplet_loss,
    "all": all_triplet_loss,
}


@keras.saving.register_keras_serializable(package="keras_zoo")
class TripletLoss(keras.losses.Loss):
    """Triplet loss over a batch of labelled embeddings, with the triplets mined in the batch.

    Every example is an anchor; positives share its label, negatives do not. The loss pushes
    `d(anchor, positive) + margin` below `d(anchor, negative)`:

    - `"semi_hard"` (FaceNet): for each anchor-positive pair, the closest negative that is
      still farther than the positive (the farthest negative when none is). Same values as
      TensorFlow Addons' `TripletSemiHardLoss`.
    - `"hard"` (batch hard): for each anchor, its farthest positive and closest negative.
      Same values as TensorFlow Addons' `TripletHardLoss`.
    - `"all"` (batch all): the mean over every valid (anchor, positive, negative) triplet.

    The loss is computed for the whole batch, so batches should hold several examples per
    class. An anchor-positive set that is empty gives a loss of 0 (TFA's semi-hard loss gives
    NaN there). Half-precision predictions are computed in float32.

    The distances and the mining run as one XLA-compiled function (`jit_compile=True`, the
    default) even when the training step is not compiled with XLA, Keras's default on CPUs:
    the `batch x batch` masks and reductions fuse, which makes the semi-hard loss about twice
    as fast as TensorFlow's op-by-op kernels (`benchmarks/bench_tfa.py`). Inside a step that
    is already compiled with XLA the loss is simply part of it. XLA compiles once per batch
    size.

    Args:
        margin: non-negative float, the margin between positive and negative distances.
            Defaults to `1.0`.
        strategy: `"semi_hard"`, `"hard"` or `"all"`. Defaults to `"semi_hard"`.
        distance: `"euclidean"` (TFA's `"L2"`, its default), `"squared_euclidean"` (TFA's
            `"squared-L2"`) or `"cosine"` (TFA's `"angular"`, `1 - cos`). Defaults to
            `"euclidean"`.
        reduction: keras loss reduction (the batch loss is already a scalar). Defaults to
            `"sum_over_batch_size"`.
        name: name of the loss. Defaults to `"triplet_loss"`.
        dtype: dtype of the computation. Defaults to `None` (`keras.backend.floatx()`).
        jit_compile: compile the loss's own computation with XLA. Defaults to `True`.

    Call arguments:
        y_true: integer labels `(batch,)` or `(batch, 1)`.
        y_pred: embeddings `(batch, dim)`, usually L2-normalised.

    Example:

    ```python
    model.compile(optimizer="adam", loss=TripletLoss(margin=0.5, strategy="semi_hard"))
    model.fit(images, labels, batch_size=64)
    ```

    References:
        Schroff, Kalenichenko, Philbin, "FaceNet: A Unified Embedding for Face Recognition and
        Clustering", CVPR 2015. Hermans, Beyer, Leibe, "In Defense of the Triplet Loss for
        Person Re-Identification", 2017.
    """

    def __init__(
        self,
        margin: float = 1.0,
        strategy: str = "semi_hard",
        distance: str = "euclidean",
        reduction: str = "sum_over_batch_size",
        name: str = "triplet_loss",
        dtype=None,
        jit_compile: bool = True,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.margin = check_non_negative_float("margin", margin)
        self.strategy = check_choice("strategy", strategy, STRATEGIES)
        self.distance = check_choice("distance", distance, DISTANCES)
        self.jit_compile = check_bool("jit_compile", jit_compile)
        self._dtype_argument = dtype
        self._compiled_batch_loss = tf.function(self._batch_loss, jit_compile=True)

    def call(self, y_true, y_pred):
        if len(y_pred.shape) != 2:
            raise ValueError(
                "`y_pred` must be embeddings of shape (batch, dim). "
                f"Received: y_pred.shape={tuple(y_pred.shape)}"
            )
        labels = ops.reshape(y_true, (-1,))
        if self.jit_compile and not compiling_with_xla():
            return self._compiled_batch_loss(labels, y_pred)
        return self._batch_loss(labels, y_pred)

    def _batch_loss(self, labels, embeddings):
        distances = pairwise_distances(embeddings, self.distance)
        return _STRATEGY_FUNCTIONS[self.strategy](labels, distances, self.margin)

    def get_config(self):
        return {
            **super().get_config(),
            "margin": self.margin,
            "strategy": self.strategy,
            "distance": self.distance,
            "dtype": self._dtype_argument,
            "jit_compile": self.jit_compile,
        }
