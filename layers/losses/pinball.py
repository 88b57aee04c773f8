"""Pinball (quantile) loss for quantile regression (Koenker and Bassett 1978)."""

from __future__ import annotations

import numbers

import keras
import numpy as np
from keras import ops


def _check_tau(tau):
    """`tau` as a float, or a list of floats for one quantile level per output column."""
    message = f"`tau` must be a number in [0, 1] or a sequence of them. Received: tau={tau!r}"
    if isinstance(tau, bool | str):
        raise ValueError(message)
    try:
        values = np.asarray(tau, dtype="float64")
    except (TypeError, ValueError):
        raise ValueError(message) from None
    scalar = isinstance(tau, numbers.Real)
    if not (scalar or values.size > 0) or not np.all((values >= 0.0) & (values <= 1.0)):
        raise ValueError(message)
    return float(values) if values.ndim == 0 else values.tolist()


def pinball_loss(y_true, y_pred, tau=0.5):
    """Pinball loss averaged over the last axis, as TensorFlow Addons' `tfa.losses.pinball_loss`.

    `max(tau * (y_true - y_pred), (tau - 1) * (y_true - y_pred))`: minimised by the `tau`
    quantile of `y_true` given the input; `tau=0.5` is half the mean absolute error.

    Args:
        y_true: targets `(batch, ..., d)`.
        y_pred: predictions of the same shape.
        tau: quantile level in [0, 1], or levels broadcast against the trailing axes (e.g. one
            per column of `d`). Defaults to `0.5`.

    Returns:
        The loss per example, shape `y_pred.shape[:-1]`.

    Example:

    ```python
    pinball_loss([0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 0.0], tau=0.1)  # 0.475
    ```

    Reference:
        Koenker, Bassett, "Regression Quantiles", Econometrica 1978.
    """
    tau = _check_tau(tau)
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    tau = ops.cast(ops.convert_to_tensor(tau), y_pred.dtype)
    error = y_true - y_pred
    return ops.mean(ops.maximum(tau * error, (tau - 1.0) * error), axis=-1)


@keras.saving.register_keras_serializable(package="keras_zoo")
class PinballLoss(keras.losses.Loss):
    """Pinball (quantile) loss, TensorFlow Addons' `PinballLoss`.

    Trains a regressor to predict the `tau` quantile of the target: under-predictions cost
    `tau` per unit, over-predictions `1 - tau`.

    Args:
        tau: quantile level in [0, 1], or a list of levels (one per output column).
            Defaults to `0.5` (the median).
        reduction: keras loss reduction. Defaults to `"sum_over_batch_size"` (TFA's `AUTO`).
        name: name of the loss. Defaults to `"pinball_loss"`.
        dtype: dtype of the computation. Defaults to `None` (`keras.backend.floatx()`).

    Example:

    ```python
    model.compile("adam", loss=PinballLoss(tau=[0.1, 0.5, 0.9]))  # three quantile outputs
    ```

    Reference:
        Koenker, Bassett, "Regression Quantiles", Econometrica 1978.
    """

    def __init__(
        self,
        tau=0.5,
        reduction: str = "sum_over_batch_size",
        name: str = "pinball_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.tau = _check_tau(tau)
        self._dtype_argument = dtype

    def call(self, y_true, y_pred):
        return pinball_loss(y_true, y_pred, self.tau)

    def get_config(self):
        return {**super().get_config(), "tau": self.tau, "dtype": self._dtype_argument}
