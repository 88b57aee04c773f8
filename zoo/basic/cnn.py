"""A small convolutional classifier for low-resolution images."""

from __future__ import annotations

import keras

from layers.validation import check_positive_int, check_positive_ints, check_rate
from zoo.registry import register
from zoo.task import ClassifierTask


@keras.saving.register_keras_serializable(package="keras_zoo")
class SmallCNNClassifier(ClassifierTask):
    """A small CNN classifier for low-resolution NHWC images.

    Each stage is Conv2D (same padding), BatchNormalization, the activation and 2x2 max pooling
    (skipped once the feature map is 1 pixel wide). Global average pooling, dropout and a dense
    layer follow. BatchNormalization uses momentum 0.9 so its moving statistics settle within the
    few hundred steps that small datasets give. The model comes compiled with AdamW and sparse
    categorical cross-entropy (see `ClassifierTask.compile`).

    Args:
        input_shape: `(height, width, channels)` of one image. Defaults to `(8, 8, 1)`
            (scikit-learn's digits).
        num_classes: number of classes. Defaults to `10`.
        filters: number of filters of each stage. Defaults to `(32, 64)`.
        kernel_size: convolution kernel size. Defaults to `3`.
        activation: activation after each convolution, any name keras accepts
            (`"relu"`, `"leaky_relu"`, `"elu"`, `"selu"`, `"swish"`). Defaults to `"relu"`.
        dropout: dropout rate before the classification layer. Defaults to `0.1`.
        output_activation: `None` for logits or `"softmax"` for probabilities. Defaults to `None`.
        **kwargs: `name`, `dtype` (a dtype policy such as `"mixed_float16"`; defaults to the
            global policy) and the other `keras.Model` arguments.

    Example:

    ```python
    model = SmallCNNClassifier(input_shape=(8, 8, 1), num_classes=10)
    model.fit(images, labels, epochs=5)
    ```
    """

    def __init__(
        self,
        input_shape=(8, 8, 1),
        num_classes: int = 10,
        filters=(32, 64),
        kernel_size: int = 3,
        activation: str = "relu",
        dropout: float = 0.1,
        output_activation: str | None = None,
        **kwargs,
    ):
        input_shape = check_positive_ints("input_shape", input_shape)
        if len(input_shape) != 3:
            raise ValueError(
                "`input_shape` must be (height, width, channels). "
                f"Received: input_shape={input_shape!r}"
            )
        check_positive_int("num_classes", num_classes)
        filters = check_positive_ints("filters", filters)
        check_positive_int("kernel_size", kernel_size)
        check_rate("dropout", dropout)
        if output_activation not in (None, "softmax"):
            raise ValueError(
                "`output_activation` must be None (logits) or 'softmax'. "
                f"Received: output_activation={output_activation!r}"
            )

        dtype = self.resolve_dtype_policy(kwargs.pop("dtype", None))
        inputs = keras.Input(shape=input_shape, name="images")
        x = inputs
        width = min(input_shape[:2])
        for i, n in enumerate(filters):
            x = keras.layers.Conv2D(
                n, kernel_size, padding="same", use_bias=False, name=f"conv_{i}", dtype=dtype
            )(x)
            x = keras.layers.BatchNormalization(momentum=0.9, name=f"bn_{i}", dtype=dtype)(x)
            x = keras.layers.Activation(activation, name=f"act_{i}", dtype=dtype)(x)
            if width >= 2:
                x = keras.layers.MaxPooling2D(2, name=f"pool_{i}", dtype=dtype)(x)
                width //= 2
        x = keras.layers.GlobalAveragePooling2D(name="gap", dtype=dtype)(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name="dropout", dtype=dtype)(x)
        outputs = keras.layers.Dense(
            num_classes, activation=output_activation, name="logits", dtype="float32"
        )(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.dtype_policy = dtype  # Functional ignores a `dtype` argument

        self.input_shape_ = input_shape
        self.num_classes = num_classes
        self.filters = filters
        self.kernel_size = kernel_size
        self.activation = activation
        self.dropout = dropout
        self.output_activation = output_activation
        self.compile()

    def get_config(self):
        return {
            **self.base_config(),
            "input_shape": list(self.input_shape_),
            "num_classes": self.num_classes,
            "filters": list(self.filters),
            "kernel_size": self.kernel_size,
            "activation": self.activation,
            "dropout": self.dropout,
            "output_activation": self.output_activation,
        }


def cnn_search_space(hp) -> dict:
    """Stages, width, kernel size, activation and dropout of `SmallCNNClassifier`."""
    stages = hp.Int("stages", 1, 3)
    width = hp.Choice("width", [16, 32, 64])
    return {
        "filters": tuple(width * 2**i for i in range(stages)),
        "kernel_size": hp.Choice("kernel_size", [3, 5]),
        "activation": hp.Choice("activation", ["relu", "swish", "elu"]),
        "dropout": hp.Float("dropout", 0.0, 0.5, step=0.1),
    }


register(
    "cnn_digits",
    SmallCNNClassifier,
    search_space=cnn_search_space,
    description="Small CNN for 8x8x1 digits (2 conv stages, 32 and 64 filters).",
    tiny={"filters": (4,)},
    input_shape=(8, 8, 1),
    num_classes=10,
)
