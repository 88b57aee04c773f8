"""Bayesian classifiers built from Flipout layers, registered in the model zoo."""

from __future__ import annotations

import keras

from layers.bayesian import Conv2DFlipout, DenseFlipout, get_prior
from layers.validation import check_positive_int, check_positive_ints
from zoo.registry import register
from zoo.task import ClassifierTask

# The training split of scikit-learn's digits in `zoo.datasets.load_digits()` (80% of 1,797).
DIGITS_TRAINING_EXAMPLES = 1437


def _check_common(num_classes, kl_weight, output_activation, deterministic):
    check_positive_int("num_classes", num_classes)
    if isinstance(kl_weight, bool) or not isinstance(kl_weight, int | float) or kl_weight < 0:
        raise ValueError(f"`kl_weight` must be a number >= 0. Received: kl_weight={kl_weight!r}")
    if output_activation not in (None, "softmax"):
        raise ValueError(
            "`output_activation` must be None (logits) or 'softmax'. "
            f"Received: output_activation={output_activation!r}"
        )
    if not isinstance(deterministic, bool):
        raise TypeError(
            f"`deterministic` must be a bool. Received: deterministic={deterministic!r}"
        )


def _prior_config(prior):
    if prior is None or isinstance(prior, str):
        return prior
    return keras.saving.serialize_keras_object(get_prior(prior))


