"""MobileNetV2 inverted residual block with optional squeeze-excite and stochastic depth."""

from __future__ import annotations

import keras

from layers.convolution.squeeze_excite import SqueezeExcite
from layers.regularization.stochastic_depth import StochasticDepth
from layers.validation import (
    check_int_pair,
    check_positive_float,
    check_positive_int,
    check_probability_open_closed,
    check_rate,
)


@keras.saving.register_keras_serializable(package="keras_zoo")
class InvertedResidual(keras.layers.Layer):
    """An inverted residual block: expand 1x1, depthwise, optional SE, linear project 1x1.

    The input's `channels` are expanded to `channels * expansion` by a 1x1 convolution with
    batch normalization and `activation` (skipped when `expansion == 1`), filtered by a
    `kernel_size` depthwise convolution with `strides`, batch normalization and `activation`,
    optionally gated by `SqueezeExcite` (bottleneck `max(1, int(channels * se_ratio))` units, as
    in MobileNetV3 and EfficientNet), and projected to `filters` by a 1x1 convolution with batch
    normalization and no activation (the linear bottleneck). When `strides == 1` and
    `filters == channels` the input is added back; `StochasticDepth` then drops the block's branch
    per sample with probability `1 - survival_probability` while training.

    Args:
        filters: output channels.
        expansion: expansion factor of the hidden width. Defaults to `6` (MobileNetV2).
        kernel_size: depthwise kernel size, an integer or a pair. Defaults to `3`.
        strides: depthwise strides, an integer or a pair. Defaults to `1`.
        se_ratio: squeeze-and-excitation bottleneck size relative to the block's input channels,
            or `None` for no SE. Defaults to `None`.
        survival_probability: stochastic depth keep probability of the residual branch, in
            `(0, 1]`; `1.0` disables it. Defaults to `1.0`.
        activation: activation after the expansion and depthwise convolutions.
            Defaults to `"relu6"`.
        norm_momentum: batch normalization momentum. Defaults to `0.99`.
        norm_epsilon: batch normalization epsilon. Defaults to `1e-3`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    x = keras.Input((32, 32, 16))
    y = InvertedResidual(16, expansion=4, se_ratio=0.25, survival_probability=0.9)(x)
    ```

    Reference:
        Sandler, Howard, Zhu, Zhmoginov and Chen, "MobileNetV2: Inverted Residuals and Linear
        Bottlenecks", CVPR 2018. https://arxiv.org/abs/1801.04381
    """

    def __init__(
        self,
        filters: int,
        expansion: int = 6,
        kernel_size=3,
        strides=1,
        se_ratio: float | None = None,
        survival_probability: float = 1.0,
        activation="relu6",
        norm_momentum: float = 0.99,
        norm_epsilon: float = 1e-3,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_positive_int("filters", filters)
        self.expansion = check_positive_int("expansion", expansion)
        self.kernel_size = check_int_pair("kernel_size", kernel_size)
        self.strides = check_int_pair("strides", strides)
        if se_ratio is not None:
            check_positive_float("se_ratio", se_ratio)
        self.se_ratio = se_ratio
        self.survival_probability = check_probability_open_closed(
            "survival_probability", survival_probability
        )
        self.activation = keras.activations.get(activation)
        self.norm_momentum = check_rate("norm_momentum", norm_momentum)
        self.norm_epsilon = check_positive_float("norm_epsilon", norm_epsilon)

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(
                "`InvertedResidual` expects inputs (batch, height, width, channels) with a known "
                f"channel count. Received: input_shape={tuple(input_shape)}"
            )
        channels = input_shape[-1]
        hidden = channels * self.expansion
        common = {"dtype": self.dtype_policy}
        norm = {"momentum": self.norm_momentum, "epsilon": self.norm_epsilon, **common}

        self.expand = self.expand_norm = None
        shape = tuple(input_shape)
        if self.expansion != 1:
            self.expand = keras.layers.Conv2D(hidden, 1, use_bias=False, name="expand", **common)
            self.expand_norm = keras.layers.BatchNormalization(name="expand_norm", **norm)
            self.expand.build(shape)
            shape = self.expand.compute_output_shape(shape)
            self.expand_norm.build(shape)
        self.depthwise = keras.layers.DepthwiseConv2D(
            self.kernel_size,
            strides=self.strides,
            padding="same",
            use_bias=False,
            name="depthwise",
            **common,
        )
        self.depthwise_norm = keras.layers.BatchNormalization(name="depthwise_norm", **norm)
        self.depthwise.build(shape)
        shape = self.depthwise.compute_output_shape(shape)
        self.depthwise_norm.build(shape)
        self.squeeze_excite = None
        if self.se_ratio is not None:
            self.squeeze_excite = SqueezeExcite(
                squeeze_channels=max(1, int(channels * self.se_ratio)),
                name="squeeze_excite",
                **common,
            )
            self.squeeze_excite.build(shape)
        self.project = keras.layers.Conv2D(
            self.filters, 1, use_bias=False, name="project", **common
        )
        self.project_norm = keras.layers.BatchNormalization(name="project_norm", **norm)
        self.project.build(shape)
        shape = self.project.compute_output_shape(shape)
        self.project_norm.build(shape)

        self.residual = self.strides == (1, 1) and channels == self.filters
        self.stochastic_depth = None
        if self.residual and self.survival_probability < 1.0:
            self.stochastic_depth = StochasticDepth(
                self.survival_probability, name="stochastic_depth", **common
            )
        super().build(input_shape)

    def call(self, inputs, training=None):
        x = inputs
        if self.expand is not None:
            x = self.activation(self.expand_norm(self.expand(x), training=training))
        x = self.activation(self.depthwise_norm(self.depthwise(x), training=training))
        if self.squeeze_excite is not None:
            x = self.squeeze_excite(x)
        x = self.project_norm(self.project(x), training=training)
        if not self.residual:
            return x
        if self.stochastic_depth is not None:
            return self.stochastic_depth([inputs, x], training=training)
        return inputs + x

    def compute_output_shape(self, input_shape):
        height, width = input_shape[1], input_shape[2]
        out = [
            None if size is None else -(-size // stride)
            for size, stride in zip((height, width), self.strides, strict=True)
        ]
        return (input_shape[0], *out, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "expansion": self.expansion,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "se_ratio": self.se_ratio,
            "survival_probability": self.survival_probability,
            "activation": keras.activations.serialize(self.activation),
            "norm_momentum": self.norm_momentum,
            "norm_epsilon": self.norm_epsilon,
        }
