"""Multi-label scores: Hamming distance and loss, and the per-label confusion matrix.

TensorFlow Addons' `tfa.metrics.hamming_distance`, `hamming_loss_fn`, `HammingLoss` and
`MultiLabelConfusionMatrix`, with TFA's names, arguments and numbers, written with `keras.ops`.
"""

from __future__ import annotations

import warnings

import keras
from keras import ops

from layers.validation import check_choice, check_positive_int

HAMMING_MODES = ("multiclass", "multilabel")


@keras.saving.register_keras_serializable(package="keras_zoo")
def hamming_distance(actuals, predictions):
    """The fraction of positions where two binary vectors differ.

    As in TFA, the count of differing elements is divided by the length of the first axis (for
    a vector, its length), 0 for empty input.

    Args:
        actuals: the true values, a tensor.
        predictions: the predicted values, the same shape.

    Returns:
        A float32 scalar.

    Example:

    ```python
    hamming_distance([1, 1, 0, 0, 1, 0, 1, 0, 0, 1], [1, 0, 0, 0, 1, 0, 0, 1, 0, 1])  # 0.3
    ```

    Reference:
        Hamming, "Error detecting and error correcting codes", Bell System Technical Journal
        29(2), 1950.
    """
    different = ops.not_equal(ops.convert_to_tensor(actuals), ops.convert_to_tensor(predictions))
    count = ops.sum(ops.cast(different, "float32"))
    return ops.divide_no_nan(count, ops.cast(ops.shape(different)[0], "float32"))


def _binarize(y_pred, threshold):
    """TFA's rule: `y_pred > threshold`, or, with `threshold=None`, each row's maximum (when
    not zero)."""
    if threshold is None:
        row_max = ops.max(y_pred, axis=-1, keepdims=True)
        return ops.logical_and(y_pred >= row_max, ops.abs(y_pred) > 1e-12)
    return y_pred > threshold


@keras.saving.register_keras_serializable(package="keras_zoo")
def hamming_loss_fn(y_true, y_pred, threshold, mode: str):
    """The Hamming loss of each example: the fraction of its labels predicted wrong.

    `mode="multiclass"`: 0 when the predicted class is a true class, else 1.
    `mode="multilabel"`: the number of labels where prediction and truth differ, divided by the
    number of labels.

    Args:
        y_true: 0/1 labels, `(batch, num_labels)`.
        y_pred: scores, `(batch, num_labels)`.
        threshold: scores above it are predicted 1; `None` predicts each row's arg-max.
        mode: `"multiclass"` or `"multilabel"`.

    Returns:
        A float32 tensor `(batch,)`.

    Example:

    ```python
    hamming_loss_fn([[1, 0, 1, 0]], [[0.82, 0.5, 0.90, 0.0]], threshold=0.8, mode="multilabel")
    # [0.0]
    ```
    """
    check_choice("mode", mode, HAMMING_MODES)
    y_true = ops.convert_to_tensor(y_true)
    y_pred = ops.convert_to_tensor(y_pred)
    predicted = ops.cast(_binarize(y_pred, threshold), "int32")
    y_true = ops.cast(y_true, "int32")
    if mode == "multiclass":
        hits = ops.count_nonzero(y_true * predicted, axis=-1)
        return 1.0 - ops.cast(hits, "float32")
    misses = ops.cast(ops.count_nonzero(y_true - predicted, axis=-1), "float32")
    return misses / y_true.shape[-1]


@keras.saving.register_keras_serializable(package="keras_zoo")
class HammingLoss(keras.metrics.Mean):
    """The mean Hamming loss (`hamming_loss_fn`) over every example seen.

    Weighted by `sample_weight` (one per example) like `keras.metrics.Mean`; inputs are cast to
    the metric's dtype first, as TFA's did.

    Args:
        mode: `"multiclass"` or `"multilabel"`.
        name: metric name. Defaults to `"hamming_loss"`.
        threshold: scores above it are predicted 1; `None` predicts each row's arg-max. Defaults
            to `None`.
        dtype: dtype of the state and result. Defaults to `None` (float32).

    Example:

    ```python
    metric = HammingLoss(mode="multilabel", threshold=0.8)
    metric.update_state([[1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 0, 1]],
                        [[0.82, 0.5, 0.9, 0], [0, 1, 0.4, 0.98], [0.89, 0.79, 0, 0.3]])
    float(metric.result())  # 0.16666667
    ```
    """

    def __init__(
        self, mode: str, name: str = "hamming_loss", threshold: float | None = None, dtype=None
    ):
        super().__init__(name=name, dtype=dtype)
        self.mode = check_choice("mode", mode, HAMMING_MODES)
        if threshold is not None and (
            isinstance(threshold, bool) or not isinstance(threshold, int | float)
        ):
            raise TypeError(
                f"`threshold` must be a number or None. Received: threshold={threshold!r}"
            )
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, self.dtype)
        y_pred = ops.cast(y_pred, self.dtype)
        losses = hamming_loss_fn(y_true, y_pred, self.threshold, self.mode)
        return super().update_state(losses, sample_weight=sample_weight)

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "mode": self.mode,
            "threshold": self.threshold,
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class MultiLabelConfusionMatrix(keras.metrics.Metric):
    """One 2 x 2 confusion matrix per label, accumulated over every batch.

    `result()` has shape `(num_classes, 2, 2)`; for label `i`, `[[TN, FP], [FN, TP]]`
    (scikit-learn's `multilabel_confusion_matrix` layout). `y_true` and `y_pred` are 0/1
    `(batch, num_classes)` (one-hot multi-class input is read as multi-label). As in TFA,
    `sample_weight` is not used (a warning says so).

    Args:
        num_classes: the number of labels, a positive integer.
        name: metric name. Defaults to `"Multilabel_confusion_matrix"` (TFA's).
        dtype: dtype of the state and result. Defaults to `None` (float32).

    Example:

    ```python
    metric = MultiLabelConfusionMatrix(num_classes=3)
    metric.update_state([[1, 0, 1], [0, 1, 0]], [[1, 0, 0], [0, 1, 1]])
    metric.result()  # [[[1, 0], [0, 1]], [[1, 0], [0, 1]], [[0, 1], [1, 0]]]
    ```
    """

    def __init__(self, num_classes: int, name: str = "Multilabel_confusion_matrix", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.true_positives, self.false_positives, self.false_negatives, self.true_negatives = (
            self.add_variable((num_classes,), initializer="zeros", dtype=self.dtype, name=state)
            for state in ("true_positives", "false_positives", "false_negatives", "true_negatives")
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            warnings.warn(
                "MultiLabelConfusionMatrix does not use `sample_weight` (as TFA's did not); "
                "it counts every example once.",
                stacklevel=2,
            )
        y_true = ops.cast(y_true, "int32")
        y_pred = ops.cast(y_pred, "int32")
        true_positives = ops.count_nonzero(y_true * y_pred, axis=0)
        false_positives = ops.count_nonzero(y_pred, axis=0) - true_positives
        false_negatives = ops.count_nonzero(y_true, axis=0) - true_positives
        true_negatives = ops.count_nonzero(
            ops.logical_and(ops.not_equal(y_true, 1), ops.not_equal(y_pred, 1)), axis=0
        )
        for variable, value in (
            (self.true_positives, true_positives),
            (self.false_positives, false_positives),
            (self.false_negatives, false_negatives),
            (self.true_negatives, true_negatives),
        ):
            variable.assign_add(ops.cast(value, self.dtype))

    def result(self):
        flat = ops.stack(
            [self.true_negatives, self.false_positives, self.false_negatives, self.true_positives],
            axis=-1,
        )
        return ops.reshape(flat, (self.num_classes, 2, 2))

    def reset_state(self):
        for variable in self.variables:
            variable.assign(ops.zeros_like(variable))

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "num_classes": self.num_classes}
