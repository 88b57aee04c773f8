"""`fused_adam_apply`: Keras Adam's step with one fused TensorFlow kernel per variable."""

from __future__ import annotations

import keras
import tensorflow as tf


def check_fusable(optimizer: keras.optimizers.Optimizer) -> None:
    """Raises unless `optimizer` is a plain Adam whose step `fused_adam_apply` reproduces."""
    plain = (
        type(optimizer) is keras.optimizers.Adam
        and not optimizer.amsgrad
        and not optimizer.weight_decay
        and optimizer.clipnorm is None
        and optimizer.global_clipnorm is None
        and optimizer.clipvalue is None
        and not optimizer.use_ema
        and optimizer.gradient_accumulation_steps is None
    )
    if not plain:
        raise ValueError(
            "fused_adam_apply reproduces plain Adam only (no amsgrad, weight decay, clipping, "
            f"EMA or gradient accumulation). Received: optimizer={optimizer.get_config()}"
        )


def fused_adam_apply(optimizer: keras.optimizers.Adam, gradients, variables) -> None:
    """Applies `optimizer`'s Adam step to `variables` through `tf.raw_ops.ResourceApplyAdam`.

    The arithmetic is Keras Adam's (`m += (1 - beta_1)(g - m)`, `v += (1 - beta_2)(g^2 - v)`,
    `var -= lr sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)`) on the
    optimizer's own slot variables and `iterations`, so checkpoints are unchanged; it runs one
    kernel per variable instead of about fifteen graph ops, which is a sizeable part of a small
    network's update on CPU. Call it inside a `tf.function`; `optimizer` must be built on
    `variables` and pass `check_fusable`.

    Args:
        optimizer: a built `keras.optimizers.Adam`.
        gradients: one gradient per variable.
        variables: the variables to update.

    Example:

    ```python
    optimizer = keras.optimizers.Adam(1e-3)
    optimizer.build(model.trainable_variables)
    fused_adam_apply(optimizer, gradients, model.trainable_variables)
    ```

    Reference: Kingma and Ba, "Adam: A Method for Stochastic Optimization" (2015), section 2
    (the "epsilon hat" form).
    """
    step = tf.cast(optimizer.iterations + 1, tf.float32)
    beta_1 = tf.constant(optimizer.beta_1, tf.float32)
    beta_2 = tf.constant(optimizer.beta_2, tf.float32)
    learning_rate = tf.cast(optimizer.learning_rate, tf.float32)
    beta_1_power, beta_2_power = tf.pow(beta_1, step), tf.pow(beta_2, step)
    epsilon = tf.constant(optimizer.epsilon, tf.float32)
    for gradient, variable in zip(gradients, variables, strict=True):
        index = optimizer._get_variable_index(variable)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle,
            m=optimizer._momentums[index].handle,
            v=optimizer._velocities[index].handle,
            beta1_power=beta_1_power,
            beta2_power=beta_2_power,
            lr=learning_rate,
            beta1=beta_1,
            beta2=beta_2,
            epsilon=epsilon,
            grad=gradient,
        )
    optimizer.iterations.assign_add(1)
