"""The residual blocks of ResNet (He et al. 2016), built from keras layers.

Functions that add layers to a functional graph (as `keras.applications` does) rather than
layer classes: every convolution and batch norm stays a plain keras layer, so the backbone
needs no custom serialisation and checkpoints map onto it layer by layer.
"""

from __future__ import annotations

import keras

# Output channels per unit of block width: the bottleneck's last 1x1 widens 4x (He et al. §4.1).
EXPANSION = {"basic": 1, "bottleneck": 4}
NORM_EPSILON = 1e-5


def conv_bn(
    x,
    filters: int,
    kernel_size: int,
    strides: int,
    name: str,
    *,
    relu: bool = True,
    conv_bias: bool = False,
    norm_momentum: float = 0.99,
    dtype=None,
):
    """A convolution, batch normalization and (with `relu`) a ReLU, named `{name}_conv` etc.

    Strided convolutions are padded by `kernel_size // 2` on every side, as in the paper's
    implementation and torchvision (keras's `padding="same"` would pad only the bottom and
    right of even inputs), so converted weights give the same outputs.
    """
    padding = "same"
    if strides > 1 and kernel_size > 1:
        x = keras.layers.ZeroPadding2D(kernel_size // 2, name=f"{name}_pad", dtype=dtype)(x)
        padding = "valid"
    x = keras.layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding=padding,
        use_bias=conv_bias,
        kernel_initializer="he_normal",
        name=f"{name}_conv",
        dtype=dtype,
    )(x)
    x = keras.layers.BatchNormalization(
        momentum=norm_momentum, epsilon=NORM_EPSILON, name=f"{name}_bn", dtype=dtype
    )(x)
    if relu:
        x = keras.layers.ReLU(name=f"{name}_relu", dtype=dtype)(x)
    return x


def residual_block(x, block_type: str, width: int, strides: int, name: str, **options):
    """One residual block: `relu(shortcut(x) + residual(x))`.

    `"basic"` (ResNet-18/34): two 3x3 convolutions of `width` channels, the first strided.
    `"bottleneck"` (ResNet-50/101/152): 1x1 to `width`, 3x3, 1x1 to `4 * width`; the stride
    is on the first 1x1, as in the paper and `keras.applications` (torchvision's "v1.5" moves
    it to the 3x3; the parameter count is the same). The shortcut is the identity, or a
    strided 1x1 convolution with batch norm where the shape changes (the paper's option B).

    Args:
        x: the symbolic `(batch, height, width, channels)` input.
        block_type: `"basic"` or `"bottleneck"`.
        width: channels of the block's 3x3 convolutions.
        strides: 1, or 2 to halve the resolution.
        name: prefix of the block's layer names.
        **options: `conv_bias`, `norm_momentum` and `dtype`, passed to `conv_bn`.

    Returns:
        The block's output, `width * EXPANSION[block_type]` channels.
    """
    channels = width * EXPANSION[block_type]
    shortcut = x
    if strides > 1 or x.shape[-1] != channels:
        shortcut = conv_bn(x, channels, 1, strides, f"{name}_shortcut", relu=False, **options)
    if block_type == "basic":
        h = conv_bn(x, width, 3, strides, f"{name}_1", **options)
        h = conv_bn(h, width, 3, 1, f"{name}_2", relu=False, **options)
    else:
        h = conv_bn(x, width, 1, strides, f"{name}_1", **options)
        h = conv_bn(h, width, 3, 1, f"{name}_2", **options)
        h = conv_bn(h, channels, 1, 1, f"{name}_3", relu=False, **options)
    dtype = options.get("dtype")
    x = keras.layers.Add(name=f"{name}_add", dtype=dtype)([shortcut, h])
    return keras.layers.ReLU(name=f"{name}_out", dtype=dtype)(x)
