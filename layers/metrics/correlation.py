"""Streaming Pearson correlation from the joint histogram: TensorFlow Addons'
`tfa.metrics.PearsonsCorrelation`, with TFA's arguments and numbers.

Keras 3's `keras.metrics.PearsonCorrelation` averages per-batch correlations; this one reads the
joint histogram of everything seen (`layers.metrics.rank_correlation.CorrelationBase`: fixed
memory, summed across replicas), each value standing at its bin's midpoint.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from layers.metrics.rank_correlation import CorrelationBase


def _midpoints(cuts: np.ndarray) -> np.ndarray:
    return ((cuts[1:] - cuts[:-1]) / 2.0 + cuts[:-1]).astype("float64")


@keras.saving.register_keras_serializable(package="keras_zoo")
class PearsonsCorrelation(CorrelationBase):
    """Pearson's correlation of `(y_true, y_pred)` over everything seen, values binned.

    Each value counts at its bin's midpoint. Pearson's r is invariant under shifts, so with one
    value per bin and equal bins (integer scores `0..K`, range `[0, K + 1]`, `K + 2` cut points)
    it equals scipy's `pearsonr`; otherwise it is within about a bin width of it. Arguments as
    `CorrelationBase`.

    Example:

    ```python
    metric = PearsonsCorrelation(0, 13, 0, 8)
    metric.update_state([12, 2, 1, 12, 2], [1, 4, 7, 1, 0])
    float(metric.result())  # -0.5618297
    ```

    Reference:
        Pearson, "Notes on regression and inheritance in the case of two parents", Proceedings
        of the Royal Society of London 58, 1895.
    """

    def result(self):
        m, nrow, ncol, n = self._histograms()
        row_centres = _midpoints(self.actual_cuts)
        col_centres = _midpoints(self.preds_cuts)
        row_mean = ops.sum(nrow * row_centres) / n
        col_mean = ops.sum(ncol * col_centres) / n
        row_var = ops.sum(nrow * ops.square(row_centres - row_mean))
        col_var = ops.sum(ncol * ops.square(col_centres - col_mean))
        covariance = ops.sum(m * (row_centres - row_mean)[:, None] * (col_centres - col_mean))
        return ops.cast(covariance / ops.sqrt(row_var * col_var), self.dtype)
