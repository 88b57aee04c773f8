"""The eight candidate operations of DARTS's cell search space (Liu et al. 2019, §3.1, App. A.1).

Every operation maps `(batch, height, width, channels)` to `channels` output channels at the
same resolution (stride 1) or half of it (stride 2), so any of them can sit on any edge of a
cell. Convolutions use the paper's ReLU-conv-BN order; separable convolutions are applied twice
(the paper's `sep_conv`), dilated ones once (`dil_conv`, dilation 2). Pools carry no batch norm
(the paper's search network adds an affine-free one after pools; leaving it out keeps the
searched and the derived cells the same network, see `zoo.nas.darts.network`).

| name | operation |
|---|---|
| `none` | zeros (the "no edge" choice) |
| `max_pool_3x3`, `avg_pool_3x3` | 3x3 pooling (the average excludes padding) |
| `skip_connect` | identity; `FactorizedReduce` at stride 2 |
| `sep_conv_3x3`, `sep_conv_5x5` | `SepConv`: (ReLU, depthwise, 1x1 conv, BN) twice |
| `dil_conv_3x3`, `dil_conv_5x5` | `DilConv`: ReLU, depthwise with dilation 2, 1x1 conv, BN |

Example:

```python
op = make_op("sep_conv_3x3", channels=16, stride=1)
y = op(x)  # same shape as x when x has 16 channels
```

Reference:
    Liu, Simonyan and Yang, "DARTS: Differentiable Architecture Search", ICLR 2019.
"""

from __future__ import annotations

import keras

from layers.validation import check_positive_int

OP_NAMES = (
    "none",
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
# Batch norm as the paper's PyTorch code: momentum 0.1 there is 0.9 here, epsilon 1e-5.
BN_MOMENTUM = 0.9
BN_EPSILON = 1e-5


def check_op_name(name: str, known=OP_NAMES) -> str:
    """`name` if it is one of `known`, else a `ValueError` listing them."""
    if not isinstance(name, str) or name not in known:
        raise ValueError(
            f"Unknown operation; the known ones are {list(known)}. Received: op_name={name!r}"
        )
    return name


def check_stride(stride) -> int:
    """1 or 2: a cell edge keeps or halves the resolution."""
    if stride not in (1, 2) or isinstance(stride, bool):
        raise ValueError(f"`stride` must be 1 or 2. Received: stride={stride!r}")
    return stride


def _batch_norm(name: str, dtype):
    return keras.layers.BatchNormalization(
        momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=name, dtype=dtype
    )


def _pointwise(channels: int, name: str, dtype, strides: int = 1):
    return keras.layers.Conv2D(
        channels, 1, strides=strides, use_bias=False, padding="same", name=name, dtype=dtype
    )


def _build_chain(chain, input_shape):
    """Builds `chain`'s layers in order, each on the output shape of the one before."""
    shape = tuple(input_shape)
    for layer in chain:
        if not layer.built:
            layer.build(shape)
        shape = layer.compute_output_shape(shape)


class _ChannelsOp(keras.layers.Layer):
    """Shared argument handling of the operations that take `channels` and `stride`."""

    def __init__(self, channels: int, stride: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.channels = check_positive_int("channels", channels)
        self.stride = check_stride(stride)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "stride": self.stride}


@keras.saving.register_keras_serializable(package="keras_zoo")
class ReLUConvBN(_ChannelsOp):
    """ReLU, a `kernel_size` convolution (no bias) and batch norm: DARTS's cell preprocessing.

    Args:
        channels: output channels.
        stride: 1 or 2. Defaults to `1`.
        kernel_size: the convolution's kernel size. Defaults to `1`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Example:

    ```python
    y = ReLUConvBN(16)(x)  # (batch, h, w, 16)
    ```
    """

    def __init__(self, channels: int, stride: int = 1, kernel_size: int = 1, **kwargs):
        super().__init__(channels, stride, **kwargs)
        self.kernel_size = check_positive_int("kernel_size", kernel_size)
        self.conv = keras.layers.Conv2D(
            channels,
            kernel_size,
            strides=stride,
            padding="same",
            use_bias=False,
            name="conv",
            dtype=self.dtype_policy,
        )
        self.bn = _batch_norm("bn", self.dtype_policy)

    def build(self, input_shape):
        _build_chain([self.conv, self.bn], input_shape)

    def call(self, x, training=None):
        return self.bn(self.conv(keras.ops.relu(x)), training=training)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size}


