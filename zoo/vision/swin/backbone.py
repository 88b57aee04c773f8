"""The Swin Transformer backbone (Liu et al. 2021)."""

from __future__ import annotations

import keras

from layers.validation import (
    check_int_pair,
    check_positive_float,
    check_positive_int,
    check_positive_ints,
    check_rate,
)
from zoo.models import Backbone
from zoo.vision.swin.layers import PatchMerging, SwinBlock


def stage_windows(resolution, window_size: int) -> tuple[int, int]:
    """`(window, shift)` of a stage: a grid no larger than the window gets one unshifted window.

    The reference implementation applies this rule, so the last stages of small images use
    plain global attention.
    """
    if min(resolution) <= window_size:
        return min(resolution), 0
    return window_size, window_size // 2


@keras.saving.register_keras_serializable(package="keras_zoo")
class SwinBackbone(Backbone):
    """The Swin Transformer: patch embedding and stages of shifted-window blocks.

    The image is cut into `patch_size` patches projected to `embed_dim` (a strided convolution)
    and layer-normed. Stage `i` has `depths[i]` blocks with `num_heads[i]` heads, alternating
    regular and shifted windows; every stage but the last ends with patch merging (half the
    grid, twice the channels). Stochastic depth rates grow linearly over all blocks up to
    `drop_path_rate`. A final layer norm follows.

    The model takes float NHWC images and returns `{"sequence_output": tokens}`, the last
    stage's tokens shaped `(batch, h * w, embed_dim * 2**(stages - 1))` (row-major grid), equal
    to Hugging Face `SwinModel`'s `last_hidden_state`.

    Args:
        image_size: input height and width, an int or a pair. Defaults to `224`.
        patch_size: patch side. Defaults to `4`.
        num_channels: input channels. Defaults to `3`.
        embed_dim: channels of the first stage. Defaults to `96`.
        depths: blocks per stage. Defaults to `(2, 2, 6, 2)`.
        num_heads: heads per stage. Defaults to `(3, 6, 12, 24)`.
        window_size: window side; each stage's grid must be a multiple of it (or at most it).
            Defaults to `7`.
        mlp_ratio: MLP width relative to the channels. Defaults to `4.0`.
        dropout: dropout on the embeddings and in the blocks. Defaults to `0.0`.
        attention_dropout: dropout of the attention probabilities. Defaults to `0.0`.
        drop_path_rate: stochastic depth rate of the last block. Defaults to `0.1`.
        layer_norm_epsilon: epsilon of every layer norm. Defaults to `1e-5`.
        **kwargs: `name`, `dtype` (a dtype policy; defaults to the global policy) and the other
            `keras.Model` arguments.

    Example:

    ```python
    backbone = SwinBackbone(image_size=32, patch_size=2, embed_dim=32, depths=(2, 2, 2),
                            num_heads=(2, 4, 8), window_size=4)
    tokens = backbone(images)["sequence_output"]  # (batch, 16, 128)
    ```

    Reference:
        Liu et al., "Swin Transformer: Hierarchical Vision Transformer using Shifted Windows",
        ICCV 2021.
    """

    def __init__(
        self,
        image_size=224,
        patch_size: int = 4,
        num_channels: int = 3,
        embed_dim: int = 96,
        depths=(2, 2, 6, 2),
        num_heads=(3, 6, 12, 24),
        window_size: int = 7,
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
        drop_path_rate: float = 0.1,
        layer_norm_epsilon: float = 1e-5,
        **kwargs,
    ):
        image_hw = check_int_pair("image_size", image_size)
        check_positive_int("patch_size", patch_size)
        check_positive_int("num_channels", num_channels)
        check_positive_int("embed_dim", embed_dim)
        depths = check_positive_ints("depths", depths)
        num_heads = check_positive_ints("num_heads", num_heads)
        if len(num_heads) != len(depths):
            raise ValueError(
                f"`num_heads` needs one entry per stage ({len(depths)}). "
                f"Received: num_heads={num_heads}"
            )
        check_positive_int("window_size", window_size)
        check_positive_float("mlp_ratio", mlp_ratio)
        check_rate("dropout", dropout)
        check_rate("attention_dropout", attention_dropout)
        check_rate("drop_path_rate", drop_path_rate)
        check_positive_float("layer_norm_epsilon", layer_norm_epsilon)
        grid = (image_hw[0] // patch_size, image_hw[1] // patch_size)
        # Every merge halves the grid; every stage's grid must split into whole windows.
        resolution = grid
        for stage in range(len(depths)):
            window, _ = stage_windows(resolution, window_size)
            if (
                image_hw[0] % patch_size
                or image_hw[1] % patch_size
                or any(
                    side % window or (stage < len(depths) - 1 and side % 2) for side in resolution
                )
            ):
                raise ValueError(
                    f"`image_size` must give every stage a grid of whole windows: with "
                    f"patch_size={patch_size} and window_size={window_size}, stage {stage} has "
                    f"a {resolution[0]}x{resolution[1]} grid. Received: image_size={image_size}"
                )
            resolution = (resolution[0] // 2, resolution[1] // 2)

        dtype = self.dtype_policy_from(kwargs)
        images = keras.Input(shape=(*image_hw, num_channels), name="images")
        x = keras.layers.Conv2D(
            embed_dim, patch_size, strides=patch_size, name="patch_embedding", dtype=dtype
        )(images)
        x = keras.layers.Reshape((grid[0] * grid[1], embed_dim), name="patches", dtype=dtype)(x)
        x = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, name="patch_norm", dtype=dtype
        )(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name="embedding_dropout", dtype=dtype)(x)
        total = sum(depths)
        index = 0
        resolution = grid
        for stage, (depth, heads) in enumerate(zip(depths, num_heads, strict=True)):
            window, shift = stage_windows(resolution, window_size)
            for b in range(depth):
                x = SwinBlock(
                    heads,
                    resolution,
                    window_size=window,
                    shift_size=shift if b % 2 else 0,
                    mlp_ratio=mlp_ratio,
                    dropout=dropout,
                    attention_dropout=attention_dropout,
                    drop_path_rate=drop_path_rate * index / max(1, total - 1),
                    layer_norm_epsilon=layer_norm_epsilon,
                    name=f"stage_{stage}_block_{b}",
                    dtype=dtype,
                )(x)
                index += 1
            if stage < len(depths) - 1:
                x = PatchMerging(
                    resolution, layer_norm_epsilon, name=f"stage_{stage}_merge", dtype=dtype
                )(x)
                resolution = (resolution[0] // 2, resolution[1] // 2)
        x = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, name="final_norm", dtype=dtype
        )(x)
        super().__init__(inputs=images, outputs={"sequence_output": x}, dtype=dtype, **kwargs)
        self.image_hw = image_hw
        self.depths = depths
        self.num_heads = num_heads
