"""NT-Xent, the normalized temperature-scaled cross-entropy of SimCLR (InfoNCE)."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_positive_float


@keras.saving.register_keras_serializable(package="keras_zoo")
class NTXentLoss(keras.losses.Loss):
    """SimCLR's contrastive loss over a batch of paired views.

    `y_pred` holds two views of each of `N` examples, shape `(N, 2, dim)`: `y_pred[:, 0]` and
    `y_pred[:, 1]`. The `2N` embeddings are L2-normalised; for each one, its other view is the
    positive and the other `2N - 2` embeddings are negatives:

    `loss_i = -log(exp(sim(i, j(i)) / t) / sum_{k != i} exp(sim(i, k) / t))`

    with cosine similarity `sim` and temperature `t`, averaged over all `2N` embeddings.
    `y_true` is ignored (pass e.g. zeros of shape `(N,)`); the pairing is the label.

    Args:
        temperature: positive float, the softmax temperature. Defaults to `0.1`.
        reduction: keras loss reduction (the batch loss is already a scalar). Defaults to
            `"sum_over_batch_size"`.
        name: name of the loss. Defaults to `"nt_xent_loss"`.
        dtype: dtype of the computation. Defaults to `None` (`keras.backend.floatx()`).

    Example:

    ```python
    view_a, view_b = keras.Input((32,)), keras.Input((32,))
    encoder = keras.Sequential([keras.layers.Dense(64, "relu"), keras.layers.Dense(16)])
    paired = keras.ops.stack([encoder(view_a), encoder(view_b)], axis=1)  # (N, 2, 16)
    model = keras.Model([view_a, view_b], paired)
    model.compile("adam", loss=NTXentLoss(temperature=0.1))
    model.fit([augment(x), augment(x)], np.zeros(len(x)), batch_size=256)
    ```

    References:
        Chen, Kornblith, Norouzi, Hinton, "A Simple Framework for Contrastive Learning of
        Visual Representations", ICML 2020. van den Oord, Li, Vinyals, "Representation
        Learning with Contrastive Predictive Coding", 2018.
    """

    def __init__(
        self,
        temperature: float = 0.1,
        reduction: str = "sum_over_batch_size",
        name: str = "nt_xent_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.temperature = check_positive_float("temperature", temperature)
        self._dtype_argument = dtype

    def call(self, y_true, y_pred):
        if len(y_pred.shape) != 3 or y_pred.shape[1] != 2:
            raise ValueError(
                "`y_pred` must hold two views per example, shape (batch, 2, dim). "
                f"Received: y_pred.shape={tuple(y_pred.shape)}"
            )
        views = ops.concatenate([y_pred[:, 0], y_pred[:, 1]], axis=0)
        views = views / ops.sqrt(
            ops.maximum(ops.sum(ops.square(views), axis=1, keepdims=True), 1e-12)
        )
        logits = ops.matmul(views, ops.transpose(views)) / self.temperature
        count = ops.shape(views)[0]
        half = count // 2
        # An embedding is not its own negative: push its self-similarity out of the softmax.
        logits = logits - 1e9 * ops.eye(count, dtype=logits.dtype)
        partner = ops.concatenate([ops.arange(half) + half, ops.arange(half)], axis=0)
        positive = ops.take_along_axis(logits, ops.expand_dims(partner, 1), axis=1)[:, 0]
        return ops.mean(ops.logsumexp(logits, axis=1) - positive)

    def get_config(self):
        return {
            **super().get_config(),
            "temperature": self.temperature,
            "dtype": self._dtype_argument,
        }
