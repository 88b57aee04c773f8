"""An image classifier on the MobileNetV2 backbone."""

from __future__ import annotations

import keras

from layers.validation import check_positive_int, check_rate
from zoo.vision.mobilenet.backbone import MOBILENET_V2_BLOCKS, MobileNetV2Backbone
from zoo.vision.task import VisionClassifierTask, check_label_smoothing, check_output_activation


@keras.saving.register_keras_serializable(package="keras_zoo")
class MobileNetV2Classifier(VisionClassifierTask):
    """MobileNetV2 (or MobileNetV3-style with `se_ratio`) with global pooling and a dense head.

    The model comes compiled with AdamW and (when `label_smoothing > 0`) label-smoothed
    cross-entropy.

    Args:
        num_classes: number of classes. Defaults to `1000`.
        dropout: dropout before the head. Defaults to `0.2`.
        label_smoothing: label smoothing of the default loss. Defaults to `0.0`.
        output_activation: `None` for logits or `"softmax"`. Defaults to `None`.
        input_shape, width_multiplier, blocks, stem_filters, head_filters, se_ratio, activation,
            drop_path_rate, norm_momentum: as in `MobileNetV2Backbone` (same defaults).
        **kwargs: `name`, `dtype` (a dtype policy) and the other `keras.Model` arguments.

    Example:

    ```python
    model = MobileNetV2Classifier(num_classes=10, input_shape=(32, 32, 3), width_multiplier=0.5)
    model.fit(images, labels, epochs=10)
    ```

    Reference:
        Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", CVPR 2018.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        dropout: float = 0.2,
        label_smoothing: float = 0.0,
        output_activation: str | None = None,
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
        check_positive_int("num_classes", num_classes)
        check_rate("dropout", dropout)
        check_output_activation(output_activation)
        dtype = self.resolve_dtype_policy(kwargs.pop("dtype", None))
        backbone = MobileNetV2Backbone(
            input_shape=input_shape,
            width_multiplier=width_multiplier,
            blocks=blocks,
            stem_filters=stem_filters,
            head_filters=head_filters,
            se_ratio=se_ratio,
            activation=activation,
            drop_path_rate=drop_path_rate,
            norm_momentum=norm_momentum,
            name="backbone",
            dtype=dtype,
        )
        self.label_smoothing = check_label_smoothing(label_smoothing)
        inputs = keras.Input(shape=backbone.input_shape_, name="images")
        x = backbone(inputs)["feature_map"]
        x = keras.layers.GlobalAveragePooling2D(name="gap", dtype=dtype)(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name="dropout", dtype=dtype)(x)
        outputs = keras.layers.Dense(
            num_classes, activation=output_activation, name="logits", dtype="float32"
        )(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.dtype_policy = dtype
        self.backbone = backbone
        self.num_classes = num_classes
        self.dropout = dropout
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
            "dropout": self.dropout,
            "label_smoothing": self.label_smoothing,
            "output_activation": self.output_activation,
        }
