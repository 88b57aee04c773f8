"""Multi-head attention with TensorFlow Addons' arguments, weights and outputs."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_bool, check_positive_int, check_rate


def _is_shape_or_tensor(value) -> bool:
    """A shape (tuple/list of dimensions) or a tensor-like with a `shape`; not a bare number."""
    return isinstance(value, list | tuple) or hasattr(value, "shape")


@keras.saving.register_keras_serializable(package="keras_zoo")
class MultiHeadAttention(keras.layers.Layer):
    """TensorFlow Addons' `MultiHeadAttention`: scaled dot-product attention over `num_heads`
    heads of size `head_size`, projected to `output_size` features.

    Unlike `keras.layers.MultiHeadAttention`, it takes `[query, key]` or `[query, key, value]`
    as one list, has no query/key/value biases, keeps its weights as four `(heads, in, out)`
    kernels and an optional output bias (TFA's weight list: `query_kernel (H, Fq, S)`,
    `key_kernel (H, Fk, S)`, `value_kernel (H, Fv, S)`, `projection_kernel (H, S, O)`,
    `projection_bias (O,)`), and can return the attention coefficients.

    For query `Q (..., N, Fq)` and key/value `(..., M, F)`, each head computes
    `softmax(Q Wq (K Wk)^T / sqrt(head_size) - 1e10 * (1 - mask)) V Wv`; the heads are projected
    with `projection_kernel` and summed, then `projection_bias` is added.

    Args:
        head_size: size of each head's query, key and value projections.
        num_heads: number of heads.
        output_size: output features; `None` uses the value's feature count. Defaults to `None`.
        dropout: dropout rate on the attention coefficients while training. Defaults to `0.0`.
        use_projection_bias: whether to add `projection_bias`. Defaults to `True`.
        return_attn_coef: also return the coefficients `(..., heads, N, M)`. Defaults to `False`.
        kernel_initializer, kernel_regularizer, kernel_constraint: for the four kernels
            (default `"glorot_uniform"`).
        bias_initializer, bias_regularizer, bias_constraint: for `projection_bias`
            (default `"zeros"`).
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `[query, key]` or `[query, key, value]`.
        training: whether dropout is active.
        mask: optional `(..., N, M)` or `(..., heads, N, M)` array, 1 where the query may attend.

    Returns:
        The output `(..., N, output_size)`, and with `return_attn_coef` the pair
        `(output, coefficients)`.

    Example:

    ```python
    query, memory = keras.random.normal((2, 5, 16)), keras.random.normal((2, 7, 16))
    y = MultiHeadAttention(head_size=8, num_heads=4)([query, memory])  # (2, 5, 16)
    ```

    Reference:
        Vaswani et al., "Attention Is All You Need", NeurIPS 2017.
        https://arxiv.org/abs/1706.03762
    """

    def __init__(
        self,
        head_size: int,
        num_heads: int,
        output_size: int | None = None,
        dropout: float = 0.0,
        use_projection_bias: bool = True,
        return_attn_coef: bool = False,
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        kernel_constraint=None,
        bias_initializer="zeros",
        bias_regularizer=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.head_size = check_positive_int("head_size", head_size)
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.output_size = check_positive_int("output_size", output_size, allow_none=True)
        self.dropout = check_rate("dropout", dropout)
        self.use_projection_bias = check_bool("use_projection_bias", use_projection_bias)
        self.return_attn_coef = check_bool("return_attn_coef", return_attn_coef)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.attention_dropout = keras.layers.Dropout(self.dropout)

    @staticmethod
    def _split(shapes):
        is_list = isinstance(shapes, list | tuple) and len(shapes) in (2, 3)
        if not is_list or not all(_is_shape_or_tensor(s) for s in shapes):
            raise ValueError(
                "`MultiHeadAttention` takes a list `[query, key]` or `[query, key, value]`. "
                f"Received: inputs={shapes!r}"
            )
        query, key = shapes[0], shapes[1]
        value = shapes[2] if len(shapes) == 3 else key
        return query, key, value

    def build(self, input_shape):
        query, key, value = self._split(input_shape)
        if key[-2] is not None and value[-2] is not None and key[-2] != value[-2]:
            raise ValueError(
                "`key` and `value` must have the same number of elements (axis -2). "
                f"Received: key shape={tuple(key)}, value shape={tuple(value)}"
            )
        output_size = self.output_size or value[-1]

        def kernel(name, shape):
            return self.add_weight(
                name=name,
                shape=shape,
                initializer=self.kernel_initializer,
                regularizer=self.kernel_regularizer,
                constraint=self.kernel_constraint,
            )

        heads, size = self.num_heads, self.head_size
        self.query_kernel = kernel("query_kernel", (heads, query[-1], size))
        self.key_kernel = kernel("key_kernel", (heads, key[-1], size))
        self.value_kernel = kernel("value_kernel", (heads, value[-1], size))
        self.projection_kernel = kernel("projection_kernel", (heads, size, output_size))
        self.projection_bias = None
        if self.use_projection_bias:
            self.projection_bias = self.add_weight(
                name="projection_bias",
                shape=(output_size,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def call(self, inputs, training=None, mask=None):
        query, key, value = self._split(inputs)
        if isinstance(mask, list | tuple):  # keras passes the inputs' (absent) masks
            mask = None if all(m is None for m in mask) else mask[0]
        dtype = query.dtype
        query = ops.einsum("...NI,HIO->...NHO", query, ops.cast(self.query_kernel, dtype))
        key = ops.einsum("...MI,HIO->...MHO", key, ops.cast(self.key_kernel, dtype))
        value = ops.einsum("...MI,HIO->...MHO", value, ops.cast(self.value_kernel, dtype))
        query = query / ops.sqrt(ops.cast(self.head_size, dtype))
        logits = ops.cast(ops.einsum("...NHO,...MHO->...HNM", query, key), "float32")
        if mask is not None:
            mask = ops.cast(mask, "float32")
            if len(mask.shape) < 2:
                raise ValueError(f"`mask` must have at least 2 dimensions. Received: {mask.shape}")
            if len(mask.shape) != len(logits.shape):
                mask = ops.expand_dims(mask, -3)
            logits = logits + -1e10 * (1.0 - mask)
        coefficients = ops.cast(ops.softmax(logits, axis=-1), dtype)
        dropped = self.attention_dropout(coefficients, training=training)
        heads = ops.einsum("...HNM,...MHI->...NHI", dropped, value)
        output = ops.einsum("...NHI,HIO->...NO", heads, ops.cast(self.projection_kernel, dtype))
        if self.projection_bias is not None:
            output = output + ops.cast(self.projection_bias, dtype)
        if self.return_attn_coef:
            return output, coefficients
        return output

    def compute_output_shape(self, input_shape):
        query, key, value = self._split(input_shape)
        output = (*query[:-1], self.output_size or value[-1])
        if not self.return_attn_coef:
            return output
        return output, (*query[:-2], self.num_heads, query[-2], key[-2])

    def get_config(self):
        s = keras.saving.serialize_keras_object
        return {
            **super().get_config(),
            "head_size": self.head_size,
            "num_heads": self.num_heads,
            "output_size": self.output_size,
            "dropout": self.dropout,
            "use_projection_bias": self.use_projection_bias,
            "return_attn_coef": self.return_attn_coef,
            "kernel_initializer": s(self.kernel_initializer),
            "kernel_regularizer": s(self.kernel_regularizer),
            "kernel_constraint": s(self.kernel_constraint),
            "bias_initializer": s(self.bias_initializer),
            "bias_regularizer": s(self.bias_regularizer),
            "bias_constraint": s(self.bias_constraint),
        }
