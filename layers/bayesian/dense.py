"""Bayesian fully connected layers: Flipout and (local) reparameterization estimators."""

from __future__ import annotations

import keras
from keras import ops

from layers.bayesian.posterior import DEFAULT_KL_WEIGHT, DEFAULT_POSTERIOR_SCALE, BayesianLayer
from layers.validation import check_bool, check_positive_int

_SHARED_ARGS_DOC = """
        units: dimensionality of the output, a positive integer.
        activation: activation function, any name or callable keras accepts. Defaults to `None`.
        use_bias: whether the layer has a (Bayesian) bias. Defaults to `True`.
        kernel_initializer: initializer of the posterior mean of the kernel. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of the posterior mean of the bias. Defaults to `"zeros"`.
        prior: the weight prior: `None` or `"normal"` (standard normal), `"scale_mixture"`,
            or a `NormalPrior` / `ScaleMixturePrior`. Defaults to `None`.
        kl_weight: factor on the KL term added to `layer.losses`. Set it to `1 / N` for `N`
            training examples: Keras averages the data loss over examples, so the training
            loss is then the negative ELBO per example, `NLL + KL / N` (with `loss="mse"` and
            noise standard deviation `s`, `2 s^2 / N`). Defaults to `1e-4`, i.e. `N = 10_000`.
        posterior_scale_init: initial posterior standard deviation of every weight.
            Defaults to `0.01`.
        deterministic: use the posterior mean instead of sampling (for a point prediction or
            an export). `call(..., deterministic=...)` overrides it per call. Defaults to
            `False`.
        seed: integer seed of the weight and sign draws, or `None`. Defaults to `None`.
        **kwargs: base layer arguments (`name`, `dtype`, ...)."""


class _BayesianDense(BayesianLayer):
    def __init__(
        self,
        units: int,
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
        self.units = check_positive_int("units", units)
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.input_spec = keras.layers.InputSpec(min_ndim=2)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"The last dimension of the input to {type(self).__name__} must be known. "
                f"Received: input_shape={input_shape}"
            )
        self.add_posterior("kernel", (input_dim, self.units), self.kernel_initializer)
        if self.use_bias:
            self.add_posterior("bias", (self.units,), self.bias_initializer)
        self.input_spec = keras.layers.InputSpec(min_ndim=2, axes={-1: input_dim})

    def weight_names(self) -> list[str]:
        return ["kernel", "bias"] if self.use_bias else ["kernel"]

    def call(self, inputs, deterministic=None):
        self.add_kl_loss(self.weight_names())
        if self.use_mean(deterministic):
            outputs = ops.matmul(inputs, ops.cast(self.posterior("kernel")[0], inputs.dtype))
        else:
            outputs = self.sampled_matmul(inputs)
        if self.use_bias:
            loc, scale = self.posterior("bias")
            bias = loc if self.use_mean(deterministic) else loc + scale * self.normal(loc.shape)
            outputs = outputs + ops.cast(bias, outputs.dtype)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def sampled_matmul(self, inputs):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class DenseFlipout(_BayesianDense):
    """A Bayesian `Dense` layer trained with Flipout weight perturbations.

    The kernel and bias have mean-field Gaussian posteriors `N(mu, softplus(rho)^2)`; every call
    samples them (in training and at inference alike), so repeated predictions give Monte
    Carlo samples of the predictive distribution. Flipout shares one kernel perturbation
    `dW ~ N(0, sigma^2)` across the batch and decorrelates the examples with random sign
    vectors: `y = x mu + ((x * s) dW) * r` with `s`, `r` in `{-1, 1}` drawn per example. This
    gives each example an independent-looking weight sample at the cost of two matrix products,
    with much lower gradient variance than one shared sample. The bias sample is shared by the
    batch. Each call adds `kl_weight * KL(q || prior)` to `layer.losses` (closed form for a
    Gaussian prior, a one-sample estimate for the scale mixture), computed in float32.

    Args:{args}

    Example:

    ```python
    n = len(x_train)
    model = keras.Sequential([
        keras.Input((64,)),
        DenseFlipout(32, activation="relu", kl_weight=1 / n),
        DenseFlipout(10, kl_weight=1 / n),
    ])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x_train, y_train, epochs=10)
    prediction = zoo.uncertainty.mc_predict(model, x_test, samples=30, from_logits=True)
    ```

    Reference:
        Wen, Vicol, Ba, Tran and Grosse, "Flipout: Efficient Pseudo-Independent Weight
        Perturbations on Mini-Batches", ICLR 2018. https://arxiv.org/abs/1803.04386
    """

    def sampled_matmul(self, inputs):
        loc, scale = self.posterior("kernel")
        perturbation = ops.cast(scale * self.normal(loc.shape), inputs.dtype)
        outputs = ops.matmul(inputs, ops.cast(loc, inputs.dtype))
        input_signs = self.rademacher(ops.shape(inputs), inputs.dtype)
        output_signs = self.rademacher(ops.shape(outputs), inputs.dtype)
        return outputs + ops.matmul(inputs * input_signs, perturbation) * output_signs


