"""Calibration metrics: expected calibration error, Brier score and negative log-likelihood.

All three take integer labels (shape `(batch,)` or `(batch, 1)`) or one-hot labels, and
class probabilities (or logits with `from_logits=True`) of shape `(batch, num_classes)`. A single
output column `(batch, 1)` is read as the probability of class 1 of a binary problem.
"""

from __future__ import annotations

import keras
from keras import ops

_EPSILON = 1e-7


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"`{name}` must be a bool. Received: {name}={value!r}")
    return value


def _labels_and_log_probs(y_true, y_pred, from_logits: bool):
    """`(labels, log_probs)`: int32 labels `(n,)` and float32 log-probabilities `(n, classes)`."""
    y_true = ops.convert_to_tensor(y_true)
    y_pred = ops.cast(ops.convert_to_tensor(y_pred), "float32")
    if y_pred.shape[-1] == 1:
        if from_logits:
            log_probs = ops.concatenate(
                [ops.log_sigmoid(-y_pred), ops.log_sigmoid(y_pred)], axis=-1
            )
        else:
            probs = ops.clip(y_pred, _EPSILON, 1.0 - _EPSILON)
            log_probs = ops.log(ops.concatenate([1.0 - probs, probs], axis=-1))
    elif from_logits:
        log_probs = ops.log_softmax(y_pred, axis=-1)
    else:
        log_probs = ops.log(ops.clip(y_pred, _EPSILON, 1.0))
    classes = log_probs.shape[-1]
    one_hot = len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == y_pred.shape[-1] != 1
    labels = ops.argmax(y_true, axis=-1) if one_hot else y_true
    labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
    return labels, ops.reshape(log_probs, (-1, classes))


def _probabilities(log_probs, y_pred, from_logits: bool):
    """Probabilities without the clipping used for the logarithm (exact for ECE and Brier)."""
    y_pred = ops.cast(ops.convert_to_tensor(y_pred), "float32")
    if from_logits or y_pred.shape[-1] == 1:
        return ops.exp(log_probs)
    return ops.reshape(y_pred, (-1, y_pred.shape[-1]))


def _flat_weights(sample_weight, count):
    if sample_weight is None:
        return ops.ones((count,), "float32")
    flat = ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
    return ops.broadcast_to(flat, (count,))


