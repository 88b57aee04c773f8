"""T5's layers: attention without scaling, the (gated) feed-forward, encoder and decoder blocks.

Every block is pre-norm with T5's RMS layer norm (`keras.layers.RMSNormalization`: a scale, no
bias, no mean subtraction). Attention takes one additive float32 bias that holds the relative
position bias and the masks. Decoder blocks also run one position at a time against a key/value
cache (`T5DecoderBlock.step`), which is what generation uses.
"""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_bool, check_choice, check_positive_int, check_rate
from zoo.text.encoder import activation_function

ACTIVATIONS = ("relu", "gelu", "gelu_approximate")
# Added to the attention logits of masked keys (float32; exp() of it is exactly 0).
MASK_VALUE = -1e9


def _dense(units: int, name: str, dtype) -> keras.layers.Dense:
    return keras.layers.Dense(units, use_bias=False, name=name, dtype=dtype)


def _norm(epsilon: float, name: str, dtype) -> keras.layers.RMSNormalization:
    return keras.layers.RMSNormalization(epsilon=epsilon, name=name, dtype=dtype)


@keras.saving.register_keras_serializable(package="keras_zoo")
class T5Attention(keras.layers.Layer):
    """Multi-head attention as T5 has it: no biases, no `1 / sqrt(head_dim)` scaling.

    The query, key, value and output projections are dense layers without bias named `query`,
    `key`, `value` and `output`; the heads' width `key_value_dim` need not divide the model
    width. The logits, plus `bias` (relative positions and masks, float32, broadcast to
    `(batch, heads, queries, keys)`), go through a float32 softmax.

    Args:
        num_heads: number of heads.
        key_value_dim: width of each head.
        dropout: dropout rate on the attention probabilities. Defaults to `0.0`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Call arguments:
        inputs: the queries' hidden states `(batch, queries, width)`.
        context: the keys' and values' hidden states (cross-attention). Defaults to `inputs`.
        bias: additive float32 bias on the logits. Defaults to none.

    Example:

    ```python
    attention = T5Attention(num_heads=8, key_value_dim=64)
    y = attention(x, bias=position_bias + mask_bias)
    ```

    Reference:
        Raffel et al., "Exploring the Limits of Transfer Learning with a Unified Text-to-Text
        Transformer", JMLR 2020, section 2.1.
    """

    def __init__(self, num_heads: int, key_value_dim: int, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.key_value_dim = check_positive_int("key_value_dim", key_value_dim)
        self.dropout = check_rate("dropout", dropout)
        inner = num_heads * key_value_dim
        self.query = _dense(inner, "query", self.dtype_policy)
        self.key = _dense(inner, "key", self.dtype_policy)
        self.value = _dense(inner, "value", self.dtype_policy)
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=self.dtype_policy)
        self.output_dense = None

    def build(self, inputs_shape):
        width = inputs_shape[-1]
        for dense in (self.query, self.key, self.value):
            dense.build((None, width))
        self.output_dense = _dense(width, "output", self.dtype_policy)
        self.output_dense.build((None, self.num_heads * self.key_value_dim))

    def _heads(self, x):
        shape = ops.shape(x)
        return ops.reshape(x, (shape[0], shape[1], self.num_heads, self.key_value_dim))

    def key_value(self, context):
        """The keys and values of `context`, each `(batch, keys, heads, key_value_dim)`."""
        return self._heads(self.key(context)), self._heads(self.value(context))

    def attend(self, inputs, key, value, bias=None, training=None):
        """Attention of `inputs`' queries over given keys and values (e.g. a cache)."""
        query = self._heads(self.query(inputs))
        logits = ops.cast(ops.einsum("bqhd,bkhd->bhqk", query, key), "float32")
        if bias is not None:
            logits = logits + ops.cast(bias, "float32")
        probabilities = ops.cast(ops.softmax(logits, axis=-1), self.compute_dtype)
        probabilities = self.dropout_layer(probabilities, training=training)
        x = ops.einsum("bhqk,bkhd->bqhd", probabilities, value)
        shape = ops.shape(x)
        x = ops.reshape(x, (shape[0], shape[1], self.num_heads * self.key_value_dim))
        return self.output_dense(x)

    def call(self, inputs, context=None, bias=None, training=None):
        key, value = self.key_value(inputs if context is None else context)
        return self.attend(inputs, key, value, bias, training)

    def compute_output_shape(self, inputs_shape, context_shape=None, bias_shape=None):
        return inputs_shape

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_value_dim": self.key_value_dim,
            "dropout": self.dropout,
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class T5FeedForward(keras.layers.Layer):
    """T5's feed-forward sublayer: `wo(act(wi(x)))`, or gated `wo(act(wi_0(x)) * wi_1(x))`.

    Dense layers have no bias. T5 v1.0 uses ReLU; T5 v1.1 the gated GELU (tanh approximation,
    Hugging Face's `gelu_new`) of Shazeer 2020.

    Args:
        intermediate_dim: width of the hidden layer.
        activation: `"relu"`, `"gelu"` (exact) or `"gelu_approximate"`. Defaults to `"relu"`.
        gated: multiply by a second, linear projection. Defaults to `False`.
        dropout: dropout rate on the hidden layer. Defaults to `0.0`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Example:

    ```python
    y = T5FeedForward(1024, activation="gelu_approximate", gated=True)(x)
    ```

    Reference:
        Raffel et al., "Exploring the Limits of Transfer Learning ...", JMLR 2020; Shazeer,
        "GLU Variants Improve Transformer", 2020 (the gated variant of T5 v1.1).
    """

    def __init__(
        self,
        intermediate_dim: int,
        activation: str = "relu",
        gated: bool = False,
        dropout: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.intermediate_dim = check_positive_int("intermediate_dim", intermediate_dim)
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        self.gated = check_bool("gated", gated)
        self.dropout = check_rate("dropout", dropout)
        self._activation = keras.activations.get(activation_function(activation))
        self.input_dense = _dense(intermediate_dim, "input", self.dtype_policy)
        self.gate_dense = _dense(intermediate_dim, "gate", self.dtype_policy) if gated else None
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=self.dtype_policy)
        self.output_dense = None

    def build(self, inputs_shape):
        width = inputs_shape[-1]
        self.input_dense.build((None, width))
        if self.gate_dense is not None:
            self.gate_dense.build((None, width))
        self.output_dense = _dense(width, "output", self.dtype_policy)
        self.output_dense.build((None, self.intermediate_dim))

    def call(self, inputs, training=None):
        x = self._activation(self.input_dense(inputs))
        if self.gate_dense is not None:
            x = x * self.gate_dense(inputs)
        return self.output_dense(self.dropout_layer(x, training=training))

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        return {
            **super().get_config(),
            "intermediate_dim": self.intermediate_dim,
            "activation": self.activation,
            "gated": self.gated,
            "dropout": self.dropout,
        }


