"""An image classifier on the Vision Transformer backbone."""

from __future__ import annotations

import keras

from layers.validation import check_choice, check_positive_int
from zoo.vision.task import (
    VisionClassifierTask,
    check_image_shape,
    check_label_smoothing,
    check_output_activation,
    resized_input,
)
from zoo.vision.vit.backbone import ViTBackbone

POOLINGS = ("token", "mean")


@keras.saving.register_keras_serializable(package="keras_zoo")
class ViTClassifier(VisionClassifierTask):
    """A Vision Transformer classifier: `ViTBackbone`, pooling and a dense head.

    With `pooling="token"` the backbone gets a class token and the head reads it; with
    `pooling="mean"` there is no class token and the head reads the mean of the patch tokens.
    Inputs of another shape than the backbone's (e.g. 8x8x1 digits for a 32x32 preset) are
    resized inside the model when `input_shape` is given. The model comes compiled with AdamW
    and (when `label_smoothing > 0`) label-smoothed cross-entropy.

    Args:
        num_classes: number of classes. Defaults to `1000`.
        pooling: `"token"` or `"mean"`. Defaults to `"token"`.
        input_shape: `(height, width, channels)` the model takes; images are bilinearly resized
            to `image_size` inside the model. `None` takes `(*image_size, num_channels)`.
            Defaults to `None`.
        label_smoothing: label smoothing of the default loss. Defaults to `0.0`.
        output_activation: `None` for logits or `"softmax"`. Defaults to `None`.
        image_size, patch_size, num_channels, hidden_dim, num_layers, num_heads, mlp_dim,
            position_embedding, dropout, attention_dropout, drop_path_rate, layer_norm_epsilon:
            as in `ViTBackbone` (same defaults). `num_channels` defaults to the channels of
            `input_shape` when that is given.
        **kwargs: `name`, `dtype` (a dtype policy) and the other `keras.Model` arguments.

    Example:

    ```python
    model = ViTClassifier(num_classes=10, image_size=32, patch_size=4, hidden_dim=64,
                          num_layers=4, num_heads=4, mlp_dim=128, label_smoothing=0.1)
    model.fit(images, labels, epochs=10)
    ```

    Reference:
        Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR 2021.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        pooling: str = "token",
        input_shape=None,
        label_smoothing: float = 0.0,
        output_activation: str | None = None,
        image_size=224,
        patch_size=16,
        num_channels: int | None = None,
        hidden_dim: int = 192,
        num_layers: int = 12,
        num_heads: int = 3,
        mlp_dim: int = 768,
        position_embedding: str = "learned",
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
        drop_path_rate: float = 0.0,
        layer_norm_epsilon: float = 1e-6,
        **kwargs,
    ):
        check_positive_int("num_classes", num_classes)
        check_choice("pooling", pooling, POOLINGS)
        input_shape = check_image_shape("input_shape", input_shape)
        check_output_activation(output_activation)
        if num_channels is None:
            num_channels = input_shape[-1] if input_shape else 3
        dtype = self.resolve_dtype_policy(kwargs.pop("dtype", None))
        backbone = ViTBackbone(
            image_size=image_size,
            patch_size=patch_size,
            num_channels=num_channels,
            hidden_dim=hidden_dim,
            num_layers=num_layers,
            num_heads=num_heads,
            mlp_dim=mlp_dim,
            class_token=pooling == "token",
            position_embedding=position_embedding,
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
        if pooling == "token":
            pooled = tokens[:, 0]
        else:
            pooled = keras.layers.GlobalAveragePooling1D(name="mean_pool", dtype=dtype)(tokens)
        outputs = keras.layers.Dense(
            num_classes, activation=output_activation, name="logits", dtype="float32"
        )(pooled)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.dtype_policy = dtype
        self.backbone = backbone
        self.num_classes = num_classes
        self.pooling = pooling
        self.input_shape_ = input_shape
        self.output_activation = output_activation
        self.compile()

    def get_config(self):
        backbone = self.backbone.get_config()
        for key in ("name", "trainable", "dtype", "class_token"):
            backbone.pop(key)
        return {
            **self.base_config(),
            **backbone,
            "num_classes": self.num_classes,
            "pooling": self.pooling,
            "input_shape": None if self.input_shape_ is None else list(self.input_shape_),
            "label_smoothing": self.label_smoothing,
            "output_activation": self.output_activation,
        }
