"""A small convolutional classifier for low-resolution images."""

from __future__ import annotations

import keras

from layers.validation import check_positive_int, check_positive_ints, check_rate
from zoo.basic.blocks import check_image_shape, conv_pool_stages
from zoo.models import Task, check_output_activation, classification_head


@keras.saving.register_keras_serializable(package="keras_zoo")
class SmallCNNClassifier(Task):
    """A small CNN classifier for low-resolution NHWC images; its own network (no backbone).

    Each stage is Conv2D (same padding), BatchNormalization, the activation and 2x2 max pooling
    (skipped once the feature map is 1 pixel wide). Global average pooling, dropout and a dense
    layer follow. BatchNormalization uses momentum 0.9 so its moving statistics settle within the
    few hundred steps that small datasets give. The model comes compiled with AdamW and sparse
    categorical cross-entropy (see `zoo.models.Task.compile`).

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

    Reference:
        LeCun et al., "Gradient-Based Learning Applied to Document Recognition", Proc. IEEE
        1998; Ioffe and Szegedy, "Batch Normalization", ICML 2015.
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
        input_shape = check_image_shape(input_shape)
        check_positive_int("num_classes", num_classes)
        filters = check_positive_ints("filters", filters)
        check_positive_int("kernel_size", kernel_size)
        check_rate("dropout", dropout)
        check_output_activation(output_activation)
        dtype = self.dtype_policy_from(kwargs)

        def conv_bn_activation(x, i, n):
            x = keras.layers.Conv2D(
                n, kernel_size, padding="same", use_bias=False, name=f"conv_{i}", dtype=dtype
            )(x)
            x = keras.layers.BatchNormalization(momentum=0.9, name=f"bn_{i}", dtype=dtype)(x)
            return keras.layers.Activation(activation, name=f"act_{i}", dtype=dtype)(x)

        inputs, x = conv_pool_stages(input_shape, filters, conv_bn_activation, dtype)
        outputs = classification_head(
            x, num_classes, dropout=dropout, output_activation=output_activation, dtype=dtype
        )
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)
        self.input_shape_ = input_shape