@keras.saving.register_keras_serializable(package="keras_zoo")
class BayesianMLP(ClassifierTask):
    """A Bayesian multi-layer perceptron classifier: every layer is a `DenseFlipout`.

    Every forward pass samples the weights from their Gaussian posteriors, so repeated
    predictions (`zoo.uncertainty.mc_predict`) give the predictive distribution; with
    `deterministic=True` every layer uses its posterior mean. Each layer adds its KL term to
    `model.losses`, scaled by `kl_weight`; the model comes compiled with AdamW and sparse
    categorical cross-entropy, so the training loss is the negative ELBO per example when
    `kl_weight = 1 / num_training_examples`.

    Args:
        input_shape: shape of one example, without the batch axis; inputs of rank > 1 are
            flattened. Defaults to `(64,)`.
        num_classes: number of classes. Defaults to `10`.
        hidden_units: width of each hidden layer. Defaults to `(64,)`.
        activation: hidden activation. Defaults to `"relu"`.
        kl_weight: KL factor of every layer; set it to `1 / num_training_examples`.
            Defaults to `1 / 1437` (the digits training split).
        prior: weight prior, as in `DenseFlipout`. Defaults to `None` (standard normal).
        posterior_scale_init: initial posterior standard deviation. Defaults to `0.01`.
        deterministic: use posterior means instead of sampling. Defaults to `False`.
        output_activation: `None` for logits or `"softmax"`. Defaults to `None`.
        **kwargs: `name`, `dtype` (a dtype policy such as `"mixed_float16"`; defaults to the
            global policy) and the other `keras.Model` arguments.

    Example:

    ```python
    model = BayesianMLP(kl_weight=1 / len(x_train))
    model.fit(x_train, y_train, epochs=20)
    summary = mc_predict(model, x_test, samples=30, from_logits=True)
    ```

    Reference:
        Blundell et al., "Weight Uncertainty in Neural Networks", ICML 2015; Wen et al.,
        "Flipout", ICLR 2018.
    """

    def __init__(
        self,
        input_shape=(64,),
        num_classes: int = 10,
        hidden_units=(64,),
        activation: str = "relu",
        kl_weight: float = 1.0 / DIGITS_TRAINING_EXAMPLES,
        prior=None,
        posterior_scale_init: float = 0.01,
        deterministic: bool = False,
        output_activation: str | None = None,
        **kwargs,
    ):
        input_shape = check_positive_ints("input_shape", input_shape)
        hidden_units = check_positive_ints("hidden_units", hidden_units)
        _check_common(num_classes, kl_weight, output_activation, deterministic)
        bayesian = {
            "kl_weight": kl_weight,
            "prior": prior,
            "posterior_scale_init": posterior_scale_init,
            "deterministic": deterministic,
        }

        dtype = self.resolve_dtype_policy(kwargs.pop("dtype", None))
        inputs = keras.Input(shape=input_shape, name="features")
        x = keras.layers.Flatten(dtype=dtype)(inputs) if len(input_shape) > 1 else inputs
        for i, units in enumerate(hidden_units):
            x = DenseFlipout(
                units, activation=activation, name=f"hidden_{i}", dtype=dtype, **bayesian
            )(x)
        outputs = DenseFlipout(
            num_classes, activation=output_activation, name="logits", dtype="float32", **bayesian
        )(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.dtype_policy = dtype  # Functional ignores a `dtype` argument

        self.input_shape_ = input_shape
        self.num_classes = num_classes
        self.hidden_units = hidden_units
        self.activation = activation
        self.kl_weight = float(kl_weight)
        self.prior = prior
        self.posterior_scale_init = posterior_scale_init
        self.deterministic = deterministic
        self.output_activation = output_activation
        self.compile()

    def get_config(self):
        return {
            **self.base_config(),
            "input_shape": list(self.input_shape_),
            "num_classes": self.num_classes,
            "hidden_units": list(self.hidden_units),
            "activation": self.activation,
            "kl_weight": self.kl_weight,
            "prior": _prior_config(self.prior),
            "posterior_scale_init": self.posterior_scale_init,
            "deterministic": self.deterministic,
            "output_activation": self.output_activation,
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class BayesianCNN(ClassifierTask):
    """A Bayesian convolutional classifier for small NHWC images, built from Flipout layers.

    Each stage is a `Conv2DFlipout` (same padding), the activation and 2x2 max pooling (skipped
    once the map is 1 pixel wide); global average pooling and a `DenseFlipout` classifier
    follow. Every forward pass samples the weights; `deterministic=True` uses the posterior
    means. KL terms go to `model.losses` scaled by `kl_weight`. The model comes compiled with
    AdamW and sparse categorical cross-entropy.

    Args:
        input_shape: `(height, width, channels)`. Defaults to `(8, 8, 1)`.
        num_classes: number of classes. Defaults to `10`.
        filters: filters of each stage. Defaults to `(32, 64)`.
        kernel_size: convolution kernel size. Defaults to `3`.
        activation: activation after each convolution. Defaults to `"relu"`.
        kl_weight: KL factor of every layer; set it to `1 / num_training_examples`.
            Defaults to `1 / 1437` (the digits training split).
        prior: weight prior, as in `Conv2DFlipout`. Defaults to `None` (standard normal).
        posterior_scale_init: initial posterior standard deviation. Defaults to `0.01`.
        deterministic: use posterior means instead of sampling. Defaults to `False`.
        output_activation: `None` for logits or `"softmax"`. Defaults to `None`.
        **kwargs: `name`, `dtype` (a dtype policy such as `"mixed_float16"`; defaults to the
            global policy) and the other `keras.Model` arguments.

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
        input_shape = check_positive_ints("input_shape", input_shape)
        if len(input_shape) != 3:
            raise ValueError(
                "`input_shape` must be (height, width, channels). "
                f"Received: input_shape={input_shape!r}"
            )
        filters = check_positive_ints("filters", filters)
        check_positive_int("kernel_size", kernel_size)
        _check_common(num_classes, kl_weight, output_activation, deterministic)
        bayesian = {
            "kl_weight": kl_weight,
            "prior": prior,
            "posterior_scale_init": posterior_scale_init,
            "deterministic": deterministic,
        }

        dtype = self.resolve_dtype_policy(kwargs.pop("dtype", None))
        inputs = keras.Input(shape=input_shape, name="images")
        x = inputs
        width = min(input_shape[:2])
        for i, n in enumerate(filters):
            x = Conv2DFlipout(
                n,
                (kernel_size, kernel_size),
                padding="same",
                activation=activation,
                kernel_initializer="he_normal",
                name=f"conv_{i}",
                dtype=dtype,
                **bayesian,
            )(x)
            if width >= 2:
                x = keras.layers.MaxPooling2D(2, name=f"pool_{i}", dtype=dtype)(x)
                width //= 2
        x = keras.layers.GlobalAveragePooling2D(name="gap", dtype=dtype)(x)
        outputs = DenseFlipout(
            num_classes, activation=output_activation, name="logits", dtype="float32", **bayesian
        )(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.dtype_policy = dtype  # Functional ignores a `dtype` argument

        self.input_shape_ = input_shape
        self.num_classes = num_classes
        self.filters = filters
        self.kernel_size = kernel_size
        self.activation = activation
        self.kl_weight = float(kl_weight)
        self.prior = prior
        self.posterior_scale_init = posterior_scale_init
        self.deterministic = deterministic
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
            "kl_weight": self.kl_weight,
            "prior": _prior_config(self.prior),
            "posterior_scale_init": self.posterior_scale_init,
            "deterministic": self.deterministic,
            "output_activation": self.output_activation,
        }


# The tiny configurations use the posterior mean so that the registry's shared checks, which
# compare outputs across calls, apply; tests/zoo/test_uncertainty.py runs the sampling models.
register(
    "bayesian_mlp_digits",
    BayesianMLP,
    description="Bayesian (Flipout) MLP for 8x8 digits flattened to 64 features.",
    tiny={"hidden_units": (8,), "deterministic": True},
    input_shape=(64,),
    num_classes=10,
)
register(
    "bayesian_cnn_digits",
    BayesianCNN,
    description="Bayesian (Flipout) CNN for 8x8x1 digits (2 conv stages, 32 and 64 filters).",
    tiny={"filters": (4,), "deterministic": True},
    input_shape=(8, 8, 1),
    num_classes=10,
)
