"""Deformable convolution (v1) and modulated deformable convolution (v2)."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import (
    check_choice,
    check_int_pair,
    check_positive_int,
)


def _padding_before(size, out_size, kernel: int, stride: int, dilation: int, padding: str):
    if padding == "valid":
        return 0
    total = ops.maximum((out_size - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2


def deform_conv2d(
    inputs,
    offsets,
    kernel,
    mask=None,
    strides=(1, 1),
    padding: str = "valid",
    dilation_rate=(1, 1),
):
    """Deformable 2-D convolution of channels-last `inputs` at given sampling offsets.

    Output position `p` with kernel tap `k` samples the input at `p * stride - pad + p_k +
    offset_k(p)` (`p_k` the dilated tap position) by bilinear interpolation, where points outside
    the map read as zero; the sample is multiplied by `mask_k(p)` when a mask is given, then the
    samples are contracted with the kernel. With zero offsets and a mask of ones this is exactly
    `keras.ops.conv`. Sampling gathers four neighbours, so it compiles with XLA.

    Args:
        inputs: `(batch, height, width, channels)`.
        offsets: `(batch, out_height, out_width, 2 * offset_groups * kh * kw)`, laid out as
            `[group][tap][(dy, dx)]`, taps in row-major order. Channels are split into
            `offset_groups` equal groups, each with its own offsets.
        kernel: `(kh, kw, channels, filters)`.
        mask: `None` or `(batch, out_height, out_width, offset_groups * kh * kw)`, laid out as
            `[group][tap]`.
        strides, padding, dilation_rate: as in `keras.ops.conv` (`"valid"` or `"same"`).

    Returns:
        `(batch, out_height, out_width, filters)`.
    """
    kh, kw, channels, filters = kernel.shape
    taps = kh * kw
    groups = offsets.shape[-1] // (2 * taps)
    group_channels = channels // groups
    shape, out_shape = ops.shape(inputs), ops.shape(offsets)
    batch, height, width = shape[0], shape[1], shape[2]
    out_h, out_w = out_shape[1], out_shape[2]

    top = _padding_before(height, out_h, kh, strides[0], dilation_rate[0], padding)
    left = _padding_before(width, out_w, kw, strides[1], dilation_rate[1], padding)
    rows = ops.arange(out_h) * strides[0] - top
    cols = ops.arange(out_w) * strides[1] - left
    tap_rows = (ops.arange(taps) // kw) * dilation_rate[0]
    tap_cols = (ops.arange(taps) % kw) * dilation_rate[1]
    # Base positions laid out as (out_h, out_w, groups, taps).
    base_y = ops.cast(rows[:, None, None, None] + tap_rows, "float32")
    base_x = ops.cast(cols[None, :, None, None] + tap_cols, "float32")

    offsets = ops.reshape(ops.cast(offsets, "float32"), (batch, out_h, out_w, groups, taps, 2))
    y = base_y + offsets[..., 0]
    x = base_x + offsets[..., 1]
    y0, x0 = ops.floor(y), ops.floor(x)
    fy, fx = y - y0, x - x0
    y0, x0 = ops.cast(y0, "int32"), ops.cast(x0, "int32")

    # The four neighbours and their bilinear weights; out-of-map neighbours weigh zero.
    indices, weights = [], []
    for dy, wy in ((0, 1.0 - fy), (1, fy)):
        for dx, wx in ((0, 1.0 - fx), (1, fx)):
            yy, xx = y0 + dy, x0 + dx
            inside = (yy >= 0) & (yy < height) & (xx >= 0) & (xx < width)
            yy = ops.minimum(ops.maximum(yy, 0), height - 1)
            xx = ops.minimum(ops.maximum(xx, 0), width - 1)
            indices.append(yy * width + xx)
            weights.append(wy * wx * ops.cast(inside, "float32"))
    # (4, batch, out_h, out_w, groups, taps) -> (batch, groups, 4 * out_h * out_w * taps)
    indices = ops.transpose(ops.stack(indices), (1, 4, 0, 2, 3, 5))
    indices = ops.reshape(indices, (batch, groups, -1, 1))
    weights = ops.stack(weights)
    if mask is not None:
        mask = ops.reshape(ops.cast(mask, "float32"), (batch, out_h, out_w, groups, taps))
        weights = weights * mask[None]
    weights = ops.transpose(weights, (1, 4, 0, 2, 3, 5))
    weights = ops.reshape(weights, (batch, groups, 4, out_h, out_w, taps, 1))

    flat = ops.reshape(inputs, (batch, height * width, groups, group_channels))
    flat = ops.transpose(flat, (0, 2, 1, 3))
    gathered = ops.take_along_axis(flat, indices, axis=2)
    gathered = ops.reshape(gathered, (batch, groups, 4, out_h, out_w, taps, group_channels))
    sampled = ops.sum(gathered * ops.cast(weights, inputs.dtype), axis=2)
    # (batch, groups, out_h, out_w, taps, c) -> (batch, out_h, out_w, taps * channels), the
    # (kh, kw, channels) order of the reshaped kernel.
    sampled = ops.transpose(sampled, (0, 2, 3, 4, 1, 5))
    sampled = ops.reshape(sampled, (batch, out_h, out_w, taps * channels))
    return ops.matmul(sampled, ops.reshape(kernel, (taps * channels, filters)))


@keras.saving.register_keras_serializable(package="keras_zoo")
class DeformableConv2D(keras.layers.Layer):
    """2-D convolution that samples its input at learned, per-position offsets.

    A plain convolution (`offset_conv`, same kernel size, strides, padding and dilation, weights
    initialised to zero) predicts a `(dy, dx)` offset for every kernel tap at every output
    position; the input is read at the shifted positions by bilinear interpolation and the
    samples are convolved with the layer's kernel (Dai et al., DCNv1). With `modulated=True`
    a second zero-initialised convolution (`mask_conv`) predicts a modulation scalar per tap,
    passed through a sigmoid (Zhu et al., DCNv2), which multiplies each sample. Channels may be
    split into `offset_groups` groups with separate offsets.

    At initialisation the offsets are zero, so a `modulated=False` layer equals a `Conv2D` with
    the same kernel and a `modulated=True` layer equals half of it (sigmoid(0) = 0.5), as in the
    paper. Inputs are channels-last; `padding` is `"valid"` or `"same"`.

    Args:
        filters: number of output channels.
        kernel_size: an integer or a pair `(kh, kw)`.
        strides: an integer or a pair. Defaults to `(1, 1)`.
        padding: `"valid"` or `"same"`. Defaults to `"valid"`.
        dilation_rate: an integer or a pair. Defaults to `(1, 1)`.
        offset_groups: number of channel groups with their own offsets (and masks); must divide
            the input channels. Defaults to `1`.
        modulated: whether to learn modulation masks (DCNv2). Defaults to `True`.
        activation: activation applied to the output. Defaults to `None`.
        use_bias: whether to add a bias. Defaults to `True`.
        kernel_initializer: initializer of the main kernel. Defaults to `"glorot_uniform"`.
        bias_initializer: initializer of the bias. Defaults to `"zeros"`.
        kernel_regularizer, bias_regularizer, kernel_constraint, bias_constraint: for the main
            kernel and bias. Default to `None`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    x = keras.Input((32, 32, 16))
    y = DeformableConv2D(32, 3, padding="same", offset_groups=2)(x)  # (None, 32, 32, 32)
    ```

    References:
        Dai et al., "Deformable Convolutional Networks", ICCV 2017.
        https://arxiv.org/abs/1703.06211
        Zhu, Hu, Lin and Dai, "Deformable ConvNets v2: More Deformable, Better Results",
        CVPR 2019. https://arxiv.org/abs/1811.11168
    """

    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=(1, 1),
        padding: str = "valid",
        dilation_rate=(1, 1),
        offset_groups: int = 1,
        modulated: bool = True,
        activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = check_int_pair("kernel_size", kernel_size)
        self.strides = check_int_pair("strides", strides)
        self.padding = check_choice("padding", padding, ("valid", "same"))
        self.dilation_rate = check_int_pair("dilation_rate", dilation_rate)
        self.offset_groups = check_positive_int("offset_groups", offset_groups)
        if not isinstance(modulated, bool):
            raise TypeError(f"`modulated` must be a bool. Received: modulated={modulated!r}")
        self.modulated = modulated
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)

        taps = self.kernel_size[0] * self.kernel_size[1]
        conv_args = {
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "dilation_rate": self.dilation_rate,
            "kernel_initializer": "zeros",
            "bias_initializer": "zeros",
            "dtype": self.dtype_policy,
        }
        self.offset_conv = keras.layers.Conv2D(
            2 * offset_groups * taps, name="offset_conv", **conv_args
        )
        self.mask_conv = (
            keras.layers.Conv2D(offset_groups * taps, name="mask_conv", **conv_args)
            if modulated
            else None
        )

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(
                "`DeformableConv2D` expects inputs (batch, height, width, channels) with a known "
                f"channel count. Received: input_shape={tuple(input_shape)}"
            )
        channels = input_shape[-1]
        if channels % self.offset_groups:
            raise ValueError(
                f"`offset_groups` must divide the input channels ({channels}). "
                f"Received: offset_groups={self.offset_groups}"
            )
        self.offset_conv.build(input_shape)
        if self.mask_conv is not None:
            self.mask_conv.build(input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, channels, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = (
            self.add_weight(
                name="bias",
                shape=(self.filters,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
            if self.use_bias
            else None
        )
        super().build(input_shape)

    def call(self, inputs):
        offsets = self.offset_conv(inputs)
        mask = ops.sigmoid(self.mask_conv(inputs)) if self.mask_conv is not None else None
        outputs = deform_conv2d(
            inputs,
            offsets,
            self.kernel,
            mask=mask,
            strides=self.strides,
            padding=self.padding,
            dilation_rate=self.dilation_rate,
        )
        if self.bias is not None:
            outputs = outputs + self.bias
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return self.offset_conv.compute_output_shape(input_shape)[:-1] + (self.filters,)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "dilation_rate": self.dilation_rate,
            "offset_groups": self.offset_groups,
            "modulated": self.modulated,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
            "bias_constraint": keras.constraints.serialize(self.bias_constraint),
        }
