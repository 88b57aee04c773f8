"""ConditionalGradient: the Frank-Wolfe step towards a norm-ball constraint."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from layers.optimizers._tfa_common import (
    check_hyper_parameter,
    check_learning_rate,
    current_value,
    densify,
    deserialize_hyper_parameter,
    serialize_hyper_parameter,
    squared_norm,
    where_touched,
)
from layers.validation import check_choice, check_non_negative_float

NORMS = ("fro", "nuclear")


def top_singular_direction(matrix):
    """`u1 v1^T` of a rank-0, 1 or 2 tensor (a vector is taken as one row), reshaped back.

    TensorFlow-only (`tf.linalg.svd`).
    """
    shape = ops.shape(matrix)
    as_matrix = ops.reshape(matrix, (1, -1)) if len(shape) < 2 else matrix
    _, u, v = tf.linalg.svd(as_matrix, full_matrices=False)
    direction = ops.matmul(u[:, :1], ops.transpose(v[:, :1]))
    return ops.reshape(direction, shape)


@keras.saving.register_keras_serializable(package="keras_zoo")
class ConditionalGradient(keras.optimizers.Optimizer):
    """Conditional gradient (Frank-Wolfe) for weights kept in a norm ball, with TensorFlow
    Addons' arguments and numbers (`tfa.optimizers.ConditionalGradient`).

    `w = lr * w - (1 - lr) * lambda_ * s`, where `s` is the gradient divided by its Frobenius
    norm (plus `epsilon`) for `ord="fro"`, or `u1 v1^T` from its top singular vectors for
    `ord="nuclear"` (variables of rank 2 or less). For an `IndexedSlices` gradient (repeated
    rows summed) only the rows present move.

    Args:
        learning_rate: a float, a `LearningRateSchedule` or a callable. Required.
        lambda_: radius of the constraint ball, a float >= 0 or a callable. Defaults to `0.01`.
        epsilon: added to the Frobenius norm. Defaults to `1e-7`.
        ord: `"fro"` or `"nuclear"`. Defaults to `"fro"`.
        name: defaults to `"ConditionalGradient"`.
        **kwargs: the options of every `keras.optimizers.Optimizer` (`clipnorm`, ...).

    Example:

    ```python
    model.compile(optimizer=ConditionalGradient(0.99, lambda_=0.01), loss="mse")
    ```

    Reference:
        Jaggi, "Revisiting Frank-Wolfe: Projection-Free Sparse Convex Optimization", ICML 2013.
    """

    def __init__(
        self,
        learning_rate,
        lambda_=0.01,
        epsilon: float = 1e-7,
        ord: str = "fro",
        name: str = "ConditionalGradient",
        **kwargs,
    ):
        check_learning_rate(learning_rate)
        lambda_ = deserialize_hyper_parameter(lambda_)
        check_hyper_parameter("lambda_", lambda_)
        check_non_negative_float("epsilon", epsilon)
        check_choice("ord", ord, NORMS)
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.lambda_ = lambda_
        self.epsilon = epsilon
        self.ord = ord

    def build(self, var_list):
        if self.ord == "nuclear":
            for variable in var_list:
                if len(variable.shape) > 2:
                    raise ValueError(
                        "ConditionalGradient(ord='nuclear') takes variables of rank 2 or less. "
                        f"Received: a variable of shape {tuple(variable.shape)}"
                    )
        super().build(var_list)

    def update_step(self, gradient, variable, learning_rate):
        grad, touched = densify(gradient, variable)
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        lambda_ = current_value(self.lambda_, self.iterations, dtype)
        if self.ord == "fro":
            direction = grad / (ops.sqrt(squared_norm(grad)) + ops.cast(self.epsilon, dtype))
        else:
            direction = ops.cast(top_singular_direction(grad), dtype)
        new_value = variable * lr - (1.0 - lr) * lambda_ * direction
        self.assign(variable, where_touched(touched, new_value, variable))

    def get_config(self):
        return {
            **super().get_config(),
            "lambda_": serialize_hyper_parameter(self.lambda_),
            "epsilon": self.epsilon,
            "ord": self.ord,
        }
