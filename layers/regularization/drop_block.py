"""DropBlock: structured dropout that removes contiguous square regions of feature maps."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import (
    check_optional_seed,
    check_positive_int,
    check_rate,
)


def drop_block_gamma(rate: float, block_size: int, height, width):
    """Bernoulli rate of block centres that drops about `rate` of the units (paper, eq. 1).

    `gamma = rate / block_size**2 * (height * width) / ((height - block_size + 1) *
    (width - block_size + 1))`: each centre removes `block_size**2` units and centres are only
    drawn where the whole block fits. The paper writes it for square maps; this is the same count
    for a `height x width` map. `height` and `width` may be tensors.
    """
    valid = (height - block_size + 1) * (width - block_size + 1)
    return rate / block_size**2 * (height * width) / valid


@keras.saving.register_keras_serializable(package="keras_zoo")
class DropBlock2D(keras.layers.Layer):
    """Drops contiguous `block_size x block_size` regions of each feature map while training.

    Block centres are drawn independently per sample and channel with probability `gamma`
    (`drop_block_gamma`), only where the whole block fits inside the map; each centre zeroes the
    block around it. The kept units are scaled by `count(mask) / count_ones(mask)` over the whole
    batch, as in the paper's Algorithm 1, so the expected activation is unchanged. At inference
    the layer is the identity. Inputs are `(batch, height, width, channels)`.

    Args:
        rate: fraction of units to drop (the paper's `1 - keep_prob`), in `[0, 1)`.
            Defaults to `0.1`.
        block_size: side of the square blocks, a positive integer no larger than the feature map.
            Defaults to `7` (the paper's choice for ResNet-50).
        seed: integer seed for the random draws, or `None`. Defaults to `None`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    x = keras.Input((32, 32, 16))
    y = DropBlock2D(rate=0.1, block_size=5, seed=0)(keras.layers.Conv2D(16, 3)(x))
    ```

    Reference:
        Ghiasi, Lin and Le, "DropBlock: A regularization method for convolutional networks",
        NeurIPS 2018. https://arxiv.org/abs/1810.12890
    """

    def __init__(self, rate: float = 0.1, block_size: int = 7, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate("rate", rate)
        self.block_size = check_positive_int("block_size", block_size)
        self.seed = check_optional_seed("seed", seed)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                "`DropBlock2D` expects inputs of shape (batch, height, width, channels). "
                f"Received: input_shape={tuple(input_shape)}"
            )
        for axis, size in (("height", input_shape[1]), ("width", input_shape[2])):
            if size is not None and size < self.block_size:
                raise ValueError(
                    f"`block_size` must not exceed the feature map {axis} ({size}). "
                    f"Received: block_size={self.block_size}"
                )
        super().build(input_shape)

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        shape = ops.shape(inputs)
        height, width = shape[1], shape[2]
        gamma = drop_block_gamma(
            self.rate, self.block_size, ops.cast(height, "float32"), ops.cast(width, "float32")
        )
        draw = keras.random.uniform(shape, seed=self.seed_generator)
        centres = ops.cast(draw < gamma, "float32") * self._valid_centres(height, width)
        # A stride-1 max-pool turns every centre into the block_size x block_size block around it.
        dropped = ops.max_pool(centres, self.block_size, strides=1, padding="same")
        keep = 1.0 - dropped
        scale = ops.cast(ops.size(keep), "float32") / ops.maximum(ops.sum(keep), 1.0)
        return inputs * ops.cast(keep * scale, inputs.dtype)

    def _valid_centres(self, height, width):
        """1 where a block centred there lies inside the map (matching the max-pool's padding)."""
        before, after = self.block_size // 2, (self.block_size - 1) // 2
        rows = ops.arange(height)
        cols = ops.arange(width)
        row_ok = ops.logical_and(rows >= before, rows < height - after)
        col_ok = ops.logical_and(cols >= before, cols < width - after)
        valid = ops.logical_and(row_ok[:, None], col_ok[None, :])
        return ops.cast(valid, "float32")[None, :, :, None]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "block_size": self.block_size,
            "seed": self.seed,
        }
