"""A Bayesian 2-D convolution trained with Flipout weight perturbations."""

from __future__ import annotations

import keras
from keras import ops

from layers.bayesian.posterior import DEFAULT_KL_WEIGHT, DEFAULT_POSTERIOR_SCALE, BayesianLayer
from layers.validation import check_choice, check_int_pair, check_positive_int


@keras.saving.register_keras_serializable(package="keras_zoo")
class Conv2DFlipout(BayesianLayer):
    """A Bayesian `Conv2D` (channels last) trained with Flipout weight perturbations.

    The kernel and bias have mean-field Gaussian posteriors `N(mu, softplus(rho)^2)`; every call
    samples them (in training and at inference alike). One kernel perturbation `dW` is shared by
    the batch and decorrelated per example with random sign vectors over the input and output
    channels: `y = conv(x, mu) + conv(x * s, dW) * r`. Each call adds
    `kl_weight * KL(q || prior)` to `layer.losses`, computed in float32.

    Args:
        filters: number of output channels, a positive integer.
        kernel_size: an integer or a pair `(height, width)`.
        strides: an integer or a pair. Defaults to `1`.
        padding: `"valid"` or `"same"`. Defaults to `"valid"`.
        dilation_rate: an integer or a pair. Defaults to `1`.
        activation: activation function, any name or callable keras accepts. Defaults to `None`.
        use_bias: whether the layer has a (Bayesian) bias. Defaults to `True`.
        kernel_initializer: initializer of the posterior mean of the kernel. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of the posterior mean of the bias. Defaults to `"zeros"`.
        prior: the weight prior: `None` or `"normal"` (standard normal), `"scale_mixture"`,
            or a `NormalPrior` / `ScaleMixturePrior`. Defaults to `None`.
        kl_weight: factor on the KL term added to `layer.losses`. Set it to `1 / N` for `N`
            training examples: Keras averages the data loss over examples, so the training
            loss is then the negative ELBO per example, `NLL + KL / N`. Defaults to `1e-4`,
            i.e. `N = 10_000`.
        posterior_scale_init: initial posterior standard deviation of every weight.
            Defaults to `0.01`.
        deterministic: use the posterior mean instead of sampling; `call(...,
            deterministic=...)` overrides it per call. Defaults to `False`.
        seed: integer seed of the weight and sign draws, or `None`. Defaults to `None`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    n = len(x_train)
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        Conv2DFlipout(16, 3, activation="relu", kl_weight=1 / n),
        keras.layers.GlobalAveragePooling2D(),
        DenseFlipout(10, kl_weight=1 / n),
    ])
    ```

    Reference:
        Wen, Vicol, Ba, Tran and Grosse, "Flipout: Efficient Pseudo-Independent Weight
        Perturbations on Mini-Batches", ICLR 2018. https://arxiv.org/abs/1803.04386
    """

    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=1,
        padding: str = "valid",
        dilation_rate=1,
        activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        prior=None,
        kl_weight: float = DEFAULT_KL_WEIGHT,
        posterior_scale_init: float = DEFAULT_POSTERIOR_SCALE,
        deterministic: bool = False,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(
            prior=prior,
            kl_weight=kl_weight,
            posterior_scale_init=posterior_scale_init,
            deterministic=deterministic,
            seed=seed,
            **kwargs,
        )
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = check_int_pair("kernel_size", kernel_size)
        self.strides = check_int_pair("strides", strides)
        self.dilation_rate = check_int_pair("dilation_rate", dilation_rate)
        self.padding = check_choice("padding", padding, ("valid", "same"))
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(
                "The channel dimension of the input to Conv2DFlipout must be known. "
                f"Received: input_shape={input_shape}"
            )
        self.add_posterior(
            "kernel", (*self.kernel_size, channels, self.filters), self.kernel_initializer
        )
        if self.use_bias:
            self.add_posterior("bias", (self.filters,), self.bias_initializer)
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={-1: channels})

    def convolve(self, inputs, kernel):
        return ops.conv(
            inputs,
            ops.cast(kernel, inputs.dtype),
            strides=self.strides,
            padding=self.padding,
            data_format="channels_last",
            dilation_rate=self.dilation_rate,
        )

    def call(self, inputs, deterministic=None):
        use_mean = self.use_mean(deterministic)
        self.add_kl_loss(["kernel", "bias"] if self.use_bias else ["kernel"])
        loc, scale = self.posterior("kernel")
        outputs = self.convolve(inputs, loc)
        if not use_mean:
            batch = ops.shape(inputs)[0]
            # One sign per example and channel, shared over positions, keeps each example's
            # perturbed kernel a single convolution kernel.
            input_signs = self.rademacher((batch, 1, 1, ops.shape(inputs)[-1]), inputs.dtype)
            output_signs = self.rademacher((batch, 1, 1, self.filters), inputs.dtype)
            perturbation = scale * self.normal(loc.shape)
            outputs = outputs + self.convolve(inputs * input_signs, perturbation) * output_signs
        if self.use_bias:
            loc, scale = self.posterior("bias")
            bias = loc if use_mean else loc + scale * self.normal(loc.shape)
            outputs = outputs + ops.cast(bias, outputs.dtype)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        spatial = []
        for size, k, s, d in zip(
            input_shape[1:3], self.kernel_size, self.strides, self.dilation_rate, strict=True
        ):
            if size is None:
                spatial.append(None)
            elif self.padding == "same":
                spatial.append(-(-size // s))
            else:
                spatial.append((size - d * (k - 1) - 1) // s + 1)
        return (input_shape[0], *spatial, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "dilation_rate": list(self.dilation_rate),
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }
