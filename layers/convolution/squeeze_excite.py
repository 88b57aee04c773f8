"""Squeeze-and-excitation: channel attention from globally pooled features."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_positive_int


@keras.saving.register_keras_serializable(package="keras_zoo")
class SqueezeExcite(keras.layers.Layer):
    """Rescales each channel by a gate computed from the globally averaged features.

    Squeeze: average over all spatial positions. Excite: a bottleneck of two fully connected
    layers, `squeeze_channels` units with `activation` then one unit per channel with
    `gate_activation`. The input is multiplied by the resulting per-channel gate. Works on
    channels-last inputs of any spatial rank (1-D, 2-D, 3-D).

    Args:
        reduction: the paper's reduction ratio `r`; the bottleneck has
            `max(1, channels // reduction)` units. Defaults to `16`.
        squeeze_channels: bottleneck width, overriding `reduction` (MobileNet and EfficientNet
            size it from the block's input channels rather than the expanded ones).
            Defaults to `None`.
        activation: bottleneck activation. Defaults to `"relu"`.
        gate_activation: gate activation (`"hard_sigmoid"` in MobileNetV3).
            Defaults to `"sigmoid"`.
        kernel_initializer: initializer of both kernels. Defaults to `"glorot_uniform"`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    x = keras.Input((32, 32, 64))
    y = SqueezeExcite(reduction=16)(x)  # (None, 32, 32, 64), 4 bottleneck units
    ```

    Reference:
        Hu, Shen and Sun, "Squeeze-and-Excitation Networks", CVPR 2018.
        https://arxiv.org/abs/1709.01507
    """

    def __init__(
        self,
        reduction: int = 16,
        squeeze_channels: int | None = None,
        activation="relu",
        gate_activation="sigmoid",
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.reduction = check_positive_int("reduction", reduction)
        if squeeze_channels is not None:
            check_positive_int("squeeze_channels", squeeze_channels)
        self.squeeze_channels = squeeze_channels
        self.activation = keras.activations.get(activation)
        self.gate_activation = keras.activations.get(gate_activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.supports_masking = False

    def build(self, input_shape):
        if len(input_shape) < 3 or input_shape[-1] is None:
            raise ValueError(
                "`SqueezeExcite` expects channels-last inputs (batch, ..., channels) with at "
                f"least one spatial axis and a known channel count. Received: {input_shape}"
            )
        channels = input_shape[-1]
        units = self.squeeze_channels or max(1, channels // self.reduction)
        self.squeeze = keras.layers.Dense(
            units,
            activation=self.activation,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="squeeze",
        )
        self.excite = keras.layers.Dense(
            channels,
            activation=self.gate_activation,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="excite",
        )
        self.squeeze.build((None, channels))
        self.excite.build((None, units))
        super().build(input_shape)

    def call(self, inputs):
        spatial_axes = tuple(range(1, len(inputs.shape) - 1))
        pooled = ops.mean(inputs, axis=spatial_axes)
        gate = self.excite(self.squeeze(pooled))
        gate = ops.reshape(gate, (-1,) + (1,) * len(spatial_axes) + (inputs.shape[-1],))
        return inputs * gate

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "reduction": self.reduction,
            "squeeze_channels": self.squeeze_channels,
            "activation": keras.activations.serialize(self.activation),
            "gate_activation": keras.activations.serialize(self.gate_activation),
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }
