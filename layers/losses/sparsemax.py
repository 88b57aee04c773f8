"""Sparsemax loss: the multi-label loss whose gradient is `sparsemax(z) - labels` (Martins and
Astudillo 2016)."""

from __future__ import annotations

import keras
from keras import ops

from layers.activation_layers.sparsemax import sparsemax as sparsemax_activation
from layers.validation import check_bool


def sparsemax_loss(logits, sparsemax, labels, name=None):
    """Sparsemax loss per example, as TensorFlow Addons' `tfa.losses.sparsemax_loss`.

    `sum_j [p_j > 0] p_j (z_j - p_j / 2) + sum_j q_j (q_j / 2 - z_j)` for logits `z`, their
    sparsemax `p` and target distribution `q`, summed over the last axis (written with `p`
    instead of the threshold `tau`; the same value). An infinite logit with a zero label
    contributes 0 to the second sum, as in TFA.

    Args:
        logits: logits `(batch, num_classes)`.
        sparsemax: `sparsemax(logits)`, the same shape.
        labels: target distributions (e.g. one-hot) of the same shape.
        name: unused, kept for TFA's signature.

    Returns:
        The loss per example, shape `(batch,)`.

    Example:

    ```python
    z = keras.ops.array([[1.0, 2.0, 0.5]])
    sparsemax_loss(z, layers.activations.sparsemax(z), keras.ops.array([[0.0, 1.0, 0.0]]))
    ```

    Reference:
        Martins, Astudillo, "From Softmax to Sparsemax: A Sparse Model of Attention and
        Multi-Label Classification", ICML 2016. https://arxiv.org/abs/1602.02068
    """
    del name
    logits = ops.convert_to_tensor(logits)
    sparsemax = ops.cast(sparsemax, logits.dtype)
    labels = ops.cast(labels, logits.dtype)
    if len(logits.shape) != 2:
        raise ValueError(
            "`logits` must be of shape (batch, num_classes). "
            f"Received: logits.shape={tuple(logits.shape)}"
        )
    in_support = ops.logical_or(sparsemax > 0, ops.isnan(sparsemax))
    support_part = ops.where(
        in_support, sparsemax * (logits - 0.5 * sparsemax), ops.zeros_like(sparsemax)
    )
    label_part = labels * (0.5 * labels - logits)
    label_part = ops.where(
        ops.logical_and(labels == 0, ops.isinf(logits)), ops.zeros_like(logits), label_part
    )
    return ops.sum(support_part + label_part, axis=1)


def sparsemax_loss_from_logits(y_true, logits_pred):
    """`sparsemax_loss(logits_pred, sparsemax(logits_pred), y_true)`, TFA's helper of that name."""
    # `+ 0.0` reads a variable into a tensor: `ops.convert_to_tensor` returns a `tf.Variable`
    # as it is, and `ops.moveaxis` (inside `sparsemax`) fails on one.
    logits_pred = ops.convert_to_tensor(logits_pred) + 0.0
    return sparsemax_loss(logits_pred, sparsemax_activation(logits_pred), y_true)


@keras.saving.register_keras_serializable(package="keras_zoo")
class SparsemaxLoss(keras.losses.Loss):
    """Sparsemax loss on logits, TensorFlow Addons' `SparsemaxLoss` (see `sparsemax_loss`).

    The sparsemax counterpart of softmax cross-entropy: train logits with it and predict with
    `layers.activations.sparsemax`. The loss needs the logits, so `from_logits` must be `True`.

    Args:
        from_logits: must be `True` (TFA's only accepted value). Defaults to `True`.
        reduction: keras loss reduction. Defaults to `"sum_over_batch_size"`.
        name: name of the loss. Defaults to `"sparsemax_loss"`.
        dtype: dtype of the computation. Defaults to `None` (`keras.backend.floatx()`).

    Call arguments:
        y_true: target distributions `(batch, num_classes)` (e.g. one-hot).
        y_pred: logits `(batch, num_classes)`.

    Example:

    ```python
    model.compile("adam", loss=SparsemaxLoss())
    ```

    Reference:
        Martins, Astudillo, "From Softmax to Sparsemax: A Sparse Model of Attention and
        Multi-Label Classification", ICML 2016. https://arxiv.org/abs/1602.02068
    """

    def __init__(
        self,
        from_logits: bool = True,
        reduction: str = "sum_over_batch_size",
        name: str = "sparsemax_loss",
        dtype=None,
    ):
        if check_bool("from_logits", from_logits) is not True:
            raise ValueError(
                "`from_logits` must be True: the sparsemax loss needs the logits. "
                f"Received: from_logits={from_logits!r}"
            )
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = from_logits
        self._dtype_argument = dtype

    def call(self, y_true, y_pred):
        return sparsemax_loss_from_logits(y_true, y_pred)

    def get_config(self):
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "dtype": self._dtype_argument,
        }
