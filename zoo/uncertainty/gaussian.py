"""A Gaussian regression head (mean and variance) and its negative log-likelihood loss."""

from __future__ import annotations

import math

import keras
from keras import ops

from layers.validation import check_bool, check_positive_float, check_positive_int


@keras.saving.register_keras_serializable(package="keras_zoo")
class GaussianHead(keras.layers.Layer):
    """Predicts a Gaussian per target: outputs `[mean, variance]` concatenated on the last axis.

    A dense layer gives `2 * units` values; the second half becomes a variance through
    `softplus(v) + min_variance`. Train it with `GaussianNLL`; `DeepEnsemble` and `mc_predict`
    recognise the head and return the mixture variance. The output is float32 under
    `mixed_float16`, as the variance needs the range.

    Args:
        units: number of regression targets, a positive integer. Defaults to `1`.
        min_variance: floor added to the variance, positive. Defaults to `1e-6`.
        **kwargs: base layer arguments (`name`, ...).

    Example:

    ```python
    inputs = keras.Input((1,))
    hidden = keras.layers.Dense(50, activation="relu")(inputs)
    model = keras.Model(inputs, GaussianHead(1)(hidden))
    model.compile("adam", loss=GaussianNLL())
    ```

    Reference:
        Nix and Weigend, "Estimating the Mean and Variance of the Target Probability
        Distribution", ICNN 1994; Lakshminarayanan, Pritzel and Blundell, "Simple and Scalable
        Predictive Uncertainty Estimation using Deep Ensembles", NeurIPS 2017.
    """

    def __init__(self, units: int = 1, min_variance: float = 1e-6, **kwargs):
        kwargs["dtype"] = kwargs.get("dtype") or "float32"
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.min_variance = check_positive_float("min_variance", min_variance)
        self.dense = keras.layers.Dense(2 * units, dtype=self.dtype_policy, name="dense")

    def build(self, input_shape):
        self.dense.build(input_shape)

    def call(self, inputs):
        raw = self.dense(inputs)
        mean, pre_variance = raw[..., : self.units], raw[..., self.units :]
        return ops.concatenate([mean, ops.softplus(pre_variance) + self.min_variance], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 2 * self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "min_variance": self.min_variance}


def has_gaussian_head(model: keras.Model) -> bool:
    """Whether the model's last layer is a `GaussianHead` (outputs `[mean, variance]`)."""
    return bool(model.layers) and isinstance(model.layers[-1], GaussianHead)


def split_mean_variance(outputs):
    """Splits a `GaussianHead` output `[..., 2 * units]` into `(mean, variance)`."""
    units = outputs.shape[-1] // 2
    return outputs[..., :units], outputs[..., units:]


@keras.saving.register_keras_serializable(package="keras_zoo")
class GaussianNLL(keras.losses.Loss):
    """Gaussian negative log-likelihood of targets under `[mean, variance]` predictions.

    `y_pred` is a `GaussianHead` output: means and variances concatenated on the last axis.
    The loss per target is `0.5 * log(variance) + (y - mean)^2 / (2 * variance)`, plus
    `0.5 * log(2 pi)` when `include_constant=True`; targets are averaged. It is computed in
    float32. Variances below `min_variance` are raised to it: a `GaussianHead` never outputs
    less than its own floor, so this only affects heads that can output zero or negative
    variances, whose loss stays finite (such a variance gets no gradient).

    Args:
        include_constant: add `0.5 * log(2 pi)` so the value is the exact NLL in nats.
            Defaults to `True`.
        min_variance: floor on the predicted variance, positive. Defaults to `1e-6`.
        reduction: as in `keras.losses.Loss`. Defaults to `"sum_over_batch_size"`.
        name: loss name. Defaults to `"gaussian_nll"`.

    Example:

    ```python
    loss = GaussianNLL()
    loss([[1.0]], [[0.5, 0.25]])  # 0.5 * log(0.25) + 0.25 / 0.5 + 0.5 * log(2 pi)
    ```

    Reference:
        Lakshminarayanan, Pritzel and Blundell, "Simple and Scalable Predictive Uncertainty
        Estimation using Deep Ensembles", NeurIPS 2017, equation 1.
    """

    def __init__(
        self,
        include_constant: bool = True,
        min_variance: float = 1e-6,
        reduction: str = "sum_over_batch_size",
        name: str = "gaussian_nll",
    ):
        super().__init__(name=name, reduction=reduction)
        self.min_variance = check_positive_float("min_variance", min_variance)
        self.include_constant = check_bool("include_constant", include_constant)

    def call(self, y_true, y_pred):
        y_pred = ops.cast(y_pred, "float32")
        if y_pred.shape[-1] is not None and y_pred.shape[-1] % 2:
            raise ValueError(
                "`y_pred` must hold means and variances concatenated on the last axis (an even "
                f"size). Received: y_pred.shape={y_pred.shape}"
            )
        mean, variance = split_mean_variance(y_pred)
        variance = ops.maximum(variance, self.min_variance)
        y_true = ops.reshape(ops.cast(y_true, "float32"), ops.shape(mean))
        nll = 0.5 * ops.log(variance) + ops.square(y_true - mean) / (2.0 * variance)
        if self.include_constant:
            nll = nll + 0.5 * math.log(2.0 * math.pi)
        return ops.mean(nll, axis=-1)

    def get_config(self):
        return {
            **super().get_config(),
            "include_constant": self.include_constant,
            "min_variance": self.min_variance,
        }
