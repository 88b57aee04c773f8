"""Agreement between two labelings: Cohen's kappa and the Matthews correlation coefficient.

Both accumulate a `num_classes x num_classes` confusion matrix (rows: `y_true`, columns:
`y_pred`) over every batch seen, so the value after many batches is the value over their
concatenation, and under `tf.distribute` the replicas' matrices are summed. They keep the names,
arguments, defaults and numbers of TensorFlow Addons' `tfa.metrics.CohenKappa` and
`tfa.metrics.MatthewsCorrelationCoefficient`.

Labels outside `[0, num_classes)` are an error: a `ValueError` on eager tensors, a
`tf.errors.InvalidArgumentError` when a graph runs; under XLA (where assertions compile away)
such pairs are left out of the matrix. The checks make these metrics TensorFlow-only.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from layers.validation import check_bool, check_choice, check_int_at_least, check_positive_int

KAPPA_WEIGHTAGES = (None, "linear", "quadratic")


def _is_eager(tensor) -> bool:
    return tf.executing_eagerly() and hasattr(tensor, "numpy")


def _checked_class_ids(name: str, ids, num_classes: int):
    """`ids` (int32, flat) after checking that every one lies in `[0, num_classes)`."""
    if _is_eager(ids):
        values = ids.numpy()
        bad = values[(values < 0) | (values >= num_classes)]
        if bad.size:
            raise ValueError(
                f"`{name}` holds class {int(bad[0])}, outside [0, num_classes={num_classes}). "
                f"Received: {name} with value {int(bad[0])}"
            )
        return ids
    message = f"`{name}` holds a class outside [0, num_classes={num_classes})"
    in_range = tf.reduce_all(tf.cast(ids, tf.uint32) < num_classes)  # negatives wrap around
    with tf.control_dependencies([tf.debugging.Assert(in_range, [message])]):
        return tf.identity(ids)


def _confusion_counts(true_ids, pred_ids, num_classes: int, sample_weight=None, dtype="float32"):
    """The (weighted) confusion matrix of two flat label vectors, shape `(C, C)`.

    Rows are `true_ids`, columns `pred_ids`, as `tf.math.confusion_matrix`, but one (weighted)
    `DenseBincount` of `true * C + pred`: XLA-compilable and about 3x faster. Pairs with a label
    outside `[0, num_classes)` count nowhere.
    """
    true_ids = tf.reshape(tf.cast(true_ids, tf.int32), [-1])
    pred_ids = tf.reshape(tf.cast(pred_ids, tf.int32), [-1])
    # One unsigned comparison per label also catches the negative ones.
    valid = (tf.cast(true_ids, tf.uint32) < num_classes) & (
        tf.cast(pred_ids, tf.uint32) < num_classes
    )
    size = num_classes * num_classes
    cells = tf.where(valid, true_ids * num_classes + pred_ids, size)  # `size` is dropped
    if sample_weight is None:
        weights = tf.zeros([0], dtype)  # DenseBincount's "no weights": every pair counts 1
    else:
        weights = tf.reshape(tf.cast(sample_weight, dtype), [-1])
        weights = tf.broadcast_to(weights, tf.shape(cells))
    # The op itself: `tf.math.bincount` derives the size from the data, which XLA refuses.
    counts = tf.raw_ops.DenseBincount(input=cells, size=size, weights=weights)
    return tf.reshape(counts, [num_classes, num_classes])


def _flat(tensor):
    """TFA's `squeeze`, then at least one dimension: a flat label vector."""
    return ops.reshape(tensor, (-1,))


