"""An image classifier on the MobileNetV2 backbone."""

from __future__ import annotations

import keras

from layers.validation import check_positive_int, check_rate
from zoo.models import Task, check_output_activation, classification_head
from zoo.vision.inputs import check_label_smoothing
from zoo.vision.mobilenet.backbone import MobileNetV2Backbone


@keras.saving.register_keras_serializable(package="keras_zoo")
class MobileNetV2Classifier(Task):
    """MobileNetV2 (or MobileNetV3-style with `se_ratio`) with global pooling and a dense head.

    The model takes the backbone's input shape and comes compiled with AdamW and (when
    `label_smoothing > 0`) label-smoothed cross-entropy (see `zoo.models.Task.compile`).

    Args:
        backbone: a `MobileNetV2Backbone`.
        num_classes: number of classes. Defaults to `1000`.
        dropout: dropout before the head. Defaults to `0.2`.
        label_smoothing: label smoothing of the default loss. Defaults to `0.0`.
        output_activation: `None` for logits or `"softmax"`. Defaults to `None`.
        **kwargs: `name`, `dtype` (a dtype policy) and the other `keras.Model` arguments.

    Example:

    ```python
    backbone = MobileNetV2Backbone(input_shape=(32, 32, 3), width_multiplier=0.5)
    model = MobileNetV2Classifier(backbone, num_classes=10)
    model.fit(images, labels, epochs=10)
    # or, backbone and head from one flat set of arguments, as the registry builds them:
    model = MobileNetV2Classifier.from_arguments(num_classes=10, input_shape=(32, 32, 3),
                                                 width_multiplier=0.5)
    ```

    Reference:
        Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", CVPR 2018.
    """

    backbone_class = MobileNetV2Backbone

    def __init__(
        self,
        backbone: MobileNetV2Backbone,
        num_classes: int = 1000,
        dropout: float = 0.2,
        label_smoothing: float = 0.0,
        output_activation: str | None = None,
        **kwargs,
    ):
        if not isinstance(backbone, MobileNetV2Backbone):
            raise TypeError(
                f"`backbone` must be a MobileNetV2Backbone. Received: backbone={backbone!r}"
            )
        check_positive_int("num_classes", num_classes)
        check_rate("dropout", dropout)
        check_label_smoothing(label_smoothing)
        check_output_activation(output_activation)
        dtype = self.dtype_policy_from(kwargs)
        inputs = keras.Input(shape=backbone.input_shape_, name="images")
        x = backbone(inputs)["feature_map"]
        x = keras.layers.GlobalAveragePooling2D(name="gap", dtype=dtype)(x)
        outputs = classification_head(
            x, num_classes, dropout=dropout, output_activation=output_activation, dtype=dtype
        )
        super().__init__(inputs=inputs, outputs=outputs, backbone=backbone, dtype=dtype, **kwargs)
