"""Sparsemax: the Euclidean projection of logits onto the probability simplex."""

from __future__ import annotations

import keras
from keras import ops


def sparsemax(logits, axis: int = -1):
    """Sparsemax of `logits` along `axis`: like softmax, but exact zeros for low logits.

    For each slice `z`, returns `max(z - tau(z), 0)` where `tau` is chosen so the result sums
    to 1 (Martins and Astudillo's sort-based algorithm). Same numbers as
    `tfa.activations.sparsemax`.

    Args:
        logits: a float tensor of rank >= 1.
        axis: the axis to normalize over. Defaults to `-1`.

    Returns:
        A tensor of the shape and dtype of `logits`.

    Example:

    ```python
    sparsemax(keras.ops.array([[-1.0, 0.0, 1.0], [-5.0, 1.0, 2.0]]))  # [[0, 0, 1], [0, 0, 1]]
    ```

    Reference:
        Martins and Astudillo, "From Softmax to Sparsemax: A Sparse Model of Attention and
        Multi-Label Classification", ICML 2016. https://arxiv.org/abs/1602.02068
    """
    logits = ops.convert_to_tensor(logits)
    rank = len(logits.shape)
    if not -rank <= axis < rank:
        raise ValueError(f"`axis` is out of range for a {rank}-D input. Received: axis={axis}")
    z = ops.moveaxis(logits, axis, -1)
    size = z.shape[-1]
    z_sorted = ops.flip(ops.sort(z, axis=-1), axis=-1)
    k = ops.cast(ops.arange(1, size + 1), z.dtype)
    cumsum = ops.cumsum(z_sorted, axis=-1)
    in_support = ops.cast(1.0 + k * z_sorted > cumsum, z.dtype)
    support_size = ops.sum(in_support, axis=-1, keepdims=True)
    support_sum = ops.sum(in_support * z_sorted, axis=-1, keepdims=True)
    tau = (support_sum - 1.0) / support_size
    out = ops.maximum(z - tau, 0.0)
    # A slice with an infinite logit has no finite threshold: NaN, as in TFA.
    out = ops.where(ops.isfinite(tau), out, ops.full_like(out, float("nan")))
    return ops.moveaxis(out, -1, axis)


@keras.saving.register_keras_serializable(package="keras_zoo")
class Sparsemax(keras.layers.Layer):
    """Applies `sparsemax` along `axis` (TensorFlow Addons' `tfa.layers.Sparsemax`).

    Args:
        axis: the axis to normalize over. Defaults to `-1`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    probabilities = Sparsemax()(keras.random.normal((2, 5)))  # rows sum to 1, some exact zeros
    ```

    Reference:
        Martins and Astudillo, "From Softmax to Sparsemax", ICML 2016.
        https://arxiv.org/abs/1602.02068
    """

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise TypeError(f"`axis` must be an integer. Received: axis={axis!r}")
        self.axis = axis
        self.supports_masking = True

    def call(self, inputs):
        return sparsemax(inputs, axis=self.axis)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
