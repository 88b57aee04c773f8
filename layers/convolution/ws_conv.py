"""Weight-standardized 2-D convolution."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_positive_float


def standardize_kernel(kernel, epsilon: float):
    """Standardizes a `(..., in, out)` kernel per output channel over all other axes.

    `(W - mean) / sqrt(var + epsilon)`, the equation of the paper (biased variance).
    """
    axes = tuple(range(len(kernel.shape) - 1))
    mean = ops.mean(kernel, axis=axes, keepdims=True)
    variance = ops.var(kernel, axis=axes, keepdims=True)
    return (kernel - mean) * ops.rsqrt(variance + epsilon)


@keras.saving.register_keras_serializable(package="keras_zoo")
class WSConv2D(keras.layers.Conv2D):
    """A `Conv2D` whose kernel is standardized per output channel before every convolution.

    For each output channel the kernel slice over `(height, width, input channels)` is given zero
    mean and unit variance, `W^ = (W - mean) / sqrt(var + epsilon)`, and `W^` is what convolves
    the input. The stored kernel is unchanged; gradients flow through the standardization. Meant
    to be followed by group normalization (the paper's GN + WS), e.g. for micro-batch training.
    The standardization runs in float32 under mixed precision.

    Args:
        filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation,
            use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
            bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint:
            as in `keras.layers.Conv2D`.
        epsilon: small float added to the variance. Defaults to `1e-5`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    x = keras.Input((32, 32, 3))
    y = WSConv2D(16, 3, padding="same", use_bias=False)(x)
    y = keras.layers.GroupNormalization(groups=4)(y)
    ```

    Reference:
        Qiao, Wang, Liu, Shen and Yuille, "Micro-Batch Training with Batch-Channel Normalization
        and Weight Standardization", 2019. https://arxiv.org/abs/1903.10520
    """

    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=(1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate=(1, 1),
        groups: int = 1,
        activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        epsilon: float = 1e-5,
        **kwargs,
    ):
        super().__init__(
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            groups=groups,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )
        self.epsilon = check_positive_float("epsilon", epsilon)

    def convolution_op(self, inputs, kernel):
        standardized = standardize_kernel(ops.cast(kernel, "float32"), self.epsilon)
        return super().convolution_op(inputs, ops.cast(standardized, inputs.dtype))

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