class _T5Block(keras.layers.Layer):
    """What encoder and decoder blocks share: arguments, the feed-forward sublayer, config."""

    def __init__(
        self,
        num_heads: int,
        key_value_dim: int,
        intermediate_dim: int,
        activation: str = "relu",
        gated: bool = False,
        dropout: float = 0.0,
        layer_norm_epsilon: float = 1e-6,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.key_value_dim = key_value_dim
        self.intermediate_dim = intermediate_dim
        self.activation = activation
        self.gated = gated
        self.dropout = check_rate("dropout", dropout)
        self.layer_norm_epsilon = layer_norm_epsilon
        policy = self.dtype_policy
        self.self_attention = T5Attention(
            num_heads, key_value_dim, dropout, name="self_attention", dtype=policy
        )
        self.self_attention_norm = _norm(layer_norm_epsilon, "self_attention_norm", policy)
        self.feed_forward = T5FeedForward(
            intermediate_dim, activation, gated, dropout, name="feed_forward", dtype=policy
        )
        self.feed_forward_norm = _norm(layer_norm_epsilon, "feed_forward_norm", policy)
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=policy)

    def _build_common(self, inputs_shape):
        for layer in (self.self_attention_norm, self.self_attention):
            layer.build(inputs_shape)
        self.feed_forward_norm.build(inputs_shape)
        self.feed_forward.build(inputs_shape)

    def _feed_forward(self, x, training=None):
        y = self.feed_forward(self.feed_forward_norm(x), training=training)
        return x + self.dropout_layer(y, training=training)

    def compute_output_shape(self, inputs_shape, *args, **kwargs):
        return inputs_shape

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_value_dim": self.key_value_dim,
            "intermediate_dim": self.intermediate_dim,
            "activation": self.activation,
            "gated": self.gated,
            "dropout": self.dropout,
            "layer_norm_epsilon": self.layer_norm_epsilon,
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class T5EncoderBlock(_T5Block):
    """A T5 encoder block: pre-norm self-attention, then the pre-norm feed-forward.

    Args:
        num_heads: attention heads.
        key_value_dim: width of each head.
        intermediate_dim: width of the feed-forward hidden layer.
        activation: feed-forward activation (see `T5FeedForward`). Defaults to `"relu"`.
        gated: gated feed-forward (T5 v1.1). Defaults to `False`.
        dropout: dropout rate of the sublayers. Defaults to `0.0`.
        layer_norm_epsilon: epsilon of the RMS layer norms. Defaults to `1e-6`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Call arguments:
        inputs: `(batch, length, width)`.
        bias: additive float32 attention bias (relative positions plus the padding mask).

    Example:

    ```python
    y = T5EncoderBlock(num_heads=8, key_value_dim=64, intermediate_dim=2048)(x, bias)
    ```

    Reference:
        Raffel et al., "Exploring the Limits of Transfer Learning ...", JMLR 2020, section 2.1.
    """

    def build(self, inputs_shape, bias_shape=None):
        self._build_common(inputs_shape)

    def call(self, inputs, bias=None, training=None):
        y = self.self_attention(self.self_attention_norm(inputs), bias=bias, training=training)
        x = inputs + self.dropout_layer(y, training=training)
        return self._feed_forward(x, training)


