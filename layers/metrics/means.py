"""The geometric and harmonic means of a stream of values: TensorFlow Addons'
`tfa.metrics.GeometricMean` and `tfa.metrics.HarmonicMean`, used like `keras.metrics.Mean`."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_zoo")
class GeometricMean(keras.metrics.Metric):
    """The (weighted) geometric mean of every value seen: `exp(sum(w log v) / sum(w))`.

    The state is the weighted sum of logarithms and the sum of weights, so the value over many
    batches is the value over their concatenation. As in TFA, once a zero has been seen the
    result is 0 (the log-sum is `-inf`) until `reset_state`; negative values give NaN.

    Args:
        name: metric name. Defaults to `"geometric_mean"`.
        dtype: dtype of the state and result. Defaults to `None` (float32).

    Example:

    ```python
    metric = GeometricMean()
    metric.update_state([1, 3, 5, 7, 9])
    float(metric.result())  # 3.9362833
    ```
    """

    def __init__(self, name: str = "geometric_mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), initializer="zeros", dtype=self.dtype, name="total")
        self.count = self.add_variable((), initializer="zeros", dtype=self.dtype, name="count")

    def update_state(self, values, sample_weight=None):
        """Adds `values` (any shape), weighted by `sample_weight` (broadcast to `values`)."""
        values = ops.cast(values, self.dtype)
        weights = 1.0 if sample_weight is None else ops.cast(sample_weight, self.dtype)
        weights = ops.broadcast_to(weights, ops.shape(values))
        self.count.assign_add(ops.sum(weights))
        total = ops.convert_to_tensor(self.total)
        added = total + ops.sum(weights * ops.log(values))
        self.total.assign(ops.where(ops.isinf(total), total, added))

    def result(self):
        total = ops.convert_to_tensor(self.total)
        mean = ops.exp(total / self.count)
        return ops.where(ops.isinf(total), ops.zeros_like(mean), mean)

    def reset_state(self):
        for variable in self.variables:
            variable.assign(ops.zeros_like(variable))

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


@keras.saving.register_keras_serializable(package="keras_zoo")
class HarmonicMean(keras.metrics.Mean):
    """The (weighted) harmonic mean of every value seen: `sum(w) / sum(w / v)`.

    A `keras.metrics.Mean` of the reciprocals, inverted in `result()` (0 before any update).

    Args:
        name: metric name. Defaults to `"harmonic_mean"`.
        dtype: dtype of the state and result. Defaults to `None` (float32).

    Example:

    ```python
    metric = HarmonicMean()
    metric.update_state([1, 4, 4])
    float(metric.result())  # 2.0
    ```
    """

    def __init__(self, name: str = "harmonic_mean", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, values, sample_weight=None):
        """Adds `values`, weighted by `sample_weight` as `keras.metrics.Mean` does."""
        reciprocals = ops.reciprocal(ops.cast(values, self.dtype))
        return super().update_state(reciprocals, sample_weight=sample_weight)

    def result(self):
        mean = super().result()
        return ops.divide_no_nan(ops.ones_like(mean), mean)
