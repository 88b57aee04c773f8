"""An image classifier on the Swin Transformer backbone."""

from __future__ import annotations

import keras

from layers.validation import check_positive_int
from zoo.vision.swin.backbone import SwinBackbone
from zoo.vision.task import (
    VisionClassifierTask,
    check_image_shape,
    check_label_smoothing,
    check_output_activation,
    resized_input,
)


@keras.saving.register_keras_serializable(package="keras_zoo")
class SwinClassifier(VisionClassifierTask):
    """A Swin Transformer classifier: `SwinBackbone`, mean pooling of the tokens, a dense head.

    Inputs of another shape than the backbone's are resized inside the model when
    `input_shape` is given. The model comes compiled with AdamW and (when
    `label_smoothing > 0`) label-smoothed cross-entropy.

    Args:
        num_classes: number of classes. Defaults to `1000`.
        input_shape: `(height, width, channels)` the model takes, resized to `image_size`
            inside; `None` takes `(*image_size, num_channels)`. Defaults to `None`.
        label_smoothing: label smoothing of the default loss. Defaults to `0.0`.
        output_activation: `None` for logits or `"softmax"`. Defaults to `None`.
        image_size, patch_size, num_channels, embed_dim, depths, num_heads, window_size,
            mlp_ratio, dropout, attention_dropout, drop_path_rate, layer_norm_epsilon: as in
            `SwinBackbone` (same defaults; `num_channels` defaults to `input_shape`'s channels).
        **kwargs: `name`, `dtype` (a dtype policy) and the other `keras.Model` arguments.

    Example:

    ```python
    model = SwinClassifier(num_classes=10, image_size=32, patch_size=2, embed_dim=32,
                           depths=(2, 2, 2), num_heads=(2, 4, 8), window_size=4)
    model.fit(images, labels, epochs=10)
    ```

    Reference:
        Liu et al., "Swin Transformer", ICCV 2021.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        input_shape=None,
        label_smoothing: float = 0.0,
        output_activation: str | None = None,
        image_size=224,
        patch_size: int = 4,
        num_channels: int | None = None,
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
        check_positive_int("num_classes", num_classes)
        input_shape = check_image_shape("input_shape", input_shape)
        check_output_activation(output_activation)
        if num_channels is None:
            num_channels = input_shape[-1] if input_shape else 3
        dtype = self.resolve_dtype_policy(kwargs.pop("dtype", None))
        backbone = SwinBackbone(
            image_size=image_size,
            patch_size=patch_size,
            num_channels=num_channels,
            embed_dim=embed_dim,
            depths=depths,
            num_heads=num_heads,
            window_size=window_size,
            mlp_ratio=mlp_ratio,
            dropout=dropout,
            attention_dropout=attention_dropout,
            drop_path_rate=drop_path_rate,
            layer_norm_epsilon=layer_norm_epsilon,
            name="backbone",
            dtype=dtype,
        )
        self.label_smoothing = check_label_smoothing(label_smoothing)
        inputs, x = resized_input(input_shape, backbone, dtype)
        tokens = backbone(x)["sequence_output"]
        pooled = keras.layers.GlobalAveragePooling1D(name="mean_pool", dtype=dtype)(tokens)
        outputs = keras.layers.Dense(
            num_classes, activation=output_activation, name="logits", dtype="float32"
        )(pooled)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.dtype_policy = dtype
        self.backbone = backbone
        self.num_classes = num_classes
        self.input_shape_ = input_shape
        self.output_activation = output_activation
        self.compile()

    def get_config(self):
        backbone = self.backbone.get_config()
        for key in ("name", "trainable", "dtype"):
            backbone.pop(key)
        return {
            **self.base_config(),
            **backbone,
            "num_classes": self.num_classes,
            "input_shape": None if self.input_shape_ is None else list(self.input_shape_),
            "label_smoothing": self.label_smoothing,
            "output_activation": self.output_activation,
        }
