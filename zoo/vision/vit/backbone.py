"""The Vision Transformer backbone (Dosovitskiy et al. 2021)."""

from __future__ import annotations

import keras
import numpy as np

from layers.embedding import PositionEmbedding, SinusoidalPositionEmbedding
from layers.validation import (
    check_bool,
    check_choice,
    check_int_pair,
    check_positive_float,
    check_positive_int,
    check_rate,
)
from zoo.models import Backbone
from zoo.vision.vit.blocks import ClassToken, ViTEncoderBlock

POSITION_EMBEDDINGS = ("learned", "sinusoidal")


@keras.saving.register_keras_serializable(package="keras_zoo")
class ViTBackbone(Backbone):
    """The Vision Transformer encoder: patch embedding, positions and pre-norm blocks.

    The image is cut into `patch_size` x `patch_size` patches, each projected linearly (a
    strided convolution) to `hidden_dim` features; an optional class token is prepended and
    position embeddings are added; `num_layers` pre-norm transformer blocks and a final layer
    norm follow. Stochastic depth rates grow linearly from 0 to `drop_path_rate` over the blocks.

    The model takes float NHWC images and returns `{"sequence_output": tokens}`, tokens shaped
    `(batch, 1 + num_patches, hidden_dim)` with the class token first (or
    `(batch, num_patches, hidden_dim)` with `class_token=False`), patches in row-major order.

    Args:
        image_size: input height and width, an int or a pair. Defaults to `224`.
        patch_size: patch height and width, an int or a pair; must divide `image_size`.
            Defaults to `16`.
        num_channels: input channels. Defaults to `3`.
        hidden_dim: token width. Defaults to `192`.
        num_layers: number of transformer blocks. Defaults to `12`.
        num_heads: attention heads per block. Defaults to `3`.
        mlp_dim: hidden width of each block's MLP. Defaults to `768`.
        class_token: prepend a learned class token. Defaults to `True`.
        position_embedding: `"learned"` or `"sinusoidal"` (fixed, Vaswani et al.). Defaults to
            `"learned"`.
        dropout: dropout on the embeddings and after each projection. Defaults to `0.0`.
        attention_dropout: dropout of the attention probabilities. Defaults to `0.0`.
        drop_path_rate: stochastic depth rate of the last block. Defaults to `0.0`.
        layer_norm_epsilon: epsilon of every layer norm. Defaults to `1e-6`.
        **kwargs: `name`, `dtype` (a dtype policy; defaults to the global policy) and the other
            `keras.Model` arguments.

    Example:

    ```python
    backbone = ViTBackbone(image_size=32, patch_size=4, hidden_dim=64, num_layers=4,
                           num_heads=4, mlp_dim=128)
    tokens = backbone(images)["sequence_output"]  # (batch, 65, 64)
    bigger = backbone.with_image_size(64)          # position table interpolated
    ```

    Reference:
        Dosovitskiy et al., "An Image is Worth 16x16 Words: Transformers for Image Recognition
        at Scale", ICLR 2021.
    """

    def __init__(
        self,
        image_size=224,
        patch_size=16,
        num_channels: int = 3,
        hidden_dim: int = 192,
        num_layers: int = 12,
        num_heads: int = 3,
        mlp_dim: int = 768,
        class_token: bool = True,
        position_embedding: str = "learned",
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
        drop_path_rate: float = 0.0,
        layer_norm_epsilon: float = 1e-6,
        **kwargs,
    ):
        image_hw = check_int_pair("image_size", image_size)
        patch_hw = check_int_pair("patch_size", patch_size)
        if image_hw[0] % patch_hw[0] or image_hw[1] % patch_hw[1]:
            raise ValueError(
                f"`patch_size` must divide `image_size` ({image_size}). "
                f"Received: patch_size={patch_size}"
            )
        check_positive_int("num_channels", num_channels)
        check_positive_int("hidden_dim", hidden_dim)
        check_positive_int("num_layers", num_layers)
        check_positive_int("num_heads", num_heads)
        if hidden_dim % num_heads:
            raise ValueError(
                f"`num_heads` must divide `hidden_dim` ({hidden_dim}). "
                f"Received: num_heads={num_heads}"
            )
        check_positive_int("mlp_dim", mlp_dim)
        check_bool("class_token", class_token)
        check_choice("position_embedding", position_embedding, POSITION_EMBEDDINGS)
        check_rate("dropout", dropout)
        check_rate("attention_dropout", attention_dropout)
        check_rate("drop_path_rate", drop_path_rate)
        check_positive_float("layer_norm_epsilon", layer_norm_epsilon)

        dtype = self.dtype_policy_from(kwargs)
        grid = (image_hw[0] // patch_hw[0], image_hw[1] // patch_hw[1])
        num_tokens = grid[0] * grid[1] + int(class_token)
        images = keras.Input(shape=(*image_hw, num_channels), name="images")
        x = keras.layers.Conv2D(
            hidden_dim, patch_hw, strides=patch_hw, name="patch_embedding", dtype=dtype
        )(images)
        x = keras.layers.Reshape((grid[0] * grid[1], hidden_dim), name="patches", dtype=dtype)(x)
        if class_token:
            x = ClassToken(name="class_token", dtype=dtype)(x)
        if position_embedding == "learned":
            # timm and the paper initialise the table with N(0, 0.02).
            table = PositionEmbedding(
                num_tokens,
                initializer=keras.initializers.TruncatedNormal(stddev=0.02),
                name="position_embedding",
                dtype=dtype,
            )
        else:
            table = SinusoidalPositionEmbedding(name="position_embedding", dtype=dtype)
        x = keras.layers.Add(name="add_positions", dtype=dtype)([x, table(x)])
        if dropout:
            x = keras.layers.Dropout(dropout, name="embedding_dropout", dtype=dtype)(x)
        for i in range(num_layers):
            x = ViTEncoderBlock(
                num_heads,
                mlp_dim,
                dropout=dropout,
                attention_dropout=attention_dropout,
                drop_path_rate=drop_path_rate * i / max(1, num_layers - 1),
                layer_norm_epsilon=layer_norm_epsilon,
                name=f"block_{i}",
                dtype=dtype,
            )(x)
        x = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, name="final_norm", dtype=dtype
        )(x)
        super().__init__(inputs=images, outputs={"sequence_output": x}, dtype=dtype, **kwargs)
        self.image_hw = image_hw
        self.grid_size = grid

    def with_image_size(self, image_size) -> ViTBackbone:
        """A copy of this backbone for `image_size` inputs, its position table interpolated.

        The patch grid of the learned table is resized bicubically (as in the paper's
        fine-tuning at higher resolution, section 3.2); the class-token row is kept as is.
        Every other weight is copied unchanged.
        """
        config = {**self.get_config(), "image_size": image_size}
        resized = ViTBackbone.from_config(config)
        for source, target in zip(self.layers, resized.layers, strict=True):
            weights = source.get_weights()
            if source.name == "position_embedding" and weights:
                weights = [
                    interpolate_positions(
                        weights[0], self.grid_size, resized.grid_size, int(self.class_token)
                    )
                ]
            target.set_weights(weights)
        return resized


def interpolate_positions(table: np.ndarray, old_grid, new_grid, num_prefix: int) -> np.ndarray:
    """Resizes a `(prefix + h * w, d)` position table to a new patch grid, bicubically.

    Args:
        table: the table, the `num_prefix` class-token rows first, then the grid row-major.
        old_grid: `(h, w)` of the table's grid.
        new_grid: `(h, w)` wanted.
        num_prefix: rows before the grid (1 with a class token, else 0).

    Returns:
        The `(prefix + new_h * new_w, d)` table.
    """
    import tensorflow as tf

    prefix, grid = table[:num_prefix], table[num_prefix:]
    if grid.shape[0] != old_grid[0] * old_grid[1]:
        raise ValueError(
            f"The table has {grid.shape[0]} grid rows, not {old_grid[0]}x{old_grid[1]}. "
            f"Received: old_grid={tuple(old_grid)}"
        )
    if tuple(old_grid) == tuple(new_grid):
        return table
    image = grid.reshape(1, old_grid[0], old_grid[1], -1)
    resized = tf.image.resize(image, new_grid, method="bicubic").numpy()
    return np.concatenate([prefix, resized.reshape(new_grid[0] * new_grid[1], -1)], axis=0)
