"""Noisy dense layer (NoisyNet): a dense layer with learned, parameterised weight noise."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import (
    check_bool,
    check_optional_seed,
    check_positive_float,
    check_positive_int,
)


@keras.saving.register_keras_serializable(package="keras_zoo")
class NoisyDense(keras.layers.Layer):
    """`activation(x @ (mu_w + sigma_w * eps_w) + (mu_b + sigma_b * eps_b))`.

    TensorFlow Addons' `NoisyDense`: `mu_*` and `sigma_*` are learned; the noise `eps_*` is
    held in non-trainable weights, drawn when the layer is built and again on `reset_noise()`
    (not on every call), and zeroed by `remove_noise()` (then the layer is the plain dense
    layer `mu`). Factorised noise (`use_factorised=True`) draws `f(e_in) f(e_out)^T` with
    `f(e) = sign(e) sqrt(|e|)`; independent noise draws every entry from a standard normal.
    Initialisation as in TFA: factorised `mu ~ U(-1/sqrt(n), 1/sqrt(n))`,
    `sigma = sigma / sqrt(n)`; independent `mu ~ U(-sqrt(3/n), sqrt(3/n))`, `sigma = 0.017`.
    TFA's weight list: `[sigma_kernel, mu_kernel, sigma_bias, mu_bias, eps_kernel, eps_bias]`
    (without the bias entries when `use_bias=False`).

    Args:
        units: output features.
        sigma: scale of the initial noise weights (factorised noise). Defaults to `0.5`.
        use_factorised: factorised or independent Gaussian noise. Defaults to `True`.
        activation: activation function. Defaults to `None`.
        use_bias: whether to learn a (noisy) bias. Defaults to `True`.
        kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
            bias_constraint: as in `keras.layers.Dense` (applied to `mu` and `sigma`).
        seed: integer seed for the noise, or `None`. Defaults to `None`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    layer = NoisyDense(4)
    q_values = layer(keras.random.normal((2, 8)))
    layer.reset_noise()  # a new noise sample, e.g. after each training step
    ```

    Reference:
        Fortunato et al., "Noisy Networks for Exploration", ICLR 2018.
        https://arxiv.org/abs/1706.10295
    """

    def __init__(
        self,
        units: int,
        sigma: float = 0.5,
        use_factorised: bool = True,
        activation=None,
        use_bias: bool = True,
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = check_positive_int("units", units)
        self.sigma = check_positive_float("sigma", sigma)
        self.use_factorised = check_bool("use_factorised", use_factorised)
        self.activation = keras.activations.get(activation)
        self.use_bias = check_bool("use_bias", use_bias)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.seed = check_optional_seed("seed", seed)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        last_dim = input_shape[-1]
        if len(input_shape) < 2 or last_dim is None:
            raise ValueError(
                "`NoisyDense` needs inputs of rank >= 2 with a known last dimension. "
                f"Received: shape={input_shape}"
            )
        self.last_dim = int(last_dim)
        if self.use_factorised:
            mu_range = 1.0 / self.last_dim**0.5
            sigma_init = self.sigma / self.last_dim**0.5
        else:
            mu_range = (3.0 / self.last_dim) ** 0.5
            sigma_init = 0.017
        sigma_init = keras.initializers.Constant(sigma_init)
        mu_init = keras.initializers.RandomUniform(-mu_range, mu_range)

        def weight(name, shape, initializer, trainable=True, regularizer=None, constraint=None):
            return self.add_weight(
                name=name,
                shape=shape,
                initializer=initializer,
                regularizer=regularizer,
                constraint=constraint,
                trainable=trainable,
            )

        kernel_shape, reg, con = (
            (self.last_dim, self.units),
            self.kernel_regularizer,
            self.kernel_constraint,
        )
        self.sigma_kernel = weight("sigma_kernel", kernel_shape, sigma_init, True, reg, con)
        self.mu_kernel = weight("mu_kernel", kernel_shape, mu_init, True, reg, con)
        self.sigma_bias = self.mu_bias = self.eps_bias = None
        if self.use_bias:
            reg, con = self.bias_regularizer, self.bias_constraint
            self.sigma_bias = weight("sigma_bias", (self.units,), sigma_init, True, reg, con)
            self.mu_bias = weight("mu_bias", (self.units,), mu_init, True, reg, con)
        self.eps_kernel = weight("eps_kernel", kernel_shape, "zeros", trainable=False)
        if self.use_bias:
            self.eps_bias = weight("eps_bias", (self.units,), "zeros", trainable=False)
        self.built = True
        self.reset_noise()

    def _scaled_noise(self, shape):
        noise = keras.random.normal(shape, seed=self.seed_generator)
        return ops.sign(noise) * ops.sqrt(ops.abs(noise))

    def reset_noise(self):
        """Draws new noise into `eps_kernel` (and `eps_bias`)."""
        if self.use_factorised:
            noise_in = self._scaled_noise((self.last_dim, 1))
            noise_out = self._scaled_noise((1, self.units))
            self.eps_kernel.assign(ops.matmul(noise_in, noise_out))
            if self.use_bias:
                self.eps_bias.assign(noise_out[0])
        else:
            shape = (self.last_dim, self.units)
            self.eps_kernel.assign(keras.random.normal(shape, seed=self.seed_generator))
            if self.use_bias:
                self.eps_bias.assign(keras.random.normal((self.units,), seed=self.seed_generator))

    def remove_noise(self):
        """Zeroes the noise: the layer then computes the dense layer `mu`."""
        self.eps_kernel.assign(ops.zeros_like(self.eps_kernel))
        if self.use_bias:
            self.eps_bias.assign(ops.zeros_like(self.eps_bias))

    @property
    def kernel(self):
        """The noisy kernel `mu_kernel + sigma_kernel * eps_kernel`."""
        return self.mu_kernel + self.sigma_kernel * self.eps_kernel

    @property
    def bias(self):
        """The noisy bias `mu_bias + sigma_bias * eps_bias`, or `None` without a bias."""
        if not self.use_bias:
            return None
        return self.mu_bias + self.sigma_bias * self.eps_bias

    def call(self, inputs):
        outputs = ops.matmul(inputs, ops.cast(self.kernel, inputs.dtype))
        if self.use_bias:
            outputs = outputs + ops.cast(self.bias, inputs.dtype)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        s = keras.saving.serialize_keras_object
        return {
            **super().get_config(),
            "units": self.units,
            "sigma": self.sigma,
            "use_factorised": self.use_factorised,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_regularizer": s(self.kernel_regularizer),
            "bias_regularizer": s(self.bias_regularizer),
            "activity_regularizer": s(self.activity_regularizer),
            "kernel_constraint": s(self.kernel_constraint),
            "bias_constraint": s(self.bias_constraint),
            "seed": self.seed,
        }
