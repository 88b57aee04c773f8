"""N-pair losses over a similarity matrix, single- and multi-label (Sohn 2016)."""

from __future__ import annotations

import keras
from keras import ops


def _check_similarity(y_pred):
    if len(y_pred.shape) != 2:
        raise ValueError(
            "`y_pred` must be a (batch, batch) similarity matrix. "
            f"Received: y_pred.shape={tuple(y_pred.shape)}"
        )


def _soft_target_cross_entropy(targets, logits):
    """Mean over rows of the cross-entropy between row-normalised `targets` and `logits`."""
    targets = targets / ops.sum(targets, axis=1, keepdims=True)
    return ops.mean(-ops.sum(targets * ops.log_softmax(logits, axis=1), axis=1))


def npairs_loss(y_true, y_pred):
    """N-pair loss, as TensorFlow Addons' `tfa.losses.npairs_loss`.

    Each row `i` of the similarity matrix is the logits of a softmax whose target spreads
    evenly over the columns `j` with `y_true[j] == y_true[i]`.

    Args:
        y_true: integer class ids `(batch,)`.
        y_pred: similarities `(batch, batch)`, e.g. `anchors @ positives.T`.

    Returns:
        The mean cross-entropy over rows, a scalar.

    Example:

    ```python
    npairs_loss([0, 1, 2], anchors @ ops.transpose(positives))
    ```

    Reference:
        Sohn, "Improved Deep Metric Learning with Multi-class N-pair Loss Objective",
        NeurIPS 2016.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    _check_similarity(y_pred)
    labels = ops.reshape(ops.cast(y_true, y_pred.dtype), (-1, 1))
    same = ops.cast(labels == ops.transpose(labels), y_pred.dtype)
    return _soft_target_cross_entropy(same, y_pred)


def npairs_multilabel_loss(y_true, y_pred):
    """Multi-label N-pair loss, as TensorFlow Addons' `tfa.losses.npairs_multilabel_loss`.

    The target of row `i` is proportional to the number of labels that examples `i` and `j`
    share (a row that shares none, not even with itself, gives NaN, as in TFA).

    Args:
        y_true: binary indicators `(batch, num_classes)`.
        y_pred: similarities `(batch, batch)`.

    Returns:
        The mean cross-entropy over rows, a scalar.

    Example:

    ```python
    npairs_multilabel_loss([[1, 0, 1], [0, 1, 0], [1, 1, 0]], similarities)
    ```

    Reference:
        Sohn, "Improved Deep Metric Learning with Multi-class N-pair Loss Objective",
        NeurIPS 2016.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    _check_similarity(y_pred)
    indicators = ops.cast(y_true, y_pred.dtype)
    if len(indicators.shape) != 2:
        raise ValueError(
            "`y_true` must be label indicators of shape (batch, num_classes). "
            f"Received: y_true.shape={tuple(indicators.shape)}"
        )
    shared = ops.matmul(indicators, ops.transpose(indicators))
    return _soft_target_cross_entropy(shared, y_pred)


@keras.saving.register_keras_serializable(package="keras_zoo")
class NpairsLoss(keras.losses.Loss):
    """N-pair loss, TensorFlow Addons' `NpairsLoss` (see `npairs_loss`).

    Args:
        name: name of the loss. Defaults to `"npairs_loss"`.
        reduction: keras loss reduction (the loss is already a scalar). Defaults to `"none"`
            (TFA's).
        dtype: dtype of the computation. Defaults to `None` (`keras.backend.floatx()`).

    Call arguments:
        y_true: integer class ids `(batch,)`.
        y_pred: similarities `(batch, batch)`.

    Example:

    ```python
    NpairsLoss()([0, 1, 0], [[2.0, 0.1, 1.5], [0.3, 1.0, 0.2], [1.2, 0.0, 2.2]])
    ```

    Reference:
        Sohn, "Improved Deep Metric Learning with Multi-class N-pair Loss Objective",
        NeurIPS 2016.
    """

    def __init__(self, name: str = "npairs_loss", reduction: str = "none", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._dtype_argument = dtype

    def call(self, y_true, y_pred):
        return npairs_loss(y_true, y_pred)

    def get_config(self):
        return {**super().get_config(), "dtype": self._dtype_argument}


@keras.saving.register_keras_serializable(package="keras_zoo")
class NpairsMultilabelLoss(keras.losses.Loss):
    """Multi-label N-pair loss, TensorFlow Addons' `NpairsMultilabelLoss`.

    See `npairs_multilabel_loss`.

    Args:
        name: name of the loss. Defaults to `"npairs_multilabel_loss"`.
        reduction: keras loss reduction (the loss is already a scalar). Defaults to `"none"`
            (TFA's).
        dtype: dtype of the computation. Defaults to `None` (`keras.backend.floatx()`).

    Call arguments:
        y_true: binary indicators `(batch, num_classes)`.
        y_pred: similarities `(batch, batch)`.

    Example:

    ```python
    NpairsMultilabelLoss()([[1, 0], [0, 1], [1, 1]], similarities)
    ```

    Reference:
        Sohn, "Improved Deep Metric Learning with Multi-class N-pair Loss Objective",
        NeurIPS 2016.
    """

    def __init__(self, name: str = "npairs_multilabel_loss", reduction: str = "none", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._dtype_argument = dtype

    def call(self, y_true, y_pred):
        return npairs_multilabel_loss(y_true, y_pred)

    def get_config(self):
        return {**super().get_config(), "dtype": self._dtype_argument}