@keras.saving.register_keras_serializable(package="keras_zoo")
class CohenKappa(keras.metrics.Metric):
    """Cohen's kappa: the agreement between two raters, corrected for chance.

    `kappa = 1 - sum(W * O) / sum(W * E)`, where `O` is the normalised confusion matrix of
    `(y_true, y_pred)` accumulated over every batch, `E` the normalised outer product of its
    marginals (agreement by chance), and `W` the disagreement weights: `1` off the diagonal
    (`weightage=None`), `|i - j|` (`"linear"`) or `(i - j)^2` (`"quadratic"`). The score lies in
    `[-1, 1]`; 1 is full agreement and 0 agreement by chance. Before any update it is 0.

    Inputs, as in TFA:
    - `num_classes=2`: `y_true` holds class ids, `y_pred` scores; a score above 0.5 is class 1.
    - `num_classes > 2`: `y_true` is one-hot (class ids with `sparse_labels=True`); `y_pred` is
      class ids (rank 1) or scores per class (rank 2, arg-maxed), or, with `regression=True`, a
      single regressed column rounded to the nearest class (`round(|y_pred|)`).

    TensorFlow-only (label checks; see the module docstring).

    Args:
        num_classes: the number of classes, at least 2.
        name: metric name. Defaults to `"cohen_kappa"`.
        weightage: `None`, `"linear"` or `"quadratic"` disagreement weights. Defaults to `None`.
        sparse_labels: `y_true` holds class ids rather than one-hot rows (more than 2 classes).
            Defaults to `False`.
        regression: `y_pred` is one regressed column (more than 2 classes). Defaults to `False`.
        dtype: dtype of the result. Defaults to `None` (float32).

    Example:

    ```python
    metric = CohenKappa(num_classes=5, sparse_labels=True)
    metric.update_state([4, 4, 3, 4, 2, 4, 1, 1], [4, 4, 3, 4, 4, 2, 1, 1])
    float(metric.result())  # 0.61904764
    ```

    Reference:
        Cohen, "A Coefficient of Agreement for Nominal Scales", Educational and Psychological
        Measurement 20(1), 1960; Cohen, "Weighted kappa", Psychological Bulletin 70(4), 1968.
    """

    def __init__(
        self,
        num_classes: int,
        name: str = "cohen_kappa",
        weightage: str | None = None,
        sparse_labels: bool = False,
        regression: bool = False,
        dtype=None,
    ):
        super().__init__(name=name, dtype=dtype)
        check_int_at_least("num_classes", num_classes, 2, "kappa compares class labels")
        self.num_classes = num_classes
        self.weightage = check_choice("weightage", weightage, KAPPA_WEIGHTAGES)
        self.sparse_labels = check_bool("sparse_labels", sparse_labels)
        self.regression = check_bool("regression", regression)
        self.conf_mtx = self.add_variable(
            (num_classes, num_classes), initializer="zeros", dtype="float32", name="conf_mtx"
        )

    def _class_ids(self, y_true, y_pred):
        y_true = ops.convert_to_tensor(y_true)
        y_pred = ops.convert_to_tensor(y_pred)
        if self.num_classes == 2:
            pred_ids = ops.cast(ops.cast(y_pred, "float32") > 0.5, "int32")
            return ops.cast(y_true, "int32"), pred_ids
        # tf.argmax, not keras.ops.argmax: TFA's tie rule, and no pass to sort out -0.0.
        true_ids = y_true if self.sparse_labels else tf.argmax(y_true, axis=1)
        if len(y_pred.shape) > 1:
            if self.regression:
                pred_ids = ops.round(ops.abs(ops.cast(y_pred, "float32")))
            else:
                pred_ids = tf.argmax(y_pred, axis=-1)
        else:
            pred_ids = y_pred
        return ops.cast(true_ids, "int32"), ops.cast(pred_ids, "int32")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds the batch's confusion matrix (weighted by `sample_weight`, one per example)."""
        true_ids, pred_ids = self._class_ids(y_true, y_pred)
        true_ids = _checked_class_ids("y_true", _flat(true_ids), self.num_classes)
        pred_ids = _checked_class_ids("y_pred", _flat(pred_ids), self.num_classes)
        counts = _confusion_counts(true_ids, pred_ids, self.num_classes, sample_weight)
        self.conf_mtx.assign_add(counts)

    def result(self):
        classes = np.arange(self.num_classes, dtype="float32")
        if self.weightage is None:
            weights = 1.0 - np.eye(self.num_classes, dtype="float32")
        elif self.weightage == "linear":
            weights = np.abs(classes[:, None] - classes[None, :])
        else:
            weights = np.square(classes[:, None] - classes[None, :])
        confusion = ops.cast(self.conf_mtx, "float32")
        observed = confusion / ops.sum(confusion)
        chance = ops.sum(confusion, axis=0)[:, None] * ops.sum(confusion, axis=1)[None, :]
        chance = chance / ops.sum(chance)
        numerator = ops.sum(observed * weights)
        denominator = ops.sum(chance * weights)
        kappa = ops.where(ops.isnan(denominator), 0.0, 1.0 - numerator / denominator)
        return ops.cast(kappa, self.dtype)

    def reset_state(self):
        self.conf_mtx.assign(ops.zeros_like(self.conf_mtx))

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "num_classes": self.num_classes,
            "weightage": self.weightage,
            "sparse_labels": self.sparse_labels,
            "regression": self.regression,
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class MatthewsCorrelationCoefficient(keras.metrics.Metric):
    """The Matthews correlation coefficient (the phi coefficient), binary or multi-class.

    From the confusion matrix `C` accumulated over every batch (rows: true class, columns:
    predicted class), with `t` its row sums, `p` its column sums, `c` its trace and `s` its total:
    `MCC = (c s - t.p) / sqrt((s^2 - t.t) (s^2 - p.p))` (Gorodkin's multi-class form; for two
    classes `(TP TN - FP FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN))`). It lies in `[-1, 1]`; 0 when
    undefined (no data, or one class only).

    `y_true` and `y_pred` are one-hot rows or scores per class, shape `(batch, num_classes)`;
    both are arg-maxed. TensorFlow-only (label checks; see the module docstring).

    Args:
        num_classes: the number of classes, a positive integer.
        name: metric name. Defaults to `"MatthewsCorrelationCoefficient"` (TFA's).
        dtype: dtype of the state and result. Defaults to `None` (float32).

    Example:

    ```python
    metric = MatthewsCorrelationCoefficient(num_classes=2)
    metric.update_state([[0, 1], [0, 1], [0, 1], [1, 0]], [[0, 1], [1, 0], [0, 1], [0, 1]])
    float(metric.result())  # -0.33333334
    ```

    Reference:
        Matthews, "Comparison of the predicted and observed secondary structure of T4 phage
        lysozyme", Biochimica et Biophysica Acta 405(2), 1975; Gorodkin, "Comparing two
        K-category assignments by a K-category correlation coefficient", Computational Biology
        and Chemistry 28(5), 2004.
    """

    def __init__(self, num_classes: int, name: str = "MatthewsCorrelationCoefficient", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.conf_mtx = self.add_variable(
            (num_classes, num_classes), initializer="zeros", dtype=self.dtype, name="conf_mtx"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds the batch's confusion matrix (weighted by `sample_weight`, one per example)."""
        true_ids = tf.argmax(y_true, axis=1, output_type=tf.int32)
        pred_ids = tf.argmax(y_pred, axis=1, output_type=tf.int32)
        true_ids = _checked_class_ids("y_true", true_ids, self.num_classes)
        pred_ids = _checked_class_ids("y_pred", pred_ids, self.num_classes)
        counts = _confusion_counts(true_ids, pred_ids, self.num_classes, sample_weight, self.dtype)
        self.conf_mtx.assign_add(counts)

    def result(self):
        confusion = ops.convert_to_tensor(self.conf_mtx)
        true_sums = ops.sum(confusion, axis=1)
        pred_sums = ops.sum(confusion, axis=0)
        correct = ops.trace(confusion)
        total = ops.sum(pred_sums)
        cov_true_pred = correct * total - ops.sum(true_sums * pred_sums)
        cov_pred_pred = total**2 - ops.sum(pred_sums * pred_sums)
        cov_true_true = total**2 - ops.sum(true_sums * true_sums)
        mcc = cov_true_pred / ops.sqrt(cov_true_true * cov_pred_pred)
        return ops.where(ops.isnan(mcc), ops.zeros_like(mcc), mcc)

    def reset_state(self):
        self.conf_mtx.assign(ops.zeros_like(self.conf_mtx))

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "num_classes": self.num_classes}
