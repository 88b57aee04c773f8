"""The ResNet backbone (He et al. 2016): a stem and stages of residual blocks."""

from __future__ import annotations

import keras

from layers.validation import (
    check_bool,
    check_choice,
    check_int_pair,
    check_positive_int,
    check_positive_ints,
    check_rate,
)
from zoo.models import Backbone
from zoo.vision.resnet.blocks import EXPANSION, conv_bn, residual_block

BLOCK_TYPES = tuple(EXPANSION)
STEMS = ("imagenet", "cifar")


@keras.saving.register_keras_serializable(package="keras_zoo")
class ResNetBackbone(Backbone):
    """ResNet: a stem, then stages of residual blocks, each stage after the first at half the
    resolution.

    The `"imagenet"` stem is a 7x7 stride-2 convolution and a 3x3 stride-2 max pool (output
    stride 32 with four stages); the `"cifar"` stem is one 3x3 convolution at full resolution
    (the paper's CIFAR-10 networks, §4.2, for small images). Stage `i` holds `depths[i]`
    blocks of width `widths[i]`; the first block of every stage but the first has stride 2.
    Convolutions use He-normal initialisation and no bias (batch norm follows each one).

    The model takes float NHWC images and returns `{"feature_map": x}`, shaped
    `(batch, h / s, w / s, widths[-1] * e)` with `s` the output stride and `e` 1 for basic and
    4 for bottleneck blocks.

    Args:
        image_size: input height and width, an int or a pair. Defaults to `224`.
        num_channels: input channels. Defaults to `3`.
        depths: blocks per stage. Defaults to `(2, 2, 2, 2)` (ResNet-18).
        widths: width of each stage's blocks, one per stage. Defaults to
            `(64, 128, 256, 512)`.
        block_type: `"basic"` (two 3x3 convolutions) or `"bottleneck"` (1x1, 3x3, 1x1 with
            4x expansion). Defaults to `"basic"`.
        stem: `"imagenet"` or `"cifar"`. Defaults to `"imagenet"`.
        stem_width: channels of the stem convolution. Defaults to `64`.
        norm_momentum: batch normalization momentum. Defaults to `0.99`.
        conv_bias: give every convolution a bias, as `keras.applications.ResNet50` does
            (redundant before batch norm). Defaults to `False`.
        **kwargs: `name`, `dtype` (a dtype policy; defaults to the global policy) and the other
            `keras.Model` arguments.

    Example:

    ```python
    backbone = ResNetBackbone(depths=(3, 4, 6, 3), block_type="bottleneck")  # ResNet-50
    features = backbone(images)["feature_map"]  # (batch, 7, 7, 2048) for 224 px
    small = ResNetBackbone(image_size=32, depths=(3, 3, 3), widths=(16, 32, 64),
                           stem="cifar", stem_width=16)  # ResNet-20 for CIFAR
    ```

    Reference:
        He et al., "Deep Residual Learning for Image Recognition", CVPR 2016.
    """

    def __init__(
        self,
        image_size=224,
        num_channels: int = 3,
        depths=(2, 2, 2, 2),
        widths=(64, 128, 256, 512),
        block_type: str = "basic",
        stem: str = "imagenet",
        stem_width: int = 64,
        norm_momentum: float = 0.99,
        conv_bias: bool = False,
        **kwargs,
    ):
        image_hw = check_int_pair("image_size", image_size)
        check_positive_int("num_channels", num_channels)
        stage_depths = check_positive_ints("depths", depths)
        stage_widths = check_positive_ints("widths", widths)
        if len(stage_widths) != len(stage_depths):
            raise ValueError(
                f"`widths` must give one width per stage ({len(stage_depths)} stages in "
                f"`depths`={depths!r}). Received: widths={widths!r}"
            )
        check_choice("block_type", block_type, BLOCK_TYPES)
        check_choice("stem", stem, STEMS)
        check_positive_int("stem_width", stem_width)
        check_rate("norm_momentum", norm_momentum)
        check_bool("conv_bias", conv_bias)

        dtype = self.dtype_policy_from(kwargs)
        options = dict(conv_bias=conv_bias, norm_momentum=norm_momentum, dtype=dtype)
        images = keras.Input(shape=(*image_hw, num_channels), name="images")
        if stem == "imagenet":
            x = conv_bn(images, stem_width, 7, 2, "stem", **options)
            # Zero padding equals the paper's -inf padding here: the inputs are ReLU outputs.
            x = keras.layers.ZeroPadding2D(1, name="stem_pool_pad", dtype=dtype)(x)
            x = keras.layers.MaxPooling2D(3, strides=2, name="stem_pool", dtype=dtype)(x)
        else:
            x = conv_bn(images, stem_width, 3, 1, "stem", **options)
        for stage, (depth, width) in enumerate(zip(stage_depths, stage_widths, strict=True)):
            for block in range(depth):
                strides = 2 if stage > 0 and block == 0 else 1
                name = f"stage_{stage}_block_{block}"
                x = residual_block(x, block_type, width, strides, name, **options)
        super().__init__(inputs=images, outputs={"feature_map": x}, dtype=dtype, **kwargs)
        self.image_hw = image_hw
        self.feature_channels = stage_widths[-1] * EXPANSION[block_type]