@keras.saving.register_keras_serializable(package="keras_zoo")
class DenseReparameterization(_BayesianDense):
    """A Bayesian `Dense` layer trained with the reparameterization trick (Bayes by Backprop).

    The kernel and bias have mean-field Gaussian posteriors `N(mu, softplus(rho)^2)`; every call
    samples them (in training and at inference alike). By default one kernel `W = mu + sigma *
    eps` is drawn per call and shared by the batch, as in Blundell et al. With
    `local_reparameterization=True` the pre-activations are sampled instead, independently per
    example: `y ~ N(x mu, x^2 sigma^2)` (Kingma et al. 2015), which has lower gradient variance
    and the same cost. Each call adds `kl_weight * KL(q || prior)` to `layer.losses` (closed
    form for a Gaussian prior, a one-sample estimate for the scale mixture), computed in
    float32.

    Args:{args}
        local_reparameterization: sample pre-activations per example instead of one kernel
            per call. Defaults to `False`.

    Example: a 1-D regression on `n` points with noise standard deviation `s ~= 0.1`,
    trained with the mean squared error (`2 s^2` times the Gaussian NLL), so
    `kl_weight = 2 s^2 / n` makes the loss the negative ELBO per example:

    ```python
    n = len(x_train)  # x_train: (n, 1)
    kl_weight = 2 * 0.1**2 / n
    model = keras.Sequential([
        keras.Input((1,)),
        DenseReparameterization(32, activation="tanh", kl_weight=kl_weight),
        DenseReparameterization(1, kl_weight=kl_weight),
    ])
    model.compile(keras.optimizers.Adam(0.01), "mse")
    model.fit(x_train, y_train, epochs=150)
    samples = keras.ops.stack([model(x_test) for _ in range(100)])  # mean, spread over axis 0
    ```

    References:
        Blundell, Cornebise, Kavukcuoglu and Wierstra, "Weight Uncertainty in Neural Networks",
        ICML 2015. https://arxiv.org/abs/1505.05424
        Kingma, Salimans and Welling, "Variational Dropout and the Local Reparameterization
        Trick", NeurIPS 2015. https://arxiv.org/abs/1506.02557
    """

    def __init__(self, units: int, local_reparameterization: bool = False, **kwargs):
        super().__init__(units, **kwargs)
        self.local_reparameterization = check_bool(
            "local_reparameterization", local_reparameterization
        )

    def sampled_matmul(self, inputs):
        loc, scale = self.posterior("kernel")
        if not self.local_reparameterization:
            kernel = loc + scale * self.normal(loc.shape)
            return ops.matmul(inputs, ops.cast(kernel, inputs.dtype))
        # The variance path runs in float32: squared activations and scales underflow float16.
        wide = ops.cast(inputs, "float32")
        mean = ops.matmul(wide, loc)
        variance = ops.matmul(ops.square(wide), ops.square(scale))
        noise = self.normal(ops.shape(mean))
        return ops.cast(mean + ops.sqrt(variance + 1e-12) * noise, inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "local_reparameterization": self.local_reparameterization}


DenseFlipout.__doc__ = DenseFlipout.__doc__.replace("{args}", _SHARED_ARGS_DOC)
DenseReparameterization.__doc__ = DenseReparameterization.__doc__.replace(
    "{args}", _SHARED_ARGS_DOC
)
