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
) -> keras.Model:
    """A fully connected network `input_dim -> hidden_sizes -> output_dim` (linear output).

    Hidden layers use orthogonal initialisation with gain sqrt(2) and the output layer gain
    `output_scale`, as in the PPO implementations that reach the published scores.

    Args:
        input_dim: size of the flat input.
        hidden_sizes: units of each hidden layer.
        output_dim: size of the output.
        activation: hidden activation. Defaults to `"tanh"`.
        output_scale: gain of the output layer's orthogonal initialiser. Defaults to `1.0`.
        name: the model's name. Defaults to `"mlp"`.
    """
    inputs = keras.Input((input_dim,), name="observation")
    x = inputs
    for i, units in enumerate(check_hidden_sizes(hidden_sizes)):
        x = keras.layers.Dense(
            units,
            activation=activation,
            kernel_initializer=keras.initializers.Orthogonal(np.sqrt(2.0)),
            name=f"hidden_{i}",
        )(x)
    outputs = keras.layers.Dense(
        output_dim, kernel_initializer=keras.initializers.Orthogonal(output_scale), name="output"
    )(x)
    return keras.Model(inputs, outputs, name=name)


def q_network(observation_dim: int, action_dim: int, hidden_sizes, name: str) -> keras.Model:
    """A critic `Q(s, a)`: the concatenated observation and action through a ReLU MLP."""
    observation = keras.Input((observation_dim,), name="observation")
    action = keras.Input((action_dim,), name="action")
    x = keras.layers.Concatenate()([observation, action])
    for i, units in enumerate(check_hidden_sizes(hidden_sizes)):
        x = keras.layers.Dense(units, activation="relu", name=f"hidden_{i}")(x)
    q = keras.layers.Dense(1, name="q")(x)
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
