"""A Bayesian convolutional classifier for small images, built from Flipout layers."""

from __future__ import annotations

import keras

from layers.bayesian import Conv2DFlipout, DenseFlipout
from layers.validation import check_positive_int, check_positive_ints
from zoo.basic.blocks import check_image_shape, conv_pool_stages
from zoo.models import Task, check_output_activation
from zoo.uncertainty.flipout_arguments import DIGITS_TRAINING_EXAMPLES, flipout_arguments


@keras.saving.register_keras_serializable(package="keras_zoo")
class BayesianCNN(Task):
    """A Bayesian convolutional classifier for small NHWC images, built from Flipout layers.

    Each stage is a `Conv2DFlipout` (same padding), the activation and 2x2 max pooling (skipped
    once the map is 1 pixel wide); global average pooling and a `DenseFlipout` classifier
    follow. Every forward pass samples the weights; `deterministic=True` uses the posterior
    means. KL terms go to `model.losses` scaled by `kl_weight`. The model is its own network
    (no backbone) and comes compiled with AdamW and sparse categorical cross-entropy.

    Args:
        input_shape: `(height, width, channels)`. Defaults to `(8, 8, 1)`.
        num_classes: number of classes. Defaults to `10`.
        filters: filters of each stage. Defaults to `(32, 64)`.
        kernel_size: convolution kernel size. Defaults to `3`.
        activation: activation after each convolution. Defaults to `"relu"`.
        kl_weight: KL factor of every layer, `1 / num_training_examples` (see `BayesianMLP`).
            Defaults to `1 / 1437` (the digits training split).
        prior: weight prior, as in `Conv2DFlipout`. Defaults to `None` (standard normal).
        posterior_scale_init, deterministic, output_activation, **kwargs: as in `BayesianMLP`
            (defaults `0.01`, `False`, `None`).

    Example:

    ```python
    model = zoo.create("bayesian_cnn_digits", kl_weight=1 / len(x_train))
    model.fit(images, labels, epochs=20)
    ```

    Reference:
        Wen et al., "Flipout: Efficient Pseudo-Independent Weight Perturbations on
        Mini-Batches", ICLR 2018. https://arxiv.org/abs/1803.04386
    """

    def __init__(
        self,
        input_shape=(8, 8, 1),
        num_classes: int = 10,
        filters=(32, 64),
        kernel_size: int = 3,
        activation: str = "relu",
        kl_weight: float = 1.0 / DIGITS_TRAINING_EXAMPLES,
        prior=None,
        posterior_scale_init: float = 0.01,
        deterministic: bool = False,
        output_activation: str | None = None,
        **kwargs,
    ):
        input_shape = check_image_shape(input_shape)
        filters = check_positive_ints("filters", filters)
        check_positive_int("kernel_size", kernel_size)
        check_positive_int("num_classes", num_classes)
        check_output_activation(output_activation)
        bayesian = flipout_arguments(kl_weight, prior, posterior_scale_init, deterministic)
        dtype = self.dtype_policy_from(kwargs)

        def conv_flipout(x, i, n):
            return Conv2DFlipout(
                n,
                (kernel_size, kernel_size),
                padding="same",
                activation=activation,
                kernel_initializer="he_normal",
                name=f"conv_{i}",
                dtype=dtype,
                **bayesian,
            )(x)

        inputs, x = conv_pool_stages(input_shape, filters, conv_flipout, dtype)
        outputs = DenseFlipout(
            num_classes, activation=output_activation, name="logits", dtype="float32", **bayesian
        )(x)
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)
        self.input_shape_ = input_shape
