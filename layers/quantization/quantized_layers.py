"""Conv2D, DepthwiseConv2D and Dense with int8 fake-quantized weights and folded batch norm."""

from __future__ import annotations

import keras
import tensorflow as tf

from layers.quantization.fake_quant import fake_quant_per_channel, fake_quant_symmetric
from layers.validation import (
    check_bool,
    check_choice,
    check_int_pair,
    check_positive_float,
    check_positive_int,
    check_unit_interval,
)

# Activations TFLite fuses into its int8 conv and fully connected kernels.
FUSABLE_ACTIVATIONS = (None, "linear", "relu", "relu6")


class _QuantizedLinear(keras.layers.Layer):
    """Shared weights, batch-norm folding and activation of the quantized layers.

    Subclasses define `_kernel_shape`, `_apply` and how output channels are laid out in the
    kernel (`_scale_kernel`, `_quantize_kernel`).
    """

    def __init__(
        self,
        use_bias: bool,
        fold_batch_norm: bool,
        bn_momentum: float,
        bn_epsilon: float,
        activation: str | None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.use_bias = check_bool("use_bias", use_bias)
        self.fold_batch_norm = check_bool("fold_batch_norm", fold_batch_norm)
        self.bn_momentum = check_unit_interval(
            "bn_momentum", bn_momentum, include_low=True, include_high=False
        )
        self.bn_epsilon = check_positive_float("bn_epsilon", bn_epsilon)
        if activation not in FUSABLE_ACTIVATIONS:
            raise ValueError(
                f"`activation` must be one of {FUSABLE_ACTIVATIONS}. "
                f"Received: activation={activation!r}"
            )
        self.activation = activation

    def _add_common_weights(self, channels: int) -> None:
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(channels,), initializer="zeros")
        if self.fold_batch_norm:
            self.gamma = self.add_weight(name="gamma", shape=(channels,), initializer="ones")
            self.beta = self.add_weight(name="beta", shape=(channels,), initializer="zeros")
            stats = {"trainable": False, "autocast": False, "aggregation": "mean"}
            self.moving_mean = self.add_weight(
                name="moving_mean", shape=(channels,), initializer="zeros", **stats
            )
            self.moving_variance = self.add_weight(
                name="moving_variance", shape=(channels,), initializer="ones", **stats
            )

    def call(self, inputs, training=False):
        x = tf.cast(inputs, "float32")
        kernel = tf.cast(self.kernel, "float32")
        bias = tf.cast(self.bias, "float32") if self.use_bias else 0.0
        if self.fold_batch_norm:
            if training:
                # Jacob et al. 2018, appendix C: fold with the batch statistics while training.
                float_out = self._apply(x, kernel) + bias
                axes = list(range(len(float_out.shape) - 1))
                mean, variance = tf.nn.moments(float_out, axes)
                m = self.bn_momentum
                self.moving_mean.assign(m * self.moving_mean + (1 - m) * mean)
                self.moving_variance.assign(m * self.moving_variance + (1 - m) * variance)
            else:
                mean, variance = self.moving_mean, self.moving_variance
            scale = tf.cast(self.gamma, "float32") * tf.math.rsqrt(variance + self.bn_epsilon)
            kernel = self._scale_kernel(kernel, scale)
            bias = tf.cast(self.beta, "float32") + (bias - mean) * scale
        y = self._apply(x, self._quantize_kernel(kernel)) + bias
        if self.activation == "relu":
            y = tf.nn.relu(y)
        elif self.activation == "relu6":
            y = tf.nn.relu6(y)
        return tf.cast(y, self.compute_dtype)

    def _scale_kernel(self, kernel, scale):
        return kernel * scale

    def _quantize_kernel(self, kernel):
        return fake_quant_per_channel(kernel)

    def get_config(self):
        return {
            **super().get_config(),
            "use_bias": self.use_bias,
            "fold_batch_norm": self.fold_batch_norm,
            "bn_momentum": self.bn_momentum,
            "bn_epsilon": self.bn_epsilon,
            "activation": self.activation,
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class QuantizedConv2D(_QuantizedLinear):
    """A Conv2D with int8 per-channel fake-quantized weights and optional folded batch norm.

    With `fold_batch_norm=True` the layer computes `act(conv(x, q(w * s)) + beta + (b - mean) * s)`
    with `s = gamma / sqrt(var + epsilon)`: while training, `mean` and `var` are the batch's (and
    update the moving statistics), at inference the moving ones, so what is evaluated is exactly
    the single int8 convolution TFLite runs. `quantize_model` builds these from Conv2D layers.

    Args:
        filters: number of output channels.
        kernel_size: an integer or a pair. Defaults to `3`.
        strides: an integer or a pair. Defaults to `1`.
        padding: `"valid"` or `"same"`. Defaults to `"valid"`.
        use_bias: whether the layer has a bias. Defaults to `True`.
        fold_batch_norm: whether a BatchNormalization (gamma, beta, moving statistics) is folded
            into the kernel and bias. Defaults to `False`.
        bn_momentum: momentum of the folded batch norm's moving statistics. Defaults to `0.99`.
        bn_epsilon: epsilon of the folded batch norm. Defaults to `1e-3`.
        activation: `None`, `"relu"` or `"relu6"` (what TFLite fuses). Defaults to `None`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).
    Example:

    ```python
    y = QuantizedConv2D(8, 3, padding="same", fold_batch_norm=True, activation="relu")(images)
    ```

    Reference:
        Jacob et al., "Quantization and Training of Neural Networks for Efficient
        Integer-Arithmetic-Only Inference", CVPR 2018. https://arxiv.org/abs/1712.05877
    """

    def __init__(
        self,
        filters: int,
        kernel_size=3,
        strides=1,
        padding: str = "valid",
        use_bias: bool = True,
        fold_batch_norm: bool = False,
        bn_momentum: float = 0.99,
        bn_epsilon: float = 1e-3,
        activation: str | None = None,
        **kwargs,
    ):
        super().__init__(use_bias, fold_batch_norm, bn_momentum, bn_epsilon, activation, **kwargs)
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = check_int_pair("kernel_size", kernel_size)
        self.strides = check_int_pair("strides", strides)
        self.padding = check_choice("padding", padding, ("valid", "same"))

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, input_shape[-1], self.filters),
            initializer="glorot_uniform",
        )
        self._add_common_weights(self.filters)

    def _apply(self, x, kernel):
        return tf.nn.conv2d(x, kernel, (1, *self.strides, 1), self.padding.upper())

    def compute_output_shape(self, input_shape):
        return keras.layers.Conv2D(
            self.filters, self.kernel_size, self.strides, self.padding
        ).compute_output_shape(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class QuantizedDepthwiseConv2D(_QuantizedLinear):
    """A DepthwiseConv2D with int8 per-channel fake-quantized weights and optional folded BN.

    The kernel `(h, w, channels, multiplier)` has `channels * multiplier` output channels, each
    with its own symmetric range, as in TFLite's per-axis int8 depthwise kernel. Folding follows
    `QuantizedConv2D`.

    Args:
        kernel_size: an integer or a pair. Defaults to `3`.
        strides: an integer or a pair. Defaults to `1`.
        padding: `"valid"` or `"same"`. Defaults to `"valid"`.
        depth_multiplier: output channels per input channel. Defaults to `1`.
        use_bias: whether the layer has a bias. Defaults to `True`.
        fold_batch_norm: whether a BatchNormalization (gamma, beta, moving statistics) is folded
            into the kernel and bias. Defaults to `False`.
        bn_momentum: momentum of the folded batch norm's moving statistics. Defaults to `0.99`.
        bn_epsilon: epsilon of the folded batch norm. Defaults to `1e-3`.
        activation: `None`, `"relu"` or `"relu6"` (what TFLite fuses). Defaults to `None`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).
    Example:

    ```python
    y = QuantizedDepthwiseConv2D(3, padding="same", fold_batch_norm=True, activation="relu6")(x)
    ```

    Reference:
        Jacob et al., "Quantization and Training of Neural Networks for Efficient
        Integer-Arithmetic-Only Inference", CVPR 2018. https://arxiv.org/abs/1712.05877
    """

    def __init__(
        self,
        kernel_size=3,
        strides=1,
        padding: str = "valid",
        depth_multiplier: int = 1,
        use_bias: bool = True,
        fold_batch_norm: bool = False,
        bn_momentum: float = 0.99,
        bn_epsilon: float = 1e-3,
        activation: str | None = None,
        **kwargs,
    ):
        super().__init__(use_bias, fold_batch_norm, bn_momentum, bn_epsilon, activation, **kwargs)
        self.kernel_size = check_int_pair("kernel_size", kernel_size)
        self.strides = check_int_pair("strides", strides)
        self.padding = check_choice("padding", padding, ("valid", "same"))
        self.depth_multiplier = check_positive_int("depth_multiplier", depth_multiplier)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, input_shape[-1], self.depth_multiplier),
            initializer="glorot_uniform",
        )
        self._add_common_weights(input_shape[-1] * self.depth_multiplier)

    def _apply(self, x, kernel):
        return tf.nn.depthwise_conv2d(x, kernel, (1, *self.strides, 1), self.padding.upper())

    def _scale_kernel(self, kernel, scale):
        return kernel * tf.reshape(scale, kernel.shape[2:])

    def _quantize_kernel(self, kernel):
        h, w, c, m = kernel.shape
        flat = fake_quant_per_channel(tf.reshape(kernel, (h, w, c * m)))
        return tf.reshape(flat, (h, w, c, m))

    def compute_output_shape(self, input_shape):
        return keras.layers.DepthwiseConv2D(
            self.kernel_size, self.strides, self.padding, depth_multiplier=self.depth_multiplier
        ).compute_output_shape(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "depth_multiplier": self.depth_multiplier,
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class QuantizedDense(_QuantizedLinear):
    """A Dense layer with int8 fake-quantized weights and optional folded batch norm.

    The kernel has one symmetric range (TFLite's converter transposes Dense kernels to its fully
    connected layout, which per-channel ranges do not survive); folding follows `QuantizedConv2D`.

    Args:
        units: number of output units.
        use_bias: whether the layer has a bias. Defaults to `True`.
        fold_batch_norm: whether a BatchNormalization (gamma, beta, moving statistics) is folded
            into the kernel and bias. Defaults to `False`.
        bn_momentum: momentum of the folded batch norm's moving statistics. Defaults to `0.99`.
        bn_epsilon: epsilon of the folded batch norm. Defaults to `1e-3`.
        activation: `None`, `"relu"` or `"relu6"` (what TFLite fuses). Defaults to `None`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).
    Example:

    ```python
    logits = QuantizedDense(10)(features)
    ```

    Reference:
        Jacob et al., "Quantization and Training of Neural Networks for Efficient
        Integer-Arithmetic-Only Inference", CVPR 2018. https://arxiv.org/abs/1712.05877
    """

    def __init__(
        self,
        units: int,
        use_bias: bool = True,
        fold_batch_norm: bool = False,
        bn_momentum: float = 0.99,
        bn_epsilon: float = 1e-3,
        activation: str | None = None,
        **kwargs,
    ):
        super().__init__(use_bias, fold_batch_norm, bn_momentum, bn_epsilon, activation, **kwargs)
        self.units = check_positive_int("units", units)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel", shape=(input_shape[-1], self.units), initializer="glorot_uniform"
        )
        self._add_common_weights(self.units)

    def _apply(self, x, kernel):
        return tf.matmul(x, kernel) if len(x.shape) == 2 else tf.tensordot(x, kernel, 1)

    def _quantize_kernel(self, kernel):
        return fake_quant_symmetric(kernel)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}
