"""The four-block convolutional encoder of the few-shot learning papers (Conv-4)."""

from __future__ import annotations

import keras

from layers.normalization import FusedBatchNormalization
from layers.validation import check_bool, check_int_pair, check_positive_int, check_unit_interval
from zoo.models import Backbone


@keras.saving.register_keras_serializable(package="keras_zoo")
class Conv4Backbone(Backbone):
    """Conv-4: `num_blocks` blocks of 3x3 convolution, batch norm, ReLU and 2x2 max-pooling.

    The embedding network of Prototypical Networks (Snell et al. 2017, "Prototypical Networks
    for Few-shot Learning", https://arxiv.org/abs/1703.05175, section 3.1), first used by
    Matching Networks (Vinyals et al. 2016) and by MAML (Finn et al. 2017) as its classifier
    body: each block is a 64-filter 3x3 convolution ("same" padding), batch normalization, a
    ReLU and a 2x2 max-pool (floor division of the size, as in the papers' code). A 28x28
    Omniglot image gives a 64-dimensional embedding (28-14-7-3-1), an 84x84 miniImageNet image
    a 1600-dimensional one; a map already 1x1 is kept as it is (8x8 digits: 8-4-2-1-1).

    Args:
        image_size: height and width of the input images, an int or a pair. Defaults to `28`.
        num_channels: channels of the input images. Defaults to `1`.
        filters: filters of every convolution. Defaults to `64`.
        num_blocks: number of conv-BN-ReLU-pool blocks. Defaults to `4`.
        batch_norm_momentum: momentum of the batch-norm moving statistics. Defaults to `0.9`
            (PyTorch's default, which the papers' code used).
        fused_batch_norm: use `layers.FusedBatchNormalization` (TensorFlow's fused kernel: the
            same outputs, gradients and moving statistics, a training step 1.6-1.7x faster on
            CPU) instead of `keras.layers.BatchNormalization`. Defaults to `True`; a config
            saved without this argument (before it existed) loads with `False`, so its weights
            load where they were saved.

    Outputs:
        `{"feature_map": [batch, h, w, filters], "embedding": [batch, h * w * filters]}`: the
        last block's map and its flattened vector (the papers' embedding).

    Example:

    ```python
    encoder = Conv4Backbone(image_size=28, num_channels=1)
    encoder(np.zeros((2, 28, 28, 1), "float32"))["embedding"].shape  # (2, 64)
    ```
    """

    def __init__(
        self,
        image_size=28,
        num_channels: int = 1,
        filters: int = 64,
        num_blocks: int = 4,
        batch_norm_momentum: float = 0.9,
        fused_batch_norm: bool = True,
        **kwargs,
    ):
        image_hw = check_int_pair("image_size", image_size)
        check_positive_int("num_channels", num_channels)
        check_positive_int("filters", filters)
        check_positive_int("num_blocks", num_blocks)
        check_unit_interval(
            "batch_norm_momentum", batch_norm_momentum, include_low=True, include_high=False
        )
        check_bool("fused_batch_norm", fused_batch_norm)
        batch_norm = (
            FusedBatchNormalization if fused_batch_norm else keras.layers.BatchNormalization
        )
        dtype = self.dtype_policy_from(kwargs)
        images = keras.Input(shape=(*image_hw, num_channels), name="images")
        x = images
        size = min(image_hw)
        for i in range(num_blocks):
            x = keras.layers.Conv2D(
                filters, 3, padding="same", name=f"block_{i}_conv", dtype=dtype
            )(x)
            x = batch_norm(momentum=batch_norm_momentum, name=f"block_{i}_bn", dtype=dtype)(x)
            x = keras.layers.ReLU(name=f"block_{i}_relu", dtype=dtype)(x)
            # Floor pooling, as the papers' code; a 1x1 map stays 1x1 instead of vanishing.
            padding = "valid" if size >= 2 else "same"
            x = keras.layers.MaxPooling2D(2, padding=padding, name=f"block_{i}_pool", dtype=dtype)(
                x
            )
            size = max(size // 2, 1)
        embedding = keras.layers.Flatten(name="embedding", dtype=dtype)(x)
        super().__init__(
            inputs=images,
            outputs={"feature_map": x, "embedding": embedding},
            dtype=dtype,
            **kwargs,
        )
        self.image_hw = image_hw

    @classmethod
    def from_config(cls, config: dict):
        # Configs from before `fused_batch_norm` hold `BatchNormalization` weights, which a
        # `.keras` file stores under the class's name: rebuild those layers as they were.
        return super().from_config({"fused_batch_norm": False, **config})
