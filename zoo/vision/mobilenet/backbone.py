"""MobileNetV2 backbone from inverted residual blocks, with an optional MobileNetV3-style SE."""

from __future__ import annotations

import keras

from layers.convolution import InvertedResidual
from layers.validation import (
    check_positive_float,
    check_positive_int,
    check_positive_ints,
    check_rate,
)
from zoo.models import Backbone
from zoo.vision.inputs import check_image_shape

# (expansion t, channels c, repeats n, first stride s) of MobileNetV2, Table 2.
MOBILENET_V2_BLOCKS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def make_divisible(value: float, divisor: int = 8) -> int:
    """Rounds channels to a multiple of `divisor`, losing at most 10% (as the paper's code)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _check_blocks(blocks) -> tuple[tuple[int, int, int, int], ...]:
    if (
        not isinstance(blocks, list | tuple)
        or not blocks
        or not all(isinstance(b, list | tuple) and len(b) == 4 for b in blocks)
    ):
        raise ValueError(
            "`blocks` must be a non-empty sequence of (expansion, channels, repeats, stride) "
            f"positive integers. Received: blocks={blocks!r}"
        )
    return tuple(check_positive_ints(f"blocks[{i}]", b) for i, b in enumerate(blocks))


@keras.saving.register_keras_serializable(package="keras_zoo")
class MobileNetV2Backbone(Backbone):
    """MobileNetV2: a strided stem, stages of `InvertedResidual` blocks and a 1x1 head conv.

    Channel counts are scaled by `width_multiplier` and rounded to multiples of 8. With
    `se_ratio` set, every block gets a squeeze-and-excitation gate and, with
    `activation="hard_swish"`, the network is MobileNetV3-style (Howard et al. 2019). Stochastic
    depth rates grow linearly over the blocks up to `drop_path_rate`.

    The model takes float NHWC images and returns `{"feature_map": x}`, the last feature map
    shaped `(batch, h / 32, w / 32, head_channels)` with the default blocks.

    Args:
        input_shape: `(height, width, channels)`. Defaults to `(224, 224, 3)`.
        width_multiplier: the paper's alpha, scaling every layer's width. Defaults to `1.0`.
        blocks: `(expansion, channels, repeats, stride)` per stage. Defaults to MobileNetV2's
            Table 2.
        stem_filters: filters of the 3x3 stride-2 stem (before scaling). Defaults to `32`.
        head_filters: filters of the final 1x1 convolution (scaled only when
            `width_multiplier > 1`), or `None` for none. Defaults to `1280`.
        se_ratio: squeeze-and-excitation ratio of every block, or `None`. Defaults to `None`.
        activation: activation of the stem, blocks and head. Defaults to `"relu6"`.
        drop_path_rate: stochastic depth rate of the last residual block. Defaults to `0.0`.
        norm_momentum: batch normalization momentum. Defaults to `0.99`.
        **kwargs: `name`, `dtype` (a dtype policy; defaults to the global policy) and the other
            `keras.Model` arguments.

    Example:

    ```python
    backbone = MobileNetV2Backbone(input_shape=(96, 96, 3), width_multiplier=0.5)
    features = backbone(images)["feature_map"]  # (batch, 3, 3, 1280)
    ```

    Reference:
        Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", CVPR 2018;
        Howard et al., "Searching for MobileNetV3", ICCV 2019.
    """

    def __init__(
        self,
        input_shape=(224, 224, 3),
        width_multiplier: float = 1.0,
        blocks=MOBILENET_V2_BLOCKS,
        stem_filters: int = 32,
        head_filters: int | None = 1280,
        se_ratio: float | None = None,
        activation: str = "relu6",
        drop_path_rate: float = 0.0,
        norm_momentum: float = 0.99,
        **kwargs,
    ):
        input_shape = check_image_shape("input_shape", input_shape, allow_none=False)
        check_positive_float("width_multiplier", width_multiplier)
        blocks = _check_blocks(blocks)
        check_positive_int("stem_filters", stem_filters)
        check_positive_int("head_filters", head_filters, allow_none=True)
        check_positive_float("se_ratio", se_ratio, allow_none=True)
        check_rate("drop_path_rate", drop_path_rate)
        check_rate("norm_momentum", norm_momentum)

        dtype = self.dtype_policy_from(kwargs)
        images = keras.Input(shape=input_shape, name="images")
        x = keras.layers.Conv2D(
            make_divisible(stem_filters * width_multiplier),
            3,
            strides=2,
            padding="same",
            use_bias=False,
            name="stem_conv",
            dtype=dtype,
        )(images)
        x = keras.layers.BatchNormalization(momentum=norm_momentum, name="stem_bn", dtype=dtype)(x)
        x = keras.layers.Activation(activation, name="stem_act", dtype=dtype)(x)
        total = sum(n for _, _, n, _ in blocks)
        index = 0
        for stage, (expansion, channels, repeats, stride) in enumerate(blocks):
            filters = make_divisible(channels * width_multiplier)
            for r in range(repeats):
                x = InvertedResidual(
                    filters,
                    expansion=expansion,
                    strides=stride if r == 0 else 1,
                    se_ratio=se_ratio,
                    survival_probability=1.0 - drop_path_rate * index / max(1, total - 1),
                    activation=activation,
                    norm_momentum=norm_momentum,
                    name=f"stage_{stage}_block_{r}",
                    dtype=dtype,
                )(x)
                index += 1
        if head_filters is not None:
            width = make_divisible(head_filters * max(1.0, width_multiplier))
            x = keras.layers.Conv2D(width, 1, use_bias=False, name="head_conv", dtype=dtype)(x)
            x = keras.layers.BatchNormalization(
                momentum=norm_momentum, name="head_bn", dtype=dtype
            )(x)
            x = keras.layers.Activation(activation, name="head_act", dtype=dtype)(x)
        super().__init__(inputs=images, outputs={"feature_map": x}, dtype=dtype, **kwargs)
        self.input_shape_ = input_shape
        self.blocks = blocks
