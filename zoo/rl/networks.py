"""MLP actors and critics (Keras 3) and the tanh-squashed Gaussian used by SAC."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from layers.validation import check_positive_ints

tfd = tfp.distributions
tfb = tfp.bijectors

POLICIES = ("mlp",)
INITIALIZERS = ("orthogonal", "fan_in_uniform", "glorot_uniform")


def check_initializer(initializer: str, name: str = "initializer") -> str:
    if initializer not in INITIALIZERS:
        raise ValueError(
            f"`{name}` must be one of {INITIALIZERS}. Received: {name}={initializer!r}"
        )
    return initializer


def fan_in_uniform(fan_in: int) -> tuple[keras.initializers.Initializer, ...]:
    """Kernel and bias initialisers drawing from `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`.

    This is PyTorch's `nn.Linear` default (Kaiming-uniform with `a=sqrt(5)` for the kernel,
    which is `VarianceScaling(1/3, "fan_in", "uniform")`, and the same bound for the bias), the
    initialisation stable-baselines3's SAC networks get.
    """
    bound = 1.0 / np.sqrt(fan_in)
    kernel = keras.initializers.VarianceScaling(1.0 / 3.0, "fan_in", "uniform")
    return kernel, keras.initializers.RandomUniform(-bound, bound)


def _dense(units, fan_in, initializer, gain, activation=None, name=None) -> keras.layers.Dense:
    if initializer == "fan_in_uniform":
        kernel, bias = fan_in_uniform(fan_in)
    elif initializer == "orthogonal":
        kernel, bias = keras.initializers.Orthogonal(gain), "zeros"
    else:
        kernel, bias = "glorot_uniform", "zeros"
    return keras.layers.Dense(
        units, activation=activation, kernel_initializer=kernel, bias_initializer=bias, name=name
    )


def check_hidden_sizes(hidden_sizes: Sequence[int], name: str = "hidden_sizes") -> tuple:
    sizes = check_positive_ints(name, tuple(hidden_sizes), allow_numpy=True)
    return tuple(int(s) for s in sizes)


def mlp(
    input_dim: int,
    hidden_sizes: Sequence[int],
    output_dim: int,
    activation: str = "tanh",
    output_scale: float = 1.0,
    name: str = "mlp",
    initializer: str = "orthogonal",
) -> keras.Model:
    """A fully connected network `input_dim -> hidden_sizes -> output_dim` (linear output).

    With `initializer="orthogonal"` hidden layers use orthogonal initialisation with gain sqrt(2)
    and the output layer gain `output_scale`, as in the PPO implementations that reach the
    published scores; `"fan_in_uniform"` is PyTorch's default (see `fan_in_uniform`), and
    `"glorot_uniform"` Keras's.

    Args:
        input_dim: size of the flat input.
        hidden_sizes: units of each hidden layer.
        output_dim: size of the output.
        activation: hidden activation. Defaults to `"tanh"`.
        output_scale: gain of the output layer's orthogonal initialiser. Defaults to `1.0`.
        name: the model's name. Defaults to `"mlp"`.
        initializer: one of `INITIALIZERS`. Defaults to `"orthogonal"`.

    Example:

    ```python
    actor = mlp(3, (64, 64), 2, activation="relu", initializer="fan_in_uniform")
    ```
    """
    check_initializer(initializer)
    inputs = keras.Input((input_dim,), name="observation")
    x, fan_in = inputs, input_dim
    for i, units in enumerate(check_hidden_sizes(hidden_sizes)):
        x = _dense(units, fan_in, initializer, np.sqrt(2.0), activation, f"hidden_{i}")(x)
        fan_in = units
    outputs = _dense(output_dim, fan_in, initializer, output_scale, name="output")(x)
    return keras.Model(inputs, outputs, name=name)


def q_network(
    observation_dim: int,
    action_dim: int,
    hidden_sizes,
    name: str,
    initializer: str = "glorot_uniform",
) -> keras.Model:
    """A critic `Q(s, a)`: the concatenated observation and action through a ReLU MLP.

    `initializer` is one of `INITIALIZERS` (orthogonal uses gain sqrt(2), 1 for the output).
    """
    check_initializer(initializer)
    observation = keras.Input((observation_dim,), name="observation")
    action = keras.Input((action_dim,), name="action")
    x = keras.layers.Concatenate()([observation, action])
    fan_in = observation_dim + action_dim
    for i, units in enumerate(check_hidden_sizes(hidden_sizes)):
        x = _dense(units, fan_in, initializer, np.sqrt(2.0), "relu", f"hidden_{i}")(x)
        fan_in = units
    q = _dense(1, fan_in, initializer, 1.0, name="q")(x)
    return keras.Model([observation, action], q, name=name)


def squashed_gaussian(mean: tf.Tensor, log_std: tf.Tensor) -> tfd.Distribution:
    """`tanh(u)` with `u ~ N(mean, exp(log_std))` per dimension, as a tfp distribution.

    Reference: Haarnoja et al., "Soft Actor-Critic Algorithms and Applications" (2018),
    appendix C (enforcing action bounds).
    """
    base = tfd.Independent(tfd.Normal(mean, tf.exp(log_std)), reinterpreted_batch_ndims=1)
    return tfd.TransformedDistribution(base, tfb.Tanh())


def squashed_log_prob(mean: tf.Tensor, log_std: tf.Tensor, pre_tanh: tf.Tensor) -> tf.Tensor:
    """Log-density of `tanh(pre_tanh)` under `squashed_gaussian(mean, log_std)`.

    Evaluated from the pre-squash sample: `log N(u) - sum log(1 - tanh(u)^2)`, with the
    bijector's numerically stable Jacobian, because inverting `tanh` near +-1 loses precision.
    """
    distribution = squashed_gaussian(mean, log_std)
    return distribution.distribution.log_prob(
        pre_tanh
    ) - distribution.bijector.forward_log_det_jacobian(pre_tanh, event_ndims=1)
