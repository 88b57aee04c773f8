"""The convolutional backbone of DETR: a ResNet with frozen batch norm (He et al. 2016)."""

from __future__ import annotations

import keras

from layers.validation import (
    check_bool,
    check_choice,
    check_int_pair,
    check_positive_int,
    check_positive_ints,
)
from zoo.models import Backbone
from zoo.vision.resnet.blocks import conv_bn

BLOCK_TYPES = ("basic", "bottleneck")


def detr_residual_block(x, block_type, channels, strides, name, downsample_in_bottleneck, dtype):
    """A residual block laid out as Hugging Face's / torchvision's ResNet ("v1.5").

    The bottleneck reduces to `channels // 4`, and its stride sits on the 3x3 convolution
    (on the first 1x1 with `downsample_in_bottleneck`, the paper's original layout); a
    projection shortcut (1x1 and batch norm) where the shape or the resolution changes.
    """
    shortcut = x
    if strides > 1 or x.shape[-1] != channels:
        shortcut = conv_bn(x, channels, 1, strides, f"{name}_shortcut", relu=False, dtype=dtype)
    if block_type == "basic":
        h = conv_bn(x, channels, 3, strides, f"{name}_1", dtype=dtype)
        h = conv_bn(h, channels, 3, 1, f"{name}_2", relu=False, dtype=dtype)
    else:
        reduced = channels // 4
        first, second = (strides, 1) if downsample_in_bottleneck else (1, strides)
        h = conv_bn(x, reduced, 1, first, f"{name}_1", dtype=dtype)
        h = conv_bn(h, reduced, 3, second, f"{name}_2", dtype=dtype)
        h = conv_bn(h, channels, 1, 1, f"{name}_3", relu=False, dtype=dtype)
    x = keras.layers.Add(name=f"{name}_add", dtype=dtype)([shortcut, h])
    return keras.layers.ReLU(name=f"{name}_out", dtype=dtype)(x)


@keras.saving.register_keras_serializable(package="keras_zoo")
class DETRBackbone(Backbone):
    """DETR's backbone: a ResNet whose batch norms are frozen, returning `{"feature_map": x}`.

    The stem is a 7x7 stride-2 convolution and a 3x3 stride-2 max pool; stage `i` holds
    `depths[i]` residual blocks with `hidden_sizes[i]` output channels, every stage after the
    first at half the resolution (output stride 32 with four stages). The layout is Hugging
    Face's `ResNetModel` (torchvision's, stride on the bottleneck's 3x3), so DETR checkpoints
    convert layer by layer. With `freeze_batch_norm` (the paper's choice; Hugging Face's
    `DetrFrozenBatchNorm2d`) every batch norm uses its moving statistics and fixed affine
    parameters, in training too; with `freeze_early_layers` the stem and first stage do not
    train either (the other convolutions do).

    Args:
        image_size: input height and width, an int, a pair, or `None` for any size (DETR works
            at any resolution). Defaults to `None`.
        num_channels: input channels. Defaults to `3`.
        depths: blocks per stage. Defaults to `(3, 4, 6, 3)` (ResNet-50).
        hidden_sizes: output channels of each stage. Defaults to `(256, 512, 1024, 2048)`.
        block_type: `"bottleneck"` or `"basic"`. Defaults to `"bottleneck"`.
        stem_width: channels of the stem convolution. Defaults to `64`.
        downsample_in_bottleneck: put a bottleneck's stride on its first 1x1 convolution.
            Defaults to `False`.
        freeze_batch_norm: run the batch norms in inference mode, untrained. Defaults to `True`.
        freeze_early_layers: do not train the stem and the first stage (the paper's code and
            Hugging Face's `DetrConvEncoder`, for a pretrained backbone). Defaults to `True`.
        **kwargs: `name`, `dtype` and the other `keras.Model` arguments.

    Example:

    ```python
    backbone = DETRBackbone()  # ResNet-50, (batch, h / 32, w / 32, 2048)
    features = backbone(images)["feature_map"]
    ```

    Reference:
        Carion et al., "End-to-End Object Detection with Transformers", ECCV 2020, §3.2;
        He et al., "Deep Residual Learning for Image Recognition", CVPR 2016.
    """

    def __init__(
        self,
        image_size=None,
        num_channels: int = 3,
        depths=(3, 4, 6, 3),
        hidden_sizes=(256, 512, 1024, 2048),
        block_type: str = "bottleneck",
        stem_width: int = 64,
        downsample_in_bottleneck: bool = False,
        freeze_batch_norm: bool = True,
        freeze_early_layers: bool = True,
        **kwargs,
    ):
        any_size = image_size is None
        image_hw = (None, None) if any_size else check_int_pair("image_size", image_size)
        check_positive_int("num_channels", num_channels)
        stage_depths = check_positive_ints("depths", depths)
        sizes = check_positive_ints("hidden_sizes", hidden_sizes)
        if len(sizes) != len(stage_depths):
            raise ValueError(
                f"`hidden_sizes` must give one size per stage ({len(stage_depths)} stages in "
                f"`depths`={depths!r}). Received: hidden_sizes={hidden_sizes!r}"
            )
        check_choice("block_type", block_type, BLOCK_TYPES)
        if block_type == "bottleneck" and any(size % 4 for size in sizes):
            raise ValueError(
                "Bottleneck `hidden_sizes` must be multiples of 4 (the 3x3 width is a quarter). "
                f"Received: hidden_sizes={hidden_sizes!r}"
            )
        check_positive_int("stem_width", stem_width)
        check_bool("downsample_in_bottleneck", downsample_in_bottleneck)
        check_bool("freeze_batch_norm", freeze_batch_norm)
        check_bool("freeze_early_layers", freeze_early_layers)

        dtype = self.dtype_policy_from(kwargs)
        images = keras.Input(shape=(*image_hw, num_channels), name="images")
        x = conv_bn(images, stem_width, 7, 2, "stem", dtype=dtype)
        # Zero padding equals torch's -inf padding here: the inputs are ReLU outputs.
        x = keras.layers.ZeroPadding2D(1, name="stem_pool_pad", dtype=dtype)(x)
        x = keras.layers.MaxPooling2D(3, strides=2, name="stem_pool", dtype=dtype)(x)
        for stage, (depth, size) in enumerate(zip(stage_depths, sizes, strict=True)):
            for block in range(depth):
                strides = 2 if stage > 0 and block == 0 else 1
                x = detr_residual_block(
                    x,
                    block_type,
                    size,
                    strides,
                    f"stage_{stage}_block_{block}",
                    downsample_in_bottleneck,
                    dtype,
                )
        super().__init__(inputs=images, outputs={"feature_map": x}, dtype=dtype, **kwargs)
        for layer in self.layers:
            if freeze_batch_norm and isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False
            if freeze_early_layers and layer.name.startswith(("stem_", "stage_0_")):
                layer.trainable = False
        self.image_hw = image_hw
        self.feature_channels = sizes[-1]
