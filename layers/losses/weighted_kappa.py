"""Weighted kappa loss for ordinal classification (de la Torre, Puig, Valls 2018)."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from layers.validation import check_choice, check_positive_float, check_positive_int

KAPPA_WEIGHTINGS = ("linear", "quadratic")


@keras.saving.register_keras_serializable(package="keras_zoo")
class WeightedKappaLoss(keras.losses.Loss):
    """`log(1 - kappa + epsilon)` over the batch, TensorFlow Addons' `WeightedKappaLoss`.

    Cohen's weighted kappa of the soft predictions, in the form `1 - kappa = observed /
    expected`: `observed = sum_i sum_c w(label_i, c) p_ic`, `expected = sum_{a,c} n_a w(a, c)
    m_c / batch`, with `n` the label counts, `m` the summed predictions and `w(a, c)` equal to
    `|a - c|` (`"linear"`) or `(a - c) ** 2` (`"quadratic"`). The loss lies in
    `[log(epsilon), log(2 + epsilon)]`; lower is better. To weight examples, scale their
    predictions (as in TFA: the default reduction is `"none"` on a scalar).

    Args:
        num_classes: number of ordered classes.
        weightage: `"linear"` or `"quadratic"`. Defaults to `"quadratic"`.
        name: name of the loss. Defaults to `"cohen_kappa_loss"`.
        epsilon: positive number added inside the logarithm. Defaults to `1e-6`.
        reduction: keras loss reduction (the loss is already a scalar). Defaults to `"none"`.
        dtype: dtype of the computation. Defaults to `None` (`keras.backend.floatx()`).

    Call arguments:
        y_true: one-hot labels `(batch, num_classes)`.
        y_pred: class probabilities `(batch, num_classes)` (softmax outputs).

    Example:

    ```python
    loss = WeightedKappaLoss(num_classes=4)
    loss([[0, 0, 1, 0], [0, 1, 0, 0]], [[0.1, 0.2, 0.6, 0.1], [0.1, 0.5, 0.3, 0.1]])
    ```

    Reference:
        de la Torre, Puig, Valls, "Weighted kappa loss function for multi-class classification
        of ordinal data in deep learning", Pattern Recognition Letters 2018.
    """

    def __init__(
        self,
        num_classes: int,
        weightage: str = "quadratic",
        name: str = "cohen_kappa_loss",
        epsilon: float = 1e-6,
        reduction: str = "none",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.weightage = check_choice("weightage", weightage, KAPPA_WEIGHTINGS)
        # TFA replaced a falsy epsilon by keras's epsilon.
        epsilon = epsilon or keras.config.epsilon()
        self.epsilon = check_positive_float("epsilon", epsilon)
        self._dtype_argument = dtype

    def _weights(self, labels, classes):
        difference = labels - classes
        return ops.abs(difference) if self.weightage == "linear" else ops.square(difference)

    def call(self, y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)
        if y_pred.shape[-1] != self.num_classes or len(y_pred.shape) != 2:
            raise ValueError(
                f"`y_pred` must be of shape (batch, num_classes={self.num_classes}). "
                f"Received: y_pred.shape={tuple(y_pred.shape)}"
            )
        y_true = ops.cast(y_true, y_pred.dtype)
        classes = ops.convert_to_tensor(np.arange(self.num_classes), dtype=y_pred.dtype)
        label_ids = ops.sum(y_true * classes, axis=1, keepdims=True)
        observed = ops.sum(self._weights(label_ids, classes) * y_pred)
        pair_weights = self._weights(ops.expand_dims(classes, 1), classes)
        label_counts = ops.sum(y_true, axis=0)
        prediction_mass = ops.sum(y_pred, axis=0)
        batch = ops.cast(ops.shape(y_true)[0], y_pred.dtype)
        expected = ops.sum(label_counts[:, None] * pair_weights * prediction_mass[None, :]) / batch
        safe = ops.where(expected == 0.0, ops.ones_like(expected), expected)
        ratio = ops.where(expected == 0.0, ops.zeros_like(observed), observed / safe)
        return ops.log(ratio + self.epsilon)

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "weightage": self.weightage,
            "epsilon": self.epsilon,
            "dtype": self._dtype_argument,
        }