@keras.saving.register_keras_serializable(package="keras_zoo")
class ExpectedCalibrationError(keras.metrics.Metric):
    """Expected calibration error (ECE) with equal-width confidence bins.

    Each prediction's confidence is its largest class probability. Confidences fall into
    `num_bins` equal-width bins `(lo, hi]` over `[0, 1]` (a confidence of exactly 0 goes to the
    first bin). ECE is the weighted gap between accuracy and mean confidence,
    `sum_b (n_b / n) |acc_b - conf_b|`. The per-bin counts, confidence sums and correct counts
    are accumulated across `update_state` calls, so the value over many batches equals the
    value over their concatenation.

    Args:
        num_bins: number of equal-width bins, a positive integer. Defaults to `15`.
        from_logits: whether `y_pred` holds logits. Defaults to `False`.
        name: metric name. Defaults to `"ece"`.
        dtype: dtype of the metric's state and result. Defaults to `None` (float32).

    Example:

    ```python
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=[ExpectedCalibrationError(num_bins=15), BrierScore(), NegativeLogLikelihood()],
    )
    ```

    Reference:
        Guo, Pleiss, Sun and Weinberger, "On Calibration of Modern Neural Networks", ICML 2017.
        https://arxiv.org/abs/1706.04599
    """

    def __init__(
        self, num_bins: int = 15, from_logits: bool = False, name: str = "ece", dtype=None
    ):
        super().__init__(name=name, dtype=dtype)
        if isinstance(num_bins, bool) or not isinstance(num_bins, int) or num_bins <= 0:
            raise ValueError(
                f"`num_bins` must be a positive integer. Received: num_bins={num_bins!r}"
            )
        self.num_bins = num_bins
        self.from_logits = _check_bool("from_logits", from_logits)
        self.counts = self.add_variable((num_bins,), initializer="zeros", name="counts")
        self.confidence_sums = self.add_variable(
            (num_bins,), initializer="zeros", name="confidence_sums"
        )
        self.correct_sums = self.add_variable((num_bins,), initializer="zeros", name="correct_sums")

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels, log_probs = _labels_and_log_probs(y_true, y_pred, self.from_logits)
        probs = _probabilities(log_probs, y_pred, self.from_logits)
        confidence = ops.max(probs, axis=-1)
        correct = ops.cast(
            ops.equal(ops.cast(ops.argmax(probs, axis=-1), "int32"), labels), "float32"
        )
        inner_edges = ops.linspace(0.0, 1.0, self.num_bins + 1)[1:-1]
        # The number of inner edges strictly below the confidence puts it in bin (lo, hi].
        bins = ops.sum(ops.cast(confidence[:, None] > inner_edges[None, :], "int32"), axis=1)
        weights = _flat_weights(sample_weight, ops.shape(confidence)[0])
        membership = ops.one_hot(bins, self.num_bins, dtype="float32") * weights[:, None]
        self.counts.assign_add(ops.cast(ops.sum(membership, axis=0), self.dtype))
        self.confidence_sums.assign_add(
            ops.cast(ops.sum(membership * confidence[:, None], axis=0), self.dtype)
        )
        self.correct_sums.assign_add(
            ops.cast(ops.sum(membership * correct[:, None], axis=0), self.dtype)
        )

    def result(self):
        total = ops.sum(self.counts)
        gaps = ops.abs(self.correct_sums - self.confidence_sums)
        return ops.divide_no_nan(ops.sum(gaps), total)

    def reset_state(self):
        for variable in (self.counts, self.confidence_sums, self.correct_sums):
            variable.assign(ops.zeros_like(variable))

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "num_bins": self.num_bins,
            "from_logits": self.from_logits,
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class BrierScore(keras.metrics.Mean):
    """The multi-class Brier score: the mean over examples of `sum_k (p_k - y_k)^2`.

    `y_k` is the one-hot label. The score lies in `[0, 2]`; lower is better. This is Brier's
    original definition (summed over classes, not averaged), the one used by Lakshminarayanan et
    al. and Ovadia et al.

    Args:
        from_logits: whether `y_pred` holds logits. Defaults to `False`.
        name: metric name. Defaults to `"brier"`.
        dtype: dtype of the metric's state and result. Defaults to `None` (float32).

    Example:

    ```python
    metric = BrierScore()
    metric.update_state([0, 1], [[0.9, 0.1], [0.4, 0.6]])
    metric.result()  # ((0.1^2 + 0.1^2) + (0.4^2 + 0.4^2)) / 2 = 0.17
    ```

    Reference:
        Brier, "Verification of Forecasts Expressed in Terms of Probability", Monthly Weather
        Review 78(1), 1950.
    """

    def __init__(self, from_logits: bool = False, name: str = "brier", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.from_logits = _check_bool("from_logits", from_logits)

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels, log_probs = _labels_and_log_probs(y_true, y_pred, self.from_logits)
        probs = _probabilities(log_probs, y_pred, self.from_logits)
        targets = ops.one_hot(labels, probs.shape[-1], dtype="float32")
        scores = ops.sum(ops.square(probs - targets), axis=-1)
        return super().update_state(scores, sample_weight=_weights_or_none(sample_weight, scores))

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits}


@keras.saving.register_keras_serializable(package="keras_zoo")
class NegativeLogLikelihood(keras.metrics.Mean):
    """Mean negative log-likelihood of the true class, `-log p_y` (nats).

    For integer labels and probabilities this equals keras's sparse categorical cross-entropy
    metric; it also takes one-hot labels and a single binary output column, and clips
    probabilities at `1e-7` so that a confidently wrong prediction costs about 16 nats instead
    of infinity.

    Args:
        from_logits: whether `y_pred` holds logits (computed with `log_softmax`, no clipping).
            Defaults to `False`.
        name: metric name. Defaults to `"nll"`.
        dtype: dtype of the metric's state and result. Defaults to `None` (float32).

    Example:

    ```python
    metric = NegativeLogLikelihood(from_logits=True)
    metric.update_state(labels, logits)
    ```

    Reference:
        Quinonero-Candela et al., "Evaluating Predictive Uncertainty Challenge", MLCW 2005
        (NLL as a proper scoring rule for predictive uncertainty).
    """

    def __init__(self, from_logits: bool = False, name: str = "nll", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.from_logits = _check_bool("from_logits", from_logits)

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels, log_probs = _labels_and_log_probs(y_true, y_pred, self.from_logits)
        picked = ops.take_along_axis(log_probs, labels[:, None], axis=-1)[:, 0]
        return super().update_state(-picked, sample_weight=_weights_or_none(sample_weight, picked))

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits}


def _weights_or_none(sample_weight, values):
    if sample_weight is None:
        return None
    return _flat_weights(sample_weight, ops.shape(values)[0])
