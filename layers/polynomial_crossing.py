"""Polynomial (cross-network) feature crossing, as in DCN."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_bool, check_positive_int


def _is_shape_or_tensor(value) -> bool:
    """A shape (tuple/list of dimensions) or a tensor-like with a `shape`; not a bare number."""
    return isinstance(value, list | tuple) or hasattr(value, "shape")


@keras.saving.register_keras_serializable(package="keras_zoo")
class PolynomialCrossing(keras.layers.Layer):
    """One cross layer of a deep & cross network: `x0 * (x W + diag_scale * x) + b + x`.

    Takes `[x0, x]` (the network's input and the previous cross layer's output, same shape).
    `W` is a full `(d, d)` kernel or, with `projection_dim=r`, the low-rank product
    `kernel_u (d, r) @ kernel_v (r, d)`. TensorFlow Addons' layer and defaults; TFA's weight
    list is `[kernel, bias]` or `[kernel_u, kernel_v, bias]` (no bias with `use_bias=False`).

    Args:
        projection_dim: rank of the low-rank kernel, at most `d / 2`; `None` for a full kernel.
            Defaults to `None`.
        diag_scale: added to the kernel's diagonal. Defaults to `0.0`.
        use_bias: whether to add a bias. Defaults to `True`.
        kernel_initializer, bias_initializer: defaults `"truncated_normal"` and `"zeros"`.
        kernel_regularizer, bias_regularizer: optional.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    x0 = keras.Input((16,))
    x1 = PolynomialCrossing(projection_dim=4)([x0, x0])
    x2 = PolynomialCrossing(projection_dim=4)([x0, x1])
    ```

    Reference:
        Wang et al., "DCN V2: Improved Deep & Cross Network and Practical Lessons for Web-scale
        Learning to Rank Systems", 2020. https://arxiv.org/abs/2008.13535
    """

    def __init__(
        self,
        projection_dim: int | None = None,
        diag_scale: float = 0.0,
        use_bias: bool = True,
        kernel_initializer="truncated_normal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.projection_dim = check_positive_int("projection_dim", projection_dim, allow_none=True)
        if not isinstance(diag_scale, int | float) or isinstance(diag_scale, bool):
            raise TypeError(f"`diag_scale` must be a number. Received: diag_scale={diag_scale!r}")
        self.diag_scale = float(diag_scale)
        self.use_bias = check_bool("use_bias", use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.supports_masking = True

    @staticmethod
    def _check(shapes):
        is_pair = isinstance(shapes, list | tuple) and len(shapes) == 2
        if not is_pair or not all(_is_shape_or_tensor(s) for s in shapes):
            raise ValueError(
                f"`PolynomialCrossing` takes a list of two tensors `[x0, x]`. Received: {shapes!r}"
            )

    def build(self, input_shape):
        self._check(input_shape)
        last_dim = input_shape[-1][-1]
        if last_dim is None:
            raise ValueError(f"The last dimension must be known. Received: shape={input_shape}")

        def kernel(name, shape):
            return self.add_weight(
                name=name,
                shape=shape,
                initializer=self.kernel_initializer,
                regularizer=self.kernel_regularizer,
            )

        if self.projection_dim is None:
            self.kernel = kernel("kernel", (last_dim, last_dim))
        else:
            if self.projection_dim > last_dim / 2:
                raise ValueError(
                    f"`projection_dim` must be at most half the last dimension ({last_dim}). "
                    f"Received: projection_dim={self.projection_dim}"
                )
            self.kernel_u = kernel("kernel_u", (last_dim, self.projection_dim))
            self.kernel_v = kernel("kernel_v", (self.projection_dim, last_dim))
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(last_dim,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )

    def call(self, inputs):
        self._check(inputs)
        x0, x = inputs
        dtype = x.dtype
        if self.projection_dim is None:
            product = ops.matmul(x, ops.cast(self.kernel, dtype))
        else:
            product = ops.matmul(
                ops.matmul(x, ops.cast(self.kernel_u, dtype)), ops.cast(self.kernel_v, dtype)
            )
        if self.diag_scale:
            product = product + self.diag_scale * x
        outputs = x0 * product + x
        if self.use_bias:
            outputs = outputs + ops.cast(self.bias, dtype)
        return outputs

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return input_shape[0]

    def get_config(self):
        s = keras.saving.serialize_keras_object
        return {
            **super().get_config(),
            "projection_dim": self.projection_dim,
            "diag_scale": self.diag_scale,
            "use_bias": self.use_bias,
            "kernel_initializer": s(self.kernel_initializer),
            "bias_initializer": s(self.bias_initializer),
            "kernel_regularizer": s(self.kernel_regularizer),
            "bias_regularizer": s(self.bias_regularizer),
        }
