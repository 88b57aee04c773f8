"""Multi-head self-attention that projects query, key and value with one matmul."""

from __future__ import annotations

import keras
from keras import ops

# What keras' `Softmax` layer puts in masked logits (ours are float32 under every policy).
MASKED_LOGIT = -1e9


@keras.saving.register_keras_serializable(package="keras_zoo")
class FusedMultiHeadAttention(keras.layers.MultiHeadAttention):
    """`keras.layers.MultiHeadAttention` with one fused query/key/value projection.

    Same constructor, weights (the `query`, `key`, `value` and `attention_output` projections,
    with the same shapes and names) and outputs as `MultiHeadAttention`, so checkpoints and
    converters written for it apply unchanged. For self-attention (`query`, `key` and `value`
    the same tensor, attention over the sequence axis) the three projection kernels are
    concatenated and applied as one `(features, 3 * heads * key_dim)` matmul, with the
    `1/sqrt(key_dim)` scale folded into the query kernel and bias; one large matmul runs
    faster than three small ones, forward and backward. Every other use (cross-attention,
    causal or Keras-propagated masks, returned scores, gating, quantized or custom-axis layers)
    runs `MultiHeadAttention.call` unchanged.

    Args:
        num_heads: number of attention heads.
        key_dim: size of each head for query, key and value.
        flash_attention: as in `MultiHeadAttention` (the TensorFlow backend has no flash
            attention). Defaults to `None`.
        **kwargs: every other `keras.layers.MultiHeadAttention` argument (`dropout`,
            `use_bias`, `kernel_initializer`, `name`, `dtype`, ...).

    Call arguments: those of `keras.layers.MultiHeadAttention`; `attention_mask` is a boolean
    `(batch, queries, keys)` (or `(batch, 1, keys)`) tensor, true where attention is allowed.

    Example:

    ```python
    attention = FusedMultiHeadAttention(num_heads=4, key_dim=16)
    y = attention(x, x, attention_mask=mask[:, None, :])  # x: (batch, length, 64)
    ```

    Reference:
        Vaswani et al., "Attention Is All You Need", NeurIPS 2017, section 3.2.
    """

    def __init__(self, num_heads: int, key_dim: int, flash_attention=None, **kwargs):
        super().__init__(num_heads, key_dim, flash_attention=flash_attention, **kwargs)
        # Kept as given: `MultiHeadAttention.get_config` leaves this argument out.
        self.flash_attention = flash_attention

    def get_config(self):
        return {**super().get_config(), "flash_attention": self.flash_attention}

    def _fusable(self, query, value, key, return_attention_scores, use_causal_mask) -> bool:
        projections = (self._query_dense, self._key_dense, self._value_dense)
        return (
            value is query
            and (key is None or key is query)
            and not return_attention_scores
            and not use_causal_mask
            and not getattr(self, "_use_gate", False)
            and getattr(self, "_sliding_window", None) is None
            and self._output_shape is None
            and self._value_dim == self._key_dim
            and len(query.shape) == 3
            and tuple(self._attention_axes) == (1,)
            and getattr(query, "_keras_mask", None) is None
            and all(getattr(p, "quantization_mode", None) is None for p in projections)
        )

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
    ):
        masks = (query_mask, value_mask, key_mask)
        if any(m is not None for m in masks) or not self._fusable(
            query, value, key, return_attention_scores, use_causal_mask
        ):
            return super().call(
                query,
                value,
                key=key,
                query_mask=query_mask,
                value_mask=value_mask,
                key_mask=key_mask,
                attention_mask=attention_mask,
                return_attention_scores=return_attention_scores,
                training=training,
                use_causal_mask=use_causal_mask,
            )
        return self._self_attention(query, attention_mask, training)

    def _fused_projection(self, dtype):
        """The `(features, 3 * heads * key_dim)` kernel and bias, the query part pre-scaled."""
        scale = self._inverse_sqrt_key_dim
        parts = (self._query_dense, self._key_dense, self._value_dense)
        kernels, biases = [], []
        for index, dense in enumerate(parts):
            kernel = ops.reshape(ops.cast(dense.kernel, dtype), (dense.kernel.shape[0], -1))
            kernels.append(kernel * ops.cast(scale, dtype) if index == 0 else kernel)
            if dense.bias is not None:
                bias = ops.reshape(ops.cast(dense.bias, dtype), (-1,))
                biases.append(bias * ops.cast(scale, dtype) if index == 0 else bias)
        kernel = ops.concatenate(kernels, axis=-1)
        bias = ops.concatenate(biases, axis=-1) if biases else None
        return kernel, bias

    def _self_attention(self, x, attention_mask, training):
        dtype = self.compute_dtype
        x = ops.cast(x, dtype)
        length, features = x.shape[1], x.shape[2]
        length = ops.shape(x)[1] if length is None else length
        heads, head_dim = self._num_heads, self._key_dim
        kernel, bias = self._fused_projection(dtype)
        projected = ops.matmul(ops.reshape(x, (-1, features)), kernel)
        if bias is not None:
            projected = projected + bias
        # (batch, length, 3, heads, head_dim) -> 3 x (batch, heads, length, head_dim)
        projected = ops.reshape(projected, (-1, length, 3, heads, head_dim))
        query, key, value = ops.unstack(ops.transpose(projected, (2, 0, 3, 1, 4)), 3, axis=0)
        logits = ops.cast(ops.einsum("bnth,bnsh->bnts", query, key), "float32")
        if attention_mask is not None:
            mask = ops.cast(attention_mask, "bool")
            while len(mask.shape) < 4:
                mask = ops.expand_dims(mask, axis=-3)
            logits = ops.where(mask, logits, MASKED_LOGIT)
        probabilities = ops.cast(ops.softmax(logits, axis=-1), dtype)
        if self._dropout > 0.0:
            probabilities = self._dropout_layer(probabilities, training=training)
        context = ops.einsum("bnts,bnsh->btnh", probabilities, value)
        return self._output_dense(context)
