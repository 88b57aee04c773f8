"""Lifted structured embedding loss (Oh Song et al. 2016)."""

from __future__ import annotations

import keras
from keras import ops

from layers.losses.triplet import pairwise_distances
from layers.validation import check_non_negative_float


def _check_embeddings(embeddings):
    if len(embeddings.shape) != 2:
        raise ValueError(
            "`embeddings` must be of shape (batch, dim). "
            f"Received: embeddings.shape={tuple(embeddings.shape)}"
        )


def lifted_struct_loss(labels, embeddings, margin: float = 1.0):
    """Lifted structured loss, as TensorFlow Addons' `tfa.losses.lifted_struct_loss`.

    For every positive pair `(i, j)` the loss is `max(d_ij + log(sum_{k neg of i} exp(margin -
    d_ik) + sum_{k neg of j} exp(margin - d_jk)), 0) ** 2`, a smooth form of "closer than every
    negative by the margin"; the result is a quarter of their sum over ordered positive pairs,
    divided by the number of unordered positive pairs. The log-sum-exp is shifted by the
    larger of the two rows' maxima for stability. Half-precision embeddings are computed in
    float32 and the result cast back. Memory grows as `batch ** 3`.

    Args:
        labels: integer class ids `(batch,)` or `(batch, 1)`.
        embeddings: `(batch, dim)` embeddings, not L2-normalised.
        margin: the margin. Defaults to `1.0`.

    Returns:
        The loss, a scalar.

    Example:

    ```python
    lifted_struct_loss([0, 0, 1, 1], embeddings, margin=1.0)
    ```

    Reference:
        Oh Song, Xiang, Jegelka, Savarese, "Deep Metric Learning via Lifted Structured Feature
        Embedding", CVPR 2016.
    """
    embeddings = ops.convert_to_tensor(embeddings)
    _check_embeddings(embeddings)
    out_dtype = embeddings.dtype
    if out_dtype in ("float16", "bfloat16"):
        embeddings = ops.cast(embeddings, "float32")
    dtype = embeddings.dtype
    labels = ops.reshape(labels, (-1, 1))
    distances = pairwise_distances(embeddings, "euclidean")
    same = ops.cast(labels == ops.transpose(labels), dtype)
    negatives = 1.0 - same
    gaps = margin - distances
    # The largest negative gap of each row, then of each pair of rows (the stabilising shift).
    row_minimum = ops.min(gaps, axis=1, keepdims=True)
    row_maximum = ops.max((gaps - row_minimum) * negatives, axis=1, keepdims=True) + row_minimum
    shift = ops.maximum(row_maximum, ops.transpose(row_maximum))
    # sums[a, b] = sum over negatives k of b of exp(gaps[b, k] - shift[a, b]).
    shifted = ops.expand_dims(gaps, 0) - ops.expand_dims(shift, 2)
    sums = ops.sum(ops.exp(shifted) * ops.expand_dims(negatives, 0), axis=2)
    pair_losses = shift + ops.log(sums + ops.transpose(sums)) + distances
    positives = same - ops.eye(ops.shape(labels)[0], dtype=dtype)
    total = ops.sum(ops.square(ops.maximum(pair_losses * positives, 0.0)))
    loss = 0.25 * total / (ops.sum(positives) / 2.0)
    return ops.cast(loss, out_dtype)


@keras.saving.register_keras_serializable(package="keras_zoo")
class LiftedStructLoss(keras.losses.Loss):
    """Lifted structured loss, TensorFlow Addons' `LiftedStructLoss` (see `lifted_struct_loss`).

    Pulls embeddings of the same label together and keeps them closer than every negative in
    the batch by `margin`, through a smooth maximum over all negatives.

    Args:
        margin: non-negative float, the margin. Defaults to `1.0`.
        name: name of the loss. Defaults to `"lifted_struct_loss"`.
        reduction: keras loss reduction (the loss is already a scalar). Defaults to `"none"`
            (TFA's).
        dtype: dtype of the computation. Defaults to `None` (`keras.backend.floatx()`).

    Call arguments:
        y_true: integer labels `(batch,)` or `(batch, 1)`.
        y_pred: embeddings `(batch, dim)`.

    Example:

    ```python
    model.compile("adam", loss=LiftedStructLoss(margin=1.0))
    ```

    Reference:
        Oh Song, Xiang, Jegelka, Savarese, "Deep Metric Learning via Lifted Structured Feature
        Embedding", CVPR 2016.
    """

    def __init__(
        self,
        margin: float = 1.0,
        name: str = "lifted_struct_loss",
        reduction: str = "none",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.margin = check_non_negative_float("margin", margin)
        self._dtype_argument = dtype

    def call(self, y_true, y_pred):
        return lifted_struct_loss(y_true, y_pred, self.margin)

    def get_config(self):
        return {**super().get_config(), "margin": self.margin, "dtype": self._dtype_argument}
