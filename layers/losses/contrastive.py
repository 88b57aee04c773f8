"""Contrastive loss for pairs (Hadsell, Chopra, LeCun 2006)."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_non_negative_float


@keras.saving.register_keras_serializable(package="keras_zoo")
class ContrastiveLoss(keras.losses.Loss):
    """Contrastive loss over pair distances: pull similar pairs together, push others apart.

    For a pair with distance `d` and label `y` (1 similar, 0 dissimilar) the loss is
    `y * d ** 2 + (1 - y) * max(margin - d, 0) ** 2`, averaged over the batch (with the default
    reduction). This is TensorFlow Addons' `ContrastiveLoss`.

    Args:
        margin: non-negative float, dissimilar pairs closer than this are penalised.
            Defaults to `1.0`.
        reduction: keras loss reduction. Defaults to `"sum_over_batch_size"`.
        name: name of the loss. Defaults to `"contrastive_loss"`.
        dtype: dtype of the computation. Defaults to `None` (`keras.backend.floatx()`).

    Call arguments:
        y_true: `(batch,)` or `(batch, 1)`, 1 for similar pairs and 0 for dissimilar ones.
        y_pred: distances of the same shape, e.g. the Euclidean distance of two embeddings.

    Example:

    ```python
    loss = ContrastiveLoss(margin=1.0)
    loss([1, 0], [0.2, 0.5])  # (0.2 ** 2 + 0.5 ** 2) / 2 = 0.145
    ```

    Reference:
        Hadsell, Chopra, LeCun, "Dimensionality Reduction by Learning an Invariant Mapping",
        CVPR 2006.
    """

    def __init__(
        self,
        margin: float = 1.0,
        reduction: str = "sum_over_batch_size",
        name: str = "contrastive_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.margin = check_non_negative_float("margin", margin)
        self._dtype_argument = dtype

    def call(self, y_true, y_pred):
        y_true = ops.reshape(ops.cast(y_true, y_pred.dtype), ops.shape(y_pred))
        similar = y_true * ops.square(y_pred)
        dissimilar = (1.0 - y_true) * ops.square(ops.maximum(self.margin - y_pred, 0.0))
        return similar + dissimilar

    def get_config(self):
        return {**super().get_config(), "margin": self.margin, "dtype": self._dtype_argument}