@keras.saving.register_keras_serializable(package="keras_zoo")
class SepConv(_ChannelsOp):
    """The paper's separable convolution: (ReLU, depthwise `kernel_size`, 1x1 conv, BN) twice,
    the first depthwise convolution strided.

    Args:
        channels: output channels (and the middle ones).
        stride: 1 or 2. Defaults to `1`.
        kernel_size: the depthwise kernel size (3 or 5 in the paper). Defaults to `3`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Example:

    ```python
    y = SepConv(16, stride=2, kernel_size=5)(x)  # (batch, h/2, w/2, 16)
    ```
    """

    def __init__(self, channels: int, stride: int = 1, kernel_size: int = 3, **kwargs):
        super().__init__(channels, stride, **kwargs)
        self.kernel_size = check_positive_int("kernel_size", kernel_size)
        self.layers_in_order = []
        for i, strides in enumerate((stride, 1)):
            self.layers_in_order += [
                keras.layers.DepthwiseConv2D(
                    kernel_size,
                    strides=strides,
                    padding="same",
                    use_bias=False,
                    name=f"depthwise_{i}",
                    dtype=self.dtype_policy,
                ),
                _pointwise(channels, f"pointwise_{i}", self.dtype_policy),
                _batch_norm(f"bn_{i}", self.dtype_policy),
            ]

    def build(self, input_shape):
        _build_chain(self.layers_in_order, input_shape)

    def call(self, x, training=None):
        for i, layer in enumerate(self.layers_in_order):
            if i % 3 == 0:
                x = keras.ops.relu(x)
            x = layer(x, training=training) if i % 3 == 2 else layer(x)
        return x

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size}


@keras.saving.register_keras_serializable(package="keras_zoo")
class DilConv(_ChannelsOp):
    """The paper's dilated separable convolution: ReLU, depthwise `kernel_size` with dilation
    `dilation_rate`, 1x1 conv, BN.

    At stride 2 the dilated depthwise convolution runs at full resolution and every second
    row and column is kept (TensorFlow's dilated convolutions take no stride); that is the
    strided dilated convolution with the padding centred on the kept pixels.

    Args:
        channels: output channels.
        stride: 1 or 2. Defaults to `1`.
        kernel_size: the depthwise kernel size (3 or 5 in the paper). Defaults to `3`.
        dilation_rate: the depthwise dilation. Defaults to `2`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Example:

    ```python
    y = DilConv(16, kernel_size=5)(x)  # receptive field 9x9
    ```
    """

    def __init__(
        self, channels: int, stride: int = 1, kernel_size: int = 3, dilation_rate: int = 2, **kwargs
    ):
        super().__init__(channels, stride, **kwargs)
        self.kernel_size = check_positive_int("kernel_size", kernel_size)
        self.dilation_rate = check_positive_int("dilation_rate", dilation_rate)
        self.depthwise = keras.layers.DepthwiseConv2D(
            kernel_size,
            padding="same",
            dilation_rate=dilation_rate,
            use_bias=False,
            name="depthwise",
            dtype=self.dtype_policy,
        )
        self.pointwise = _pointwise(channels, "pointwise", self.dtype_policy)
        self.bn = _batch_norm("bn", self.dtype_policy)

    def build(self, input_shape):
        self.depthwise.build(tuple(input_shape))
        self.pointwise.build(tuple(input_shape))
        self.bn.build((*tuple(input_shape)[:-1], self.channels))

    def call(self, x, training=None):
        x = self.depthwise(keras.ops.relu(x))
        if self.stride > 1:
            x = x[:, :: self.stride, :: self.stride, :]
        return self.bn(self.pointwise(x), training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "kernel_size": self.kernel_size,
            "dilation_rate": self.dilation_rate,
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class FactorizedReduce(keras.layers.Layer):
    """Halves the resolution without losing pixels: ReLU, two strided 1x1 convolutions of
    `channels // 2` and `channels - channels // 2` filters, the second on the input shifted by
    one pixel, concatenated, then BN. DARTS's `skip_connect` at stride 2 and the preprocessing of
    a cell that follows a reduction cell.

    Args:
        channels: output channels (at least 2).
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Example:

    ```python
    y = FactorizedReduce(32)(x)  # (batch, ceil(h/2), ceil(w/2), 32)
    ```
    """

    def __init__(self, channels: int, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("channels", channels)
        if channels < 2:
            raise ValueError(
                f"`channels` must be at least 2 (two halves). Received: channels={channels}"
            )
        self.channels = channels
        half = channels // 2
        self.conv_even = _pointwise(half, "conv_even", self.dtype_policy, strides=2)
        self.conv_odd = _pointwise(channels - half, "conv_odd", self.dtype_policy, strides=2)
        self.bn = _batch_norm("bn", self.dtype_policy)

    def build(self, input_shape):
        self.conv_even.build(tuple(input_shape))
        self.conv_odd.build(tuple(input_shape))
        self.bn.build((*tuple(input_shape)[:-1], self.channels))

    def call(self, x, training=None):
        x = keras.ops.relu(x)
        # The odd pixels: shift by one and pad the far edge, so both halves have one size.
        shifted = keras.ops.pad(x[:, 1:, 1:, :], ((0, 0), (0, 1), (0, 1), (0, 0)))
        y = keras.ops.concatenate([self.conv_even(x), self.conv_odd(shifted)], axis=-1)
        return self.bn(y, training=training)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}


@keras.saving.register_keras_serializable(package="keras_zoo")
class Zero(keras.layers.Layer):
    """The `none` operation: zeros shaped like the input, subsampled by `stride`.

    Args:
        stride: 1 or 2. Defaults to `1`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Example:

    ```python
    Zero(stride=2)(x)  # zeros of shape (batch, ceil(h/2), ceil(w/2), channels)
    ```
    """

    def __init__(self, stride: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.stride = check_stride(stride)

    def call(self, x):
        return keras.ops.zeros_like(x[:, :: self.stride, :: self.stride, :])

    def get_config(self):
        return {**super().get_config(), "stride": self.stride}


def make_op(op_name: str, channels: int, stride: int = 1, *, name=None, dtype=None):
    """The candidate operation `op_name` as a keras layer.

    Args:
        op_name: one of `OP_NAMES`.
        channels: channels of the input and the output.
        stride: 1 or 2. Defaults to `1`.
        name: the layer's name. Defaults to `op_name`.
        dtype: the layer's dtype policy. Defaults to the global policy.

    Returns:
        A `keras.layers.Layer` mapping `(batch, h, w, channels)` to `channels` channels at
        `1 / stride` the resolution.

    Raises:
        ValueError: `op_name` is unknown (the message lists the known ones), or `stride` is
            not 1 or 2.

    Example:

    ```python
    pool = make_op("max_pool_3x3", 16, stride=2)
    ```
    """
    check_op_name(op_name)
    check_positive_int("channels", channels)
    check_stride(stride)
    options = {"name": name or op_name, "dtype": dtype}
    if op_name == "none":
        return Zero(stride, **options)
    if op_name == "skip_connect":
        if stride == 1:
            return keras.layers.Identity(**options)
        return FactorizedReduce(channels, **options)
    if op_name in ("max_pool_3x3", "avg_pool_3x3"):
        pool = (
            keras.layers.MaxPooling2D
            if op_name.startswith("max")
            else keras.layers.AveragePooling2D
        )
        return pool(3, strides=stride, padding="same", **options)
    kernel_size = int(op_name[-1])
    if op_name.startswith("sep_conv"):
        return SepConv(channels, stride, kernel_size, **options)
    return DilConv(channels, stride, kernel_size, **options)
