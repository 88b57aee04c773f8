"""Streaming rank correlations from a joint histogram: Kendall's tau-b and tau-c, Spearman's rho.

TensorFlow Addons' `tfa.metrics.KendallsTauB`, `KendallsTauC` and `SpearmansRank` (and the
histogram base they share, which `PearsonsCorrelation` also uses), with TFA's arguments and
numbers. Following Xiao (2017), the state is the joint histogram of `(y_true, y_pred)` over a
fixed grid: `actual_cutpoints` equally spaced cut points over `[actual_min, actual_max]` for
`y_true`, `preds_cutpoints` over `[preds_min, preds_max]` for `y_pred` (values outside are
clipped to the range). Every batch adds its counts, so the statistic is over everything seen,
not a mean of per-batch values, and under `tf.distribute` the replicas' histograms are summed.

Memory is fixed: `(actual_cutpoints - 1) x (preds_cutpoints - 1)` int64 counts (78 KB at the
default 100 x 100), whatever the number of examples. The statistic is exact when every distinct
value has a bin of its own (discrete scores, e.g. ratings `0..K` with the range `[0, K + 1]` and
`K + 2` cut points); otherwise values sharing a bin count as ties, an approximation whose error
shrinks with the bin width. Counts are int64 and the sums over pairs float64, so the result
stays exact well past 2^24 examples (TFA's sums were float32).
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
from keras import ops

from layers.validation import check_int_at_least

_EPSILON = 1e-7  # TFA widened the last cut point by Keras's epsilon so that `max` has a bin.


def _cut_points(low: float, high: float, count: int) -> np.ndarray:
    """TFA's grid: `count` equally spaced cut points, the last one raised by 1e-7 (float32)."""
    cuts = np.linspace(float(np.float32(low)), float(np.float32(high)), count)
    cuts[-1] += _EPSILON
    return cuts.astype("float32")


def _check_range(low_name: str, low, high_name: str, high) -> tuple[float, float]:
    for name, value in ((low_name, low), (high_name, high)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
            raise ValueError(f"`{name}` must be a finite number. Received: {name}={value!r}")
    if not low < high:
        raise ValueError(
            f"`{low_name}` must be less than `{high_name}`. "
            f"Received: {low_name}={low!r}, {high_name}={high!r}"
        )
    return low, high


def _bin_ids(values, low: float, high: float, cuts: np.ndarray):
    """The bin of each value (clipped to the range): `searchsorted(cuts, v, "right") - 1`."""
    values = ops.clip(ops.reshape(ops.cast(values, "float32"), (-1,)), low, high)
    ids = ops.searchsorted(ops.convert_to_tensor(cuts), values, side="right") - 1
    return ops.clip(ops.cast(ids, "int32"), 0, len(cuts) - 2)


@keras.saving.register_keras_serializable(package="keras_zoo")
class CorrelationBase(keras.metrics.Metric):
    """The joint histogram of `(y_true, y_pred)` that the streaming correlations read.

    A base class: use `KendallsTauB`, `KendallsTauC`, `SpearmansRank` or `PearsonsCorrelation`.
    `y_true` and `y_pred` may have any shape (they are flattened). As in TFA, `sample_weight` is
    not used (a warning says so).

    Args:
        actual_min: the lower end of `y_true`'s range. Defaults to `0.0`.
        actual_max: the upper end of `y_true`'s range. Defaults to `1.0`.
        preds_min: the lower end of `y_pred`'s range. Defaults to `0.0`.
        preds_max: the upper end of `y_pred`'s range. Defaults to `1.0`.
        actual_cutpoints: cut points over `y_true`'s range (bins + 1), at least 2. Defaults to
            `100`.
        preds_cutpoints: cut points over `y_pred`'s range (bins + 1), at least 2. Defaults to
            `100`.
        name: metric name. Defaults to `None` (the class name in snake case).
        dtype: dtype of the result. Defaults to `None` (float32).

    Reference:
        Xiao, "A Streaming Algorithm for Rank Correlation" (histogram-based approximation of
        Kendall's tau and Spearman's rho), 2017. https://arxiv.org/abs/1712.01521
    """

    def __init__(
        self,
        actual_min: float = 0.0,
        actual_max: float = 1.0,
        preds_min: float = 0.0,
        preds_max: float = 1.0,
        actual_cutpoints: int = 100,
        preds_cutpoints: int = 100,
        name: str | None = None,
        dtype=None,
    ):
        super().__init__(name=name, dtype=dtype)
        self.actual_min, self.actual_max = _check_range(
            "actual_min", actual_min, "actual_max", actual_max
        )
        self.preds_min, self.preds_max = _check_range(
            "preds_min", preds_min, "preds_max", preds_max
        )
        self.actual_cutpoints = check_int_at_least("actual_cutpoints", actual_cutpoints, 2)
        self.preds_cutpoints = check_int_at_least("preds_cutpoints", preds_cutpoints, 2)
        self.actual_cuts = _cut_points(actual_min, actual_max, actual_cutpoints)
        self.preds_cuts = _cut_points(preds_min, preds_max, preds_cutpoints)
        self.m = self.add_variable(
            (actual_cutpoints - 1, preds_cutpoints - 1),
            initializer="zeros",
            dtype="int64",
            name="m",
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds the batch's pairs to the joint histogram; `sample_weight` is not used."""
        if sample_weight is not None:
            warnings.warn(
                f"{type(self).__name__} counts every pair once and does not use "
                "`sample_weight` (as TFA's did not).",
                stacklevel=2,
            )
        rows = _bin_ids(y_true, self.actual_min, self.actual_max, self.actual_cuts)
        cols = _bin_ids(y_pred, self.preds_min, self.preds_max, self.preds_cuts)
        num_rows, num_cols = self.actual_cutpoints - 1, self.preds_cutpoints - 1
        cells = rows * num_cols + cols
        counts = ops.segment_sum(
            ops.ones_like(cells, dtype="int64"), cells, num_segments=num_rows * num_cols
        )
        self.m.assign_add(ops.reshape(counts, (num_rows, num_cols)))

    def _histograms(self):
        """`(m, nrow, ncol, n)` in float64: the joint histogram, its marginals and its total."""
        m = ops.cast(self.m, "float64")
        return m, ops.sum(m, axis=1), ops.sum(m, axis=0), ops.sum(m)

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} is a base class; use a subclass.")

    def reset_state(self):
        self.m.assign(ops.zeros_like(self.m))

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "actual_min": self.actual_min,
            "actual_max": self.actual_max,
            "preds_min": self.preds_min,
            "preds_max": self.preds_max,
            "actual_cutpoints": self.actual_cutpoints,
            "preds_cutpoints": self.preds_cutpoints,
        }


def _pair_counts(m, nrow, ncol, n):
    """Concordant pairs, discordant pairs, pairs tied in `y_true` only and in `y_pred` only."""
    below_left = ops.cumsum(ops.cumsum(m, axis=0), axis=1)
    concordant = ops.sum(below_left[:-1, :-1] * m[1:, 1:])
    same_cell = ops.sum(ops.square(m))
    ties_true = (ops.sum(ops.square(nrow)) - same_cell) / 2.0
    ties_pred = (ops.sum(ops.square(ncol)) - same_cell) / 2.0
    ties_both = ops.sum(m * (m - 1.0)) / 2.0
    discordant = n * (n - 1.0) / 2.0 - concordant - ties_true - ties_pred - ties_both
    return concordant, discordant, ties_true, ties_pred


@keras.saving.register_keras_serializable(package="keras_zoo")
class KendallsTauB(CorrelationBase):
    """Kendall's tau-b over every pair seen, ties corrected: `(P - Q) / sqrt((P+Q+T)(P+Q+U))`.

    `P` and `Q` count concordant and discordant pairs, `T` and `U` pairs tied only in `y_true`
    and only in `y_pred` (scipy's `kendalltau(variant="b")`). Arguments as `CorrelationBase`.

    Example:

    ```python
    metric = KendallsTauB(0, 13, 0, 8)
    metric.update_state([12, 2, 1, 12, 2], [1, 4, 7, 1, 0])
    float(metric.result())  # -0.47140455
    ```

    Reference:
        Kendall, "The treatment of ties in ranking problems", Biometrika 33(3), 1945.
    """

    def result(self):
        p, q, t, u = _pair_counts(*self._histograms())
        return ops.cast((p - q) / ops.sqrt((p + q + t) * (p + q + u)), self.dtype)


@keras.saving.register_keras_serializable(package="keras_zoo")
class KendallsTauC(CorrelationBase):
    """Stuart's tau-c over every pair seen: `2 (P - Q) / (n^2 (k - 1) / k)`.

    `k` is the smaller of the numbers of occupied `y_true` and `y_pred` bins (scipy's
    `kendalltau(variant="c")` with one value per bin). Arguments as `CorrelationBase`.

    Example:

    ```python
    metric = KendallsTauC(0, 13, 0, 8)
    metric.update_state([12, 2, 1, 12, 2], [1, 4, 7, 1, 0])
    float(metric.result())  # -0.48
    ```

    Reference:
        Stuart, "The estimation and comparison of strengths of association in contingency
        tables", Biometrika 40(1/2), 1953.
    """

    def result(self):
        m, nrow, ncol, n = self._histograms()
        p, q, _, _ = _pair_counts(m, nrow, ncol, n)
        occupied = ops.minimum(ops.count_nonzero(nrow), ops.count_nonzero(ncol))
        k = ops.cast(occupied, "float64")
        return ops.cast(2.0 * (p - q) / (ops.square(n) * (k - 1.0) / k), self.dtype)


@keras.saving.register_keras_serializable(package="keras_zoo")
class SpearmansRank(CorrelationBase):
    """Spearman's rho over everything seen: the Pearson correlation of the mid-ranks.

    Values in one bin share their mid-rank (scipy's `spearmanr`, ties averaged). Arguments as
    `CorrelationBase`.

    Example:

    ```python
    metric = SpearmansRank(0, 13, 0, 8)
    metric.update_state([12, 2, 1, 12, 2], [1, 4, 7, 1, 0])
    float(metric.result())  # -0.54073805
    ```

    Reference:
        Spearman, "The proof and measurement of association between two things", American
        Journal of Psychology 15(1), 1904.
    """

    def result(self):
        m, nrow, ncol, n = self._histograms()

        def centred_ranks(counts):
            # The mid-rank of each bin minus the mean rank; empty bins get any value (count 0).
            ranks = ops.cumsum(counts) - counts + (ops.where(counts > 0, counts, -1.0) - n) / 2.0
            return ranks / ops.sqrt(ops.sum(counts * ops.square(ranks)))

        row_ranks, col_ranks = centred_ranks(nrow), centred_ranks(ncol)
        return ops.cast(ops.sum(row_ranks[:, None] * m * col_ranks[None, :]), self.dtype)
