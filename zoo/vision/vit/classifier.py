"""An image classifier on the Vision Transformer backbone."""

from __future__ import annotations

import keras

from layers.validation import check_choice, check_positive_int
from zoo.models import Task, check_output_activation, classification_head
from zoo.vision.inputs import check_image_shape, check_label_smoothing, resized_input
from zoo.vision.vit.backbone import ViTBackbone

POOLINGS = ("token", "mean")


@keras.saving.register_keras_serializable(package="keras_zoo")
class ViTClassifier(Task):
    """A Vision Transformer classifier: a `ViTBackbone`, pooling and a dense head.

    With `pooling="token"` the head reads the class token (the backbone must have one); with
    `pooling="mean"` it reads the mean of the tokens (a backbone without a class token, as
    `from_preset` and the registry build it). Inputs of another shape than the backbone's
    (e.g. 8x8x1 digits for a 32x32 preset) are resized inside the model when `input_shape` is
    given. The model comes compiled with AdamW and (when `label_smoothing > 0`)
    label-smoothed cross-entropy (see `zoo.models.Task.compile`).

    Args:
        backbone: a `ViTBackbone`.
        num_classes: number of classes. Defaults to `1000`.
        pooling: `"token"` or `"mean"`. Defaults to `"token"`.
        input_shape: `(height, width, channels)` the model takes; images are bilinearly resized
            to the backbone's `image_size` inside the model. `None` takes the backbone's input
            shape. Defaults to `None`.
        label_smoothing: label smoothing of the default loss. Defaults to `0.0`.
        output_activation: `None` for logits or `"softmax"`. Defaults to `None`.
        **kwargs: `name`, `dtype` (a dtype policy) and the other `keras.Model` arguments.

    Example:

    ```python
    backbone = ViTBackbone(image_size=32, patch_size=4, hidden_dim=64, num_layers=4,
                           num_heads=4, mlp_dim=128, class_token=False)
    model = ViTClassifier(backbone, num_classes=10, pooling="mean", label_smoothing=0.1)
    model.fit(images, labels, epochs=10)
    # or, backbone and head from one flat set of arguments, as the registry builds them:
    model = ViTClassifier.from_arguments(num_classes=10, image_size=32, patch_size=4)
    ```

    Reference:
        Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR 2021.
    """

    # XLA measured faster on CPU (ViT 1.41x a step, benchmarks/bench_xla.py).
    default_jit_compile = True

    backbone_class = ViTBackbone

    def __init__(
        self,
        backbone: ViTBackbone,
        num_classes: int = 1000,
        pooling: str = "token",
        input_shape=None,
        label_smoothing: float = 0.0,
        output_activation: str | None = None,
        **kwargs,
    ):
        if not isinstance(backbone, ViTBackbone):
            raise TypeError(f"`backbone` must be a ViTBackbone. Received: backbone={backbone!r}")
        check_positive_int("num_classes", num_classes)
        check_choice("pooling", pooling, POOLINGS)
        if pooling == "token" and not backbone.class_token:
            raise ValueError(
                "`pooling='token'` reads the class token, but the backbone has none "
                "(class_token=False). Received: pooling='token'"
            )
        input_shape = check_image_shape("input_shape", input_shape)
        check_output_activation(output_activation)
        check_label_smoothing(label_smoothing)
        dtype = self.dtype_policy_from(kwargs)
        inputs, x = resized_input(input_shape, backbone, dtype)
        tokens = backbone(x)["sequence_output"]
        if pooling == "token":
            pooled = tokens[:, 0]
        else:
            pooled = keras.layers.GlobalAveragePooling1D(name="mean_pool", dtype=dtype)(tokens)
        outputs = classification_head(
            pooled, num_classes, output_activation=output_activation, dtype=dtype
        )
        super().__init__(inputs=inputs, outputs=outputs, backbone=backbone, dtype=dtype, **kwargs)
        self.input_shape_ = input_shape

    @classmethod
    def backbone_arguments(cls, task_arguments):
        # The class token exists exactly when the head reads it; the backbone's channels follow
        # the input's unless given.
        arguments = {"class_token": task_arguments.get("pooling", "token") == "token"}
        input_shape = task_arguments.get("input_shape")
        if input_shape is not None:
            arguments["num_channels"] = input_shape[-1]
        return arguments
