"""An image classifier on the ResNet backbone."""

from __future__ import annotations

import keras

from layers.validation import check_positive_int
from zoo.models import Task, check_output_activation, classification_head
from zoo.vision.inputs import check_label_smoothing
from zoo.vision.resnet.backbone import ResNetBackbone


@keras.saving.register_keras_serializable(package="keras_zoo")
class ResNetClassifier(Task):
    """A ResNet classifier: a `ResNetBackbone`, global average pooling and a dense layer.

    The head is the paper's: the mean of the last feature map, then one fully connected layer
    to `num_classes` (computed in float32). The model comes compiled with AdamW and (when
    `label_smoothing > 0`) label-smoothed cross-entropy (see `zoo.models.Task.compile`).

    Args:
        backbone: a `ResNetBackbone`.
        num_classes: number of classes. Defaults to `1000`.
        label_smoothing: label smoothing of the default loss, in [0, 1). Defaults to `0.0`.
        output_activation: `None` for logits or `"softmax"`. Defaults to `None`.
        **kwargs: `name`, `dtype` (a dtype policy) and the other `keras.Model` arguments.

    Example:

    ```python
    model = ResNetClassifier(ResNetBackbone(depths=(3, 4, 6, 3), block_type="bottleneck"))
    # or backbone and head from one flat set of arguments, as the registry builds them:
    model = ResNetClassifier.from_arguments(num_classes=10, image_size=32, depths=(2, 2))
    model = zoo.create("resnet50", num_classes=10)
    ```

    Reference:
        He et al., "Deep Residual Learning for Image Recognition", CVPR 2016.
    """

    backbone_class = ResNetBackbone

    def __init__(
        self,
        backbone: ResNetBackbone,
        num_classes: int = 1000,
        label_smoothing: float = 0.0,
        output_activation: str | None = None,
        **kwargs,
    ):
        if not isinstance(backbone, ResNetBackbone):
            raise TypeError(f"`backbone` must be a ResNetBackbone. Received: backbone={backbone!r}")
        check_positive_int("num_classes", num_classes)
        check_label_smoothing(label_smoothing)
        check_output_activation(output_activation)
        dtype = self.dtype_policy_from(kwargs)
        images = keras.Input(shape=(*backbone.image_hw, backbone.num_channels), name="images")
        features = backbone(images)["feature_map"]
        pooled = keras.layers.GlobalAveragePooling2D(name="avg_pool", dtype=dtype)(features)
        outputs = classification_head(
            pooled, num_classes, output_activation=output_activation, dtype=dtype
        )
        super().__init__(inputs=images, outputs=outputs, backbone=backbone, dtype=dtype, **kwargs)
