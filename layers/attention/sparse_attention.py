"""Factorised sparse self-attention computed block by block (Child et al. 2019)."""

from __future__ import annotations

import keras
from keras import ops

PATTERNS = ("strided", "fixed", "local")
# Logits of disallowed pairs; finite so a row with no allowed key gives no NaN.
_MASKED_LOGIT = -1e9


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return value


@keras.saving.register_keras_serializable(package="keras_zoo")
class SparseAttention(keras.layers.Layer):
    """Multi-head self-attention over a factorised sparse pattern, computed block by block.

    With block length `l = block_size`, query position `i` attends to key position `j` when:

    - `"strided"`: `|i - j| <= l` (the local window) or `(i - j) mod l == 0` (the stride).
    - `"fixed"`: `floor(i / l) == floor(j / l)` (the same block) or `j mod l >= l - c`, with
      `c = summary_size` (the last `c` positions of every block summarise it for all others).
    - `"local"`: `|i - j| <= l` only.

    With `causal=True`, also `j <= i`. Both parts of a pattern are merged into one softmax per
    head (the paper's "merged head" variant). Keys flagged as padding by `padding_mask` are
    never attended to; a query left with no key at all outputs the output projection's bias.

    Nothing of size `length x length` is ever built. The sequence is cut into blocks of `l`
    positions; each query block is scored against the key blocks next to it (one on each side
    for `"strided"` and `"local"`, its own block for `"fixed"`) and against the strided or
    summary keys gathered from all blocks. Per head the score memory is
    `length * (3 * l + length / l)` for `"strided"`, `length * (l + c * length / l)` for
    `"fixed"` and `3 * length * l` for `"local"`: with `l` near `sqrt(length)` (the paper's
    choice) the first two grow as `length ** 1.5`, and `"local"` grows linearly.

    The projections have the shapes of `keras.layers.MultiHeadAttention`'s, so its weights can
    be copied over. Attention logits and softmax are computed in float32.

    Args:
        num_heads: number of attention heads.
        key_dim: size of each head's queries, keys and values.
        pattern: `"strided"`, `"fixed"` or `"local"`. Defaults to `"strided"`.
        block_size: `l` above: the stride, the block length and the local window. Defaults to
            `128`.
        summary_size: `"fixed"` only: `c` above, at most `block_size`. Defaults to
            `max(1, block_size // 16)` (the paper's `c = 8` for `l = 128`).
        causal: attend only to the current and earlier positions. Defaults to `False`.
        dropout: dropout rate on the attention probabilities. Defaults to `0.0`.
        use_bias: whether the projections have biases. Defaults to `True`.
        kernel_initializer: initializer of the projection kernels. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of the projection biases. Defaults to `"zeros"`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Call arguments:
        inputs: a tensor shaped `(batch, length, features)`; the output has the same shape.
        padding_mask: optional `(batch, length)` booleans or 0/1 integers, true for real tokens.
        training: whether dropout is active.

    Example:

    ```python
    attention = SparseAttention(num_heads=4, key_dim=32, pattern="strided", block_size=64)
    y = attention(x, padding_mask=mask)  # x: (batch, 4096, 128)
    ```

    Reference:
        Child et al., "Generating Long Sequences with Sparse Transformers", 2019,
        arXiv:1904.10509, section 4.
    """

    def __init__(
        self,
        num_heads: int,
        key_dim: int,
        pattern: str = "strided",
        block_size: int = 128,
        summary_size: int | None = None,
        causal: bool = False,
        dropout: float = 0.0,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = _positive_int("num_heads", num_heads)
        self.key_dim = _positive_int("key_dim", key_dim)
        if pattern not in PATTERNS:
            raise ValueError(f"`pattern` must be one of {PATTERNS}. Received: pattern={pattern!r}")
        self.pattern = pattern
        self.block_size = _positive_int("block_size", block_size)
        if pattern == "fixed":
            if summary_size is None:
                summary_size = max(1, block_size // 16)
            _positive_int("summary_size", summary_size)
            if summary_size > block_size:
                raise ValueError(
                    f"`summary_size` must be at most `block_size` ({block_size}). "
                    f"Received: summary_size={summary_size}"
                )
        elif summary_size is not None:
            raise ValueError(
                f"`summary_size` applies to pattern='fixed' only. Received: "
                f"summary_size={summary_size!r} with pattern={pattern!r}"
            )
        self.summary_size = summary_size
        for name, value in (("causal", causal), ("use_bias", use_bias)):
            if not isinstance(value, bool):
                raise TypeError(f"`{name}` must be a bool. Received: {name}={value!r}")
        self.causal = causal
        self.use_bias = use_bias
        if (
            isinstance(dropout, bool)
            or not isinstance(dropout, int | float)
            or not 0 <= dropout < 1
        ):
            raise ValueError(f"`dropout` must be a float in [0, 1). Received: dropout={dropout!r}")
        self.dropout = dropout
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self._dropout_layer = keras.layers.Dropout(dropout, dtype=self.dtype_policy)

    def _projection(self, name, equation, output_shape, bias_axes):
        return keras.layers.EinsumDense(
            equation,
            output_shape=output_shape,
            bias_axes=bias_axes if self.use_bias else None,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(
                "SparseAttention expects inputs shaped (batch, length, features) with a known "
                f"feature size. Received: input_shape={input_shape}"
            )
        features = input_shape[-1]
        heads = (None, self.num_heads, self.key_dim)
        self.query_dense = self._projection("query", "abc,cde->abde", heads, "de")
        self.key_dense = self._projection("key", "abc,cde->abde", heads, "de")
        self.value_dense = self._projection("value", "abc,cde->abde", heads, "de")
        self.output_dense = self._projection(
            "attention_output", "abcd,cde->abe", (None, features), "e"
        )
        for dense in (self.query_dense, self.key_dense, self.value_dense):
            dense.build(input_shape)
        self.output_dense.build((*input_shape[:2], self.num_heads, self.key_dim))

    def call(self, inputs, padding_mask=None, training=None):
        batch, length = ops.shape(inputs)[0], ops.shape(inputs)[1]
        block = self.block_size
        num_blocks = (length + block - 1) // block
        padded_length = num_blocks * block

        def to_blocks(x):  # (batch, length, heads, dim) -> (batch, heads, blocks, block, dim)
            x = ops.transpose(x, (0, 2, 1, 3))
            x = ops.pad(x, [[0, 0], [0, 0], [0, padded_length - length], [0, 0]])
            return ops.reshape(x, (batch, self.num_heads, num_blocks, block, self.key_dim))

        scale = 1.0 / float(self.key_dim) ** 0.5
        query = to_blocks(self.query_dense(inputs) * ops.cast(scale, self.compute_dtype))
        key = to_blocks(self.key_dense(inputs))
        value = to_blocks(self.value_dense(inputs))

        if padding_mask is None:
            valid = ops.ones((batch, length), "bool")
        else:
            valid = ops.cast(padding_mask, "bool")
        # Positions past the end are padding keys; they are never attended to.
        valid = ops.reshape(
            ops.pad(valid, [[0, 0], [0, padded_length - length]], constant_values=False),
            (batch, num_blocks, block),
        )

        # Local part: each query block against its neighbouring key blocks.
        reach = 0 if self.pattern == "fixed" else 1
        offsets = list(range(-reach, 1 if self.causal else reach + 1))
        local_keys = self._band(key, offsets, reach, axis=2)
        local_valid = self._band(valid, offsets, reach, axis=1)  # (batch, blocks, band)
        scores = [ops.einsum("bhnqd,bhnkd->bhnqk", query, local_keys)]
        positions = ops.arange(num_blocks)[:, None] * block + ops.arange(block)[None, :]
        key_positions = ops.concatenate([positions + o * block for o in offsets], axis=1)
        distance = positions[:, :, None] - key_positions[:, None, :]  # (blocks, block, band)
        if self.pattern == "fixed":
            near = distance >= 0 if self.causal else ops.ones_like(distance, "bool")
        elif self.causal:
            near = ops.logical_and(distance >= 0, distance <= block)
        else:
            near = ops.abs(distance) <= block
        allowed = [ops.logical_and(near[None, None], local_valid[:, None, :, None, :])]

        # Global part: strided or summary keys from the other blocks.
        block_ids = ops.arange(num_blocks)
        if self.pattern == "strided":
            # Keys at the query's own offset within every block: (batch, heads, block, blocks, dim).
            strided_keys = ops.transpose(key, (0, 1, 3, 2, 4))
            scores.append(ops.einsum("bhisd,bhsmd->bhism", query, strided_keys))
            gap = block_ids[:, None] - block_ids[None, :]  # query block - key block
            # Blocks within one of the query's are already in the local part.
            far = gap >= 2 if self.causal else ops.abs(gap) >= 2
            strided_valid = ops.transpose(valid, (0, 2, 1))  # (batch, block, blocks)
            allowed.append(
                ops.logical_and(far[None, None, :, None, :], strided_valid[:, None, None, :, :])
            )
        elif self.pattern == "fixed":
            summary = self.summary_size
            summary_keys = ops.reshape(
                key[:, :, :, block - summary :, :],
                (batch, self.num_heads, num_blocks * summary, self.key_dim),
            )
            scores.append(ops.einsum("bhisd,bhmd->bhism", query, summary_keys))
            key_blocks = ops.repeat(block_ids, summary)
            gap = block_ids[:, None] - key_blocks[None, :]
            # The query's own block is already in the local part.
            other = gap > 0 if self.causal else ops.not_equal(gap, 0)
            summary_valid = ops.reshape(
                valid[:, :, block - summary :], (batch, num_blocks * summary)
            )
            allowed.append(
                ops.logical_and(other[None, None, :, None, :], summary_valid[:, None, None, None])
            )

        scores = ops.concatenate([ops.cast(s, "float32") for s in scores], axis=-1)
        allowed = ops.concatenate(
            [self._broadcast_mask(a, batch, num_blocks, block) for a in allowed], axis=-1
        )
        weights = ops.softmax(ops.where(allowed, scores, _MASKED_LOGIT), axis=-1)
        # A row with no allowed key would otherwise spread uniformly over masked keys.
        weights = ops.where(allowed, weights, 0.0)
        weights = ops.cast(self._dropout_layer(weights, training=training), self.compute_dtype)

        band = ops.shape(local_keys)[3]
        local_values = self._band(value, offsets, reach, axis=2)
        output = ops.einsum("bhnqk,bhnkd->bhnqd", weights[..., :band], local_values)
        if self.pattern == "strided":
            strided_values = ops.transpose(value, (0, 1, 3, 2, 4))
            output = output + ops.einsum("bhism,bhsmd->bhisd", weights[..., band:], strided_values)
        elif self.pattern == "fixed":
            summary_values = ops.reshape(
                value[:, :, :, block - self.summary_size :, :],
                (batch, self.num_heads, num_blocks * self.summary_size, self.key_dim),
            )
            output = output + ops.einsum("bhism,bhmd->bhisd", weights[..., band:], summary_values)

        output = ops.reshape(output, (batch, self.num_heads, padded_length, self.key_dim))
        output = ops.transpose(output[:, :, :length], (0, 2, 1, 3))
        return self.output_dense(output)

    @staticmethod
    def _broadcast_mask(mask, batch, num_blocks, block):
        return ops.broadcast_to(mask, (batch, 1, num_blocks, block, ops.shape(mask)[-1]))

    @staticmethod
    def _band(x, offsets, reach, axis):
        """Concatenates, for every block, the blocks at `offsets` from it (zeros/False outside)."""
        pad = [[0, 0]] * len(x.shape)
        pad[axis] = [reach, reach]
        padded = ops.pad(
            x,
            pad,
            constant_values=False if keras.backend.standardize_dtype(x.dtype) == "bool" else 0,
        )
        count = ops.shape(x)[axis]
        parts = []
        for offset in offsets:
            index = [slice(None)] * len(x.shape)
            index[axis] = slice(reach + offset, reach + offset + count)
            parts.append(padded[tuple(index)])
        return ops.concatenate(parts, axis=axis + 1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "pattern": self.pattern,
            "block_size": self.block_size,
            "summary_size": self.summary_size,
            "causal": self.causal,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }
