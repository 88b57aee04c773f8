"""Factorised sparse self-attention computed block by block (Child et al. 2019)."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_bool, check_choice, check_positive_int, check_rate

PATTERNS = ("strided", "fixed", "local")
# Logits of disallowed pairs; finite so a row with no allowed key gives no NaN.
_MASKED_LOGIT = -1e9


def _static_shape(tensor) -> tuple:
    return tuple(None if d is None else int(d) for d in tensor.shape)


def _check_sequence_shape(name: str, shape) -> tuple:
    """`shape` is `(batch, length, features)` with `features` known; returns it as a tuple."""
    shape = tuple(shape)
    if len(shape) != 3 or shape[-1] is None:
        raise ValueError(
            f"`{name}` must be shaped (batch, length, features) with a known feature size. "
            f"Received: {name}.shape={shape}"
        )
    return shape


def _check_same_length(shapes: dict) -> None:
    """The pattern relates position `i` of the queries to position `j` of the keys: both
    sequences must have the same length (where it is known before running)."""
    lengths = {name: shape[1] for name, shape in shapes.items() if shape[1] is not None}
    batches = {name: shape[0] for name, shape in shapes.items() if shape[0] is not None}
    for what, sizes in (("length", lengths), ("batch size", batches)):
        if len(set(sizes.values())) > 1:
            received = ", ".join(f"{name}.shape={shapes[name]}" for name in shapes)
            raise ValueError(
                f"SparseAttention needs `query`, `value` and `key` of the same {what}: its "
                "pattern pairs query position i with key position j of one sequence, so "
                "cross-attention to a sequence of another length is not defined. "
                f"Received: {received}"
            )


@keras.saving.register_keras_serializable(package="keras_zoo")
class SparseAttention(keras.layers.Layer):
    """Multi-head attention over a factorised sparse pattern, computed block by block.

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

    It is called like `keras.layers.MultiHeadAttention`: `layer(x)` and `layer(x, x)` are
    self-attention, `layer(query, value)` or `layer(query, value, key)` attend from `query` to
    another sequence. The pattern pairs query position `i` with key position `j`, so the other
    sequence must have the same length (and batch size) as `query`; its feature size may
    differ. Sequences of any length are accepted: the last block is padded internally. The
    projections have the shapes of `keras.layers.MultiHeadAttention`'s, so its weights can be
    copied over. Attention logits and softmax are computed in float32.

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
        query: a tensor shaped `(batch, length, features)`; the output has the same shape.
        value: optional `(batch, length, value_features)` tensor attended to, with `query`'s
            batch size and length. Defaults to `query` (self-attention).
        key: optional `(batch, length, key_features)` tensor the queries are scored against.
            Defaults to `value`.
        padding_mask: optional `(batch, length)` booleans or 0/1 integers over the keys, true
            for real tokens. Unlike `MultiHeadAttention`'s `attention_mask`, it is never
            `length x length`.
        training: whether dropout is active.

    Example:

    ```python
    attention = SparseAttention(num_heads=4, key_dim=32, pattern="strided", block_size=64)
    y = attention(x, padding_mask=mask)  # x: (batch, 4096, 128)
    y = attention(x, x, padding_mask=mask)  # the same, called as MultiHeadAttention is
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
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.key_dim = check_positive_int("key_dim", key_dim)
        self.pattern = check_choice("pattern", pattern, PATTERNS)
        self.block_size = check_positive_int("block_size", block_size)
        if pattern == "fixed":
            if summary_size is None:
                summary_size = max(1, block_size // 16)
            check_positive_int("summary_size", summary_size)
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
        self.causal = check_bool("causal", causal)
        self.use_bias = check_bool("use_bias", use_bias)
        check_rate("dropout", dropout)
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

    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None and key_shape is not None:
            raise ValueError(
                f"`key` needs `value` as well. Received: value=None, key.shape={key_shape}"
            )
        query_shape = _check_sequence_shape("query", query_shape)
        value_shape = query_shape if value_shape is None else value_shape
        value_shape = _check_sequence_shape("value", value_shape)
        key_shape = _check_sequence_shape("key", value_shape if key_shape is None else key_shape)
        _check_same_length({"query": query_shape, "value": value_shape, "key": key_shape})
        heads = (None, self.num_heads, self.key_dim)
        self.query_dense = self._projection("query", "abc,cde->abde", heads, "de")
        self.key_dense = self._projection("key", "abc,cde->abde", heads, "de")
        self.value_dense = self._projection("value", "abc,cde->abde", heads, "de")
        self.output_dense = self._projection(
            "attention_output", "abcd,cde->abe", (None, query_shape[-1]), "e"
        )
        self.query_dense.build(query_shape)
        self.key_dense.build(key_shape)
        self.value_dense.build(value_shape)
        self.output_dense.build((*query_shape[:2], self.num_heads, self.key_dim))

    def _check_inputs(self, query, value, key, padding_mask) -> None:
        shapes = {}
        for name, tensor, dense in (
            ("query", query, self.query_dense),
            ("value", value, self.value_dense),
            ("key", key, self.key_dense),
        ):
            shape = _check_sequence_shape(name, _static_shape(tensor))
            features = dense.kernel.shape[0]
            if shape[-1] != features:
                raise ValueError(
                    f"`{name}` must have {features} features, the size this layer was built "
                    f"with. Received: {name}.shape={shape}"
                )
            shapes[name] = shape
        _check_same_length(shapes)
        if padding_mask is not None:
            mask_shape = _static_shape(padding_mask)
            expected = shapes["key"][:2]
            if len(mask_shape) != 2 or any(
                got is not None and want is not None and got != want
                for got, want in zip(mask_shape, expected, strict=True)
            ):
                raise ValueError(
                    "`padding_mask` must be shaped (batch, length) like the keys, "
                    f"{expected}. Received: padding_mask.shape={mask_shape}"
                )

    def call(self, query, value=None, key=None, padding_mask=None, training=None):
        if value is None and key is not None:
            raise ValueError(
                f"`key` needs `value` as well. Received: value=None, key.shape={key.shape}"
            )
        value = query if value is None else value
        key = value if key is None else key
        self._check_inputs(query, value, key, padding_mask)
        batch, length = ops.shape(query)[0], ops.shape(query)[1]
        block = self.block_size
        num_blocks = (length + block - 1) // block
        padded_length = num_blocks * block

        def to_blocks(x):  # (batch, length, heads, dim) -> (batch, heads, blocks, block, dim)
            x = ops.transpose(x, (0, 2, 1, 3))
            x = ops.pad(x, [[0, 0], [0, 0], [0, padded_length - length], [0, 0]])
            return ops.reshape(x, (batch, self.num_heads, num_blocks, block, self.key_dim))

        scale = 1.0 / float(self.key_dim) ** 0.5
        query = to_blocks(self.query_dense(query) * ops.cast(scale, self.compute_dtype))
        key = to_blocks(self.key_dense(key))
        value = to_blocks(self.value_dense(value))

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

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        return tuple(query_shape)

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
