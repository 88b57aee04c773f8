"""Gradient centralization: zero-mean gradients for weight matrices and kernels."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from layers.optimizers._wrapper import OptimizerWrapper


def centralize_gradient(gradient):
    """Subtracts the mean over all axes but the last from a gradient of rank > 1."""
    if gradient is None:
        return None
    if isinstance(gradient, tf.IndexedSlices):
        # The mean runs over every row, including the rows a sparse gradient leaves out.
        gradient = ops.convert_to_tensor(gradient)
    rank = len(gradient.shape)
    if rank <= 1:
        return gradient
    axes = tuple(range(rank - 1))
    return ops.subtract(gradient, ops.mean(gradient, axis=axes, keepdims=True))


@keras.saving.register_keras_serializable(package="keras_zoo")
class GradientCentralization(OptimizerWrapper):
    """Centres the gradients of weight matrices and kernels before any optimizer applies them.

    Each gradient of rank > 1 (Dense kernels, convolution kernels, embeddings) has its mean over
    all axes but the last (the output axis) subtracted, so that the update of every output
    unit's weight vector has zero mean. Gradients of rank <= 1 (biases, normalization scales)
    pass unchanged. The wrapped optimizer then applies the centred gradients with everything it
    owns: learning rate, weight decay, clipping, `gradient_accumulation_steps`, `use_ema`.

    Args:
        optimizer: the `keras.optimizers.Optimizer` to wrap, its serialised config, or a Keras
            optimizer name such as `"sgd"`.
        name: name of the optimizer. Defaults to `"gradient_centralization"`.

    Example:

    ```python
    optimizer = GradientCentralization(keras.optimizers.SGD(0.1, momentum=0.9))
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    ```

    Reference:
        Yong, Huang, Hua and Zhang, "Gradient Centralization: A New Optimization Technique for
        Deep Neural Networks", ECCV 2020, https://arxiv.org/abs/2004.01461.
    """

    def __init__(self, optimizer, name: str = "gradient_centralization", **kwargs):
        super().__init__(optimizer, name=name, **kwargs)

    def transform_gradients(self, grads, trainable_variables):
        return [centralize_gradient(g) for g in grads]
