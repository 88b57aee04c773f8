"""A transformer encoder block with pre- or post-norm and a pluggable attention layer."""

from __future__ import annotations

import keras
from keras import ops

from layers.attention.fused_attention import FusedMultiHeadAttention
from layers.attention.sparse_attention import SparseAttention

ATTENTIONS = ("multi_head", "sparse")


@keras.saving.register_keras_serializable(package="keras_zoo")
class TransformerEncoderBlock(keras.layers.Layer):
    """Self-attention then a feed-forward network, each with a residual and layer norm.

    Post-norm (`norm_first=False`, Vaswani et al. 2017, BERT):
    `x = norm(x + attention(x))`, then `x = norm(x + ffn(x))`.
    Pre-norm (`norm_first=True`, Xiong et al. 2020, GPT-2, ViT):
    `x = x + attention(norm(x))`, then `x = x + ffn(norm(x))`.
    The feed-forward network is `Dense(intermediate_dim, activation)`, dropout (unless
    `intermediate_dropout=False`), `Dense(features)`; dropout is also applied to each sublayer's
    output before the residual sum.

    Args:
        num_heads: number of attention heads; must divide the input's feature size, and each head
            gets `features // num_heads` dimensions.
        intermediate_dim: width of the feed-forward network's hidden layer.
        dropout: dropout rate of the attention probabilities, the sublayer outputs and the
            feed-forward hidden layer. Defaults to `0.0`.
        norm_first: pre-norm when `True`, post-norm when `False`. Defaults to `False`.
        attention: `None` or `"multi_head"` for `FusedMultiHeadAttention` (a
            `keras.layers.MultiHeadAttention` with one fused q/k/v matmul), `"sparse"` for
            `SparseAttention`, or a layer instance used as is (a `MultiHeadAttention` is called as
            `layer(x, x, attention_mask=...)`, any other layer as
            `layer(x, padding_mask=...)`), or such a layer's serialized config. Defaults to
            `None`.
        attention_kwargs: extra constructor arguments for the named attention layer, e.g.
            `{"pattern": "fixed", "block_size": 64}` for `"sparse"`. Defaults to `None`.
        activation: activation of the feed-forward hidden layer. Defaults to `"gelu"`.
        layer_norm_epsilon: epsilon of the layer norms. Defaults to `1e-5`.
        kernel_initializer: initializer of the dense kernels. Defaults to `"glorot_uniform"`.
        bias_initializer: initializer of the dense biases. Defaults to `"zeros"`.
        intermediate_dropout: also apply dropout to the feed-forward hidden layer (BERT and its
            variants do not). Defaults to `True`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Call arguments:
        inputs: a tensor shaped `(batch, length, features)`.
        padding_mask: optional `(batch, length)` booleans or 0/1 integers, true for real tokens;
            padding tokens are not attended to.
        training: whether dropout is active.

    Example:

    ```python
    block = TransformerEncoderBlock(num_heads=4, intermediate_dim=256, norm_first=True)
    y = block(x, padding_mask=mask)  # x: (batch, length, 64)
    long = TransformerEncoderBlock(4, 256, attention="sparse", attention_kwargs={"block_size": 64})
    ```

    References:
        Vaswani et al., "Attention Is All You Need", NeurIPS 2017, section 3.1.
        Xiong et al., "On Layer Normalization in the Transformer Architecture", ICML 2020.
    """

    def __init__(
        self,
        num_heads: int,
        intermediate_dim: int,
        dropout: float = 0.0,
        norm_first: bool = False,
        attention=None,
        attention_kwargs: dict | None = None,
        activation="gelu",
        layer_norm_epsilon: float = 1e-5,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        intermediate_dropout: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(attention, dict):
            attention = keras.saving.deserialize_keras_object(attention)
        for name, value in (("num_heads", num_heads), ("intermediate_dim", intermediate_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
        if (
            isinstance(dropout, bool)
            or not isinstance(dropout, int | float)
            or not 0 <= dropout < 1
        ):
            raise ValueError(f"`dropout` must be a float in [0, 1). Received: dropout={dropout!r}")
        if not isinstance(norm_first, bool):
            raise TypeError(f"`norm_first` must be a bool. Received: norm_first={norm_first!r}")
        if not isinstance(intermediate_dropout, bool):
            raise TypeError(
                "`intermediate_dropout` must be a bool. "
                f"Received: intermediate_dropout={intermediate_dropout!r}"
            )
        if not (
            attention is None
            or attention in ATTENTIONS
            or isinstance(attention, keras.layers.Layer)
        ):
            raise ValueError(
                f"`attention` must be None, one of {ATTENTIONS} or a keras layer. "
                f"Received: attention={attention!r}"
            )
        if attention_kwargs is not None and not isinstance(attention_kwargs, dict):
            raise TypeError(
                "`attention_kwargs` must be a dict. "
                f"Received: attention_kwargs={attention_kwargs!r}"
            )
        if attention_kwargs and isinstance(attention, keras.layers.Layer):
            raise ValueError(
                "`attention_kwargs` configures a named attention, not a layer instance. "
                f"Received: attention_kwargs={attention_kwargs!r} with attention={attention!r}"
            )
        if (
            isinstance(layer_norm_epsilon, bool)
            or not isinstance(layer_norm_epsilon, int | float)
            or layer_norm_epsilon <= 0
        ):
            raise ValueError(
                "`layer_norm_epsilon` must be a positive number. "
                f"Received: layer_norm_epsilon={layer_norm_epsilon!r}"
            )
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.norm_first = norm_first
        self.attention = attention
        self.attention_kwargs = dict(attention_kwargs or {})
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.intermediate_dropout = intermediate_dropout
        if isinstance(attention, keras.layers.Layer):
            self.attention_layer = attention

    def _dense(self, units, name, activation=None):
        return keras.layers.Dense(
            units,
            activation=activation,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, input_shape):
        features = input_shape[-1]
        if len(input_shape) != 3 or features is None or features % self.num_heads:
            raise ValueError(
                "TransformerEncoderBlock expects inputs shaped (batch, length, features) with "
                f"features divisible by num_heads={self.num_heads}. "
                f"Received: input_shape={input_shape}"
            )
        if not isinstance(self.attention, keras.layers.Layer):
            options = {
                "num_heads": self.num_heads,
                "key_dim": features // self.num_heads,
                "dropout": self.dropout,
                "kernel_initializer": self.kernel_initializer,
                "bias_initializer": self.bias_initializer,
                "dtype": self.dtype_policy,
                "name": "attention",
                **self.attention_kwargs,
            }
            attention_cls = SparseAttention if self.attention == "sparse" else None
            attention_cls = attention_cls or FusedMultiHeadAttention
            self.attention_layer = attention_cls(**options)
        if isinstance(self.attention_layer, keras.layers.MultiHeadAttention):
            self.attention_layer.build(input_shape, input_shape)
        elif not self.attention_layer.built:
            self.attention_layer.build(input_shape)
        self.attention_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name="attention_norm"
        )
        self.ffn_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name="ffn_norm"
        )
        self.intermediate = self._dense(self.intermediate_dim, "intermediate", self.activation)
        self.ffn_output = self._dense(features, "ffn_output")
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)
        for norm in (self.attention_norm, self.ffn_norm):
            norm.build(input_shape)
        self.intermediate.build(input_shape)
        self.ffn_output.build((*input_shape[:-1], self.intermediate_dim))

    def _attend(self, x, padding_mask, training):
        if isinstance(self.attention_layer, keras.layers.MultiHeadAttention):
            mask = None
            if padding_mask is not None:
                # (batch, 1, length): the same keys for every query.
                mask = ops.cast(padding_mask, "bool")[:, None, :]
            return self.attention_layer(x, x, attention_mask=mask, training=training)
        if padding_mask is None:
            return self.attention_layer(x, training=training)
        return self.attention_layer(x, padding_mask=padding_mask, training=training)

    def _feed_forward(self, x, training):
        hidden = self.intermediate(x)
        if self.intermediate_dropout:
            hidden = self.dropout_layer(hidden, training=training)
        return self.ffn_output(hidden)

    def call(self, inputs, padding_mask=None, training=None):
        x = inputs

        def drop(h):
            return self.dropout_layer(h, training=training)

        if self.norm_first:
            x = x + drop(self._attend(self.attention_norm(x), padding_mask, training))
            x = x + drop(self._feed_forward(self.ffn_norm(x), training))
        else:
            x = self.attention_norm(x + drop(self._attend(x, padding_mask, training)))
            x = self.ffn_norm(x + drop(self._feed_forward(x, training)))
        return x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        attention = self.attention
        if isinstance(attention, keras.layers.Layer):
            attention = keras.saving.serialize_keras_object(attention)
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "norm_first": self.norm_first,
            "attention": attention,
            "attention_kwargs": self.attention_kwargs or None,
            "activation": keras.activations.serialize(self.activation),
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "intermediate_dropout": self.intermediate_dropout,
        }
