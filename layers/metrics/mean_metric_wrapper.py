"""TensorFlow Addons' `tfa.metrics.MeanMetricWrapper`: Keras's wrapper, with inputs cast first.

`keras.metrics.MeanMetricWrapper` has TFA's signature, `(fn, name=None, dtype=None, **kwargs)`,
but hands `y_true` and `y_pred` to `fn` as they come; TFA's cast both to the metric's dtype
first, so functions written for TFA may mix integer labels with float predictions
(`y_true - y_pred`) and fail on Keras's. This adapter casts, then is Keras's wrapper.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_zoo")
class MeanMetricWrapper(keras.metrics.MeanMetricWrapper):
    """The weighted mean over every example seen of `fn(y_true, y_pred, **kwargs)`.

    `y_true` and `y_pred` are cast to the metric's dtype before `fn` sees them (TFA's rule).

    Args:
        fn: the per-example metric, `fn(y_true, y_pred, **kwargs)`.
        name: metric name. Defaults to `None` (the class name in snake case).
        dtype: dtype of the inputs given to `fn`, the state and the result. Defaults to `None`
            (float32).
        **kwargs: keyword arguments for `fn`.

    Example:

    ```python
    def absolute_error(y_true, y_pred):
        return keras.ops.mean(keras.ops.abs(y_true - y_pred), axis=-1)

    metric = MeanMetricWrapper(absolute_error, name="mae")
    metric.update_state([[1], [2]], [[1.5], [2.0]])  # integer labels are cast first
    float(metric.result())  # 0.25
    ```
    """

    def __init__(self, fn, name: str | None = None, dtype=None, **kwargs):
        super().__init__(fn, name=name, dtype=dtype, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, self.dtype)
        y_pred = ops.cast(y_pred, self.dtype)
        return super().update_state(y_true, y_pred, sample_weight=sample_weight)
