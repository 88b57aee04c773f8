"""An image classifier on the Swin Transformer backbone."""

from __future__ import annotations

import keras

from layers.validation import check_positive_int
from zoo.models import Task, check_output_activation, classification_head
from zoo.vision.inputs import check_image_shape, check_label_smoothing, resized_input
from zoo.vision.swin.backbone import SwinBackbone


@keras.saving.register_keras_serializable(package="keras_zoo")
class SwinClassifier(Task):
    """A Swin Transformer classifier: a `SwinBackbone`, mean pooling of the tokens, a dense head.

    Inputs of another shape than the backbone's (e.g. 8x8x1 digits for a 32x32 preset) are
    resized inside the model when `input_shape` is given. The model comes compiled with AdamW
    and (when `label_smoothing > 0`) label-smoothed cross-entropy (see
    `zoo.models.Task.compile`).

    Args:
        backbone: a `SwinBackbone`.
        num_classes: number of classes. Defaults to `1000`.
        input_shape: `(height, width, channels)` the model takes; images are bilinearly resized
            to the backbone's `image_size` inside the model. `None` takes the backbone's input
            shape. Defaults to `None`.
        label_smoothing: label smoothing of the default loss. Defaults to `0.0`.
        output_activation: `None` for logits or `"softmax"`. Defaults to `None`.
        **kwargs: `name`, `dtype` (a dtype policy) and the other `keras.Model` arguments.

    Example:

    ```python
    backbone = SwinBackbone(image_size=32, patch_size=2, embed_dim=32, depths=(2, 2, 2),
                            num_heads=(2, 4, 8), window_size=4)
    model = SwinClassifier(backbone, num_classes=10, label_smoothing=0.1)
    model.fit(images, labels, epochs=10)
    # or, backbone and head from one flat set of arguments, as the registry builds them:
    model = SwinClassifier.from_arguments(num_classes=10, image_size=32, patch_size=2,
                                          embed_dim=32, depths=(2, 2, 2), num_heads=(2, 4, 8),
                                          window_size=4)
    ```

    Reference:
        Liu et al., "Swin Transformer: Hierarchical Vision Transformer using Shifted Windows",
        ICCV 2021.
    """

    # XLA measured faster on CPU (Swin 1.82x a step, benchmarks/bench_xla.py).
    default_jit_compile = True

    backbone_class = SwinBackbone

    def __init__(
        self,
        backbone: SwinBackbone,
        num_classes: int = 1000,
        input_shape=None,
        label_smoothing: float = 0.0,
        output_activation: str | None = None,
        **kwargs,
    ):
        if not isinstance(backbone, SwinBackbone):
            raise TypeError(f"`backbone` must be a SwinBackbone. Received: backbone={backbone!r}")
        check_positive_int("num_classes", num_classes)
        input_shape = check_image_shape("input_shape", input_shape)
        check_label_smoothing(label_smoothing)
        check_output_activation(output_activation)
        dtype = self.dtype_policy_from(kwargs)
        inputs, x = resized_input(input_shape, backbone, dtype)
        tokens = backbone(x)["sequence_output"]
        pooled = keras.layers.GlobalAveragePooling1D(name="mean_pool", dtype=dtype)(tokens)
        outputs = classification_head(
            pooled, num_classes, output_activation=output_activation, dtype=dtype
        )
        super().__init__(inputs=inputs, outputs=outputs, backbone=backbone, dtype=dtype, **kwargs)
        self.input_shape_ = input_shape

    @classmethod
    def backbone_arguments(cls, task_arguments):
        # The backbone's channels follow the input's unless given.
        input_shape = task_arguments.get("input_shape")
        return {} if input_shape is None else {"num_channels": input_shape[-1]}