@keras.saving.register_keras_serializable(package="keras_zoo")
class T5DecoderBlock(_T5Block):
    """A T5 decoder block: causal self-attention, cross-attention, feed-forward (all pre-norm).

    Takes the arguments of `T5EncoderBlock`. `step` runs one new position against a key/value
    cache of the earlier ones and precomputed cross-attention keys/values (generation).

    Call arguments:
        inputs: `(batch, length, width)`.
        encoder_output: `(batch, encoder_length, width)`.
        self_bias: float32 bias of self-attention (relative positions, causal and padding
            masks).
        cross_bias: float32 bias of cross-attention (the encoder's padding mask).

    Example:

    ```python
    block = T5DecoderBlock(num_heads=8, key_value_dim=64, intermediate_dim=2048)
    y = block(x, encoder_output, self_bias, cross_bias)
    ```

    Reference:
        Raffel et al., "Exploring the Limits of Transfer Learning ...", JMLR 2020, section 2.1.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        policy = self.dtype_policy
        self.cross_attention = T5Attention(
            self.num_heads, self.key_value_dim, self.dropout, name="cross_attention", dtype=policy
        )
        self.cross_attention_norm = _norm(self.layer_norm_epsilon, "cross_attention_norm", policy)

    def build(self, inputs_shape, encoder_output_shape=None, self_bias_shape=None, **kwargs):
        self._build_common(inputs_shape)
        self.cross_attention_norm.build(inputs_shape)
        self.cross_attention.build(inputs_shape)

    def call(self, inputs, encoder_output, self_bias=None, cross_bias=None, training=None):
        y = self.self_attention(self.self_attention_norm(inputs), bias=self_bias, training=training)
        x = inputs + self.dropout_layer(y, training=training)
        y = self.cross_attention(
            self.cross_attention_norm(x), encoder_output, bias=cross_bias, training=training
        )
        x = x + self.dropout_layer(y, training=training)
        return self._feed_forward(x, training)

    def step(self, inputs, cache, index, cross_key, cross_value, self_bias, cross_bias):
        """One position: `inputs` `(batch, 1, width)` at decoder position `index`.

        `cache` `(batch, 2, max_length, heads, key_value_dim)` holds the keys and values of
        the earlier positions; this position's are written at `index`. Returns the block's
        output and the updated cache.
        """
        h = self.self_attention_norm(inputs)
        key, value = self.self_attention.key_value(h)
        here = ops.arange(ops.shape(cache)[2]) == index
        here = ops.reshape(here, (1, -1, 1, 1))
        keys = ops.where(here, key, cache[:, 0])
        values = ops.where(here, value, cache[:, 1])
        x = inputs + self.self_attention.attend(h, keys, values, self_bias)
        h = self.cross_attention_norm(x)
        x = x + self.cross_attention.attend(h, cross_key, cross_value, cross_bias)
        x = x + self.feed_forward(self.feed_forward_norm(x))
        return x, ops.stack([keys, values], axis=1)
