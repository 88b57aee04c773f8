"""Layers of the Vision Transformer: the class token and the pre-norm encoder block."""

from __future__ import annotations

import keras
from keras import ops

from layers.attention.fused_attention import FusedMultiHeadAttention
from layers.regularization import StochasticDepth
from layers.validation import check_positive_float, check_positive_int, check_rate


@keras.saving.register_keras_serializable(package="keras_zoo")
class ClassToken(keras.layers.Layer):
    """Prepends one learned token to a sequence: `(batch, n, d)` becomes `(batch, n + 1, d)`.

    Args:
        initializer: initializer of the token. Defaults to `"zeros"` (as in ViT and timm).
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Example:

    ```python
    tokens = ClassToken()(patches)  # patches: (batch, 196, 192) -> (batch, 197, 192)
    ```

    Reference:
        Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR 2021, eq. 1.
    """

    def __init__(self, initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.initializer = keras.initializers.get(initializer)

    def build(self, input_shape):
        self.token = self.add_weight(
            shape=(1, 1, input_shape[-1]), initializer=self.initializer, name="token"
        )

    def call(self, inputs):
        token = ops.cast(self.token, inputs.dtype)
        token = ops.broadcast_to(token, (ops.shape(inputs)[0], 1, ops.shape(inputs)[-1]))
        return ops.concatenate([token, inputs], axis=1)

    def compute_output_shape(self, input_shape):
        length = None if input_shape[1] is None else input_shape[1] + 1
        return (input_shape[0], length, input_shape[2])

    def get_config(self):
        return {
            **super().get_config(),
            "initializer": keras.initializers.serialize(self.initializer),
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class ViTEncoderBlock(keras.layers.Layer):
    """A pre-norm transformer block with stochastic depth on both residual branches.

    `x = x + drop_path(attention(norm_1(x)))`, then `x = x + drop_path(mlp(norm_2(x)))`, where
    the MLP is `Dense(mlp_dim, gelu)`, dropout, `Dense(d)`, dropout. (`TransformerEncoderBlock`
    in `layers` has no per-branch stochastic depth, which ViT training on small data needs.)

    Args:
        num_heads: attention heads; must divide the feature size.
        mlp_dim: hidden width of the MLP.
        dropout: dropout after the attention and MLP projections. Defaults to `0.0`.
        attention_dropout: dropout of the attention probabilities. Defaults to `0.0`.
        drop_path_rate: probability of skipping each residual branch in training (stochastic
            depth). Defaults to `0.0`.
        layer_norm_epsilon: epsilon of the layer norms. Defaults to `1e-6`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Example:

    ```python
    block = ViTEncoderBlock(num_heads=3, mlp_dim=768, drop_path_rate=0.1)
    y = block(tokens)  # tokens: (batch, 197, 192)
    ```

    Reference:
        Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR 2021, eqs. 2-3;
        Huang et al., "Deep Networks with Stochastic Depth", ECCV 2016.
    """

    def __init__(
        self,
        num_heads: int,
        mlp_dim: int,
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
        drop_path_rate: float = 0.0,
        layer_norm_epsilon: float = 1e-6,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.mlp_dim = check_positive_int("mlp_dim", mlp_dim)
        self.dropout = check_rate("dropout", dropout)
        self.attention_dropout = check_rate("attention_dropout", attention_dropout)
        self.drop_path_rate = check_rate("drop_path_rate", drop_path_rate)
        self.layer_norm_epsilon = check_positive_float("layer_norm_epsilon", layer_norm_epsilon)

    def build(self, input_shape):
        features = input_shape[-1]
        if len(input_shape) != 3 or features is None or features % self.num_heads:
            raise ValueError(
                "ViTEncoderBlock expects (batch, tokens, features) with features divisible by "
                f"num_heads={self.num_heads}. Received: input_shape={input_shape}"
            )
        policy = self.dtype_policy
        self.norm_1 = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, name="norm_1", dtype=policy
        )
        # Same weights as keras' MultiHeadAttention, one q/k/v matmul instead of three.
        self.attention = FusedMultiHeadAttention(
            self.num_heads,
            features // self.num_heads,
            dropout=self.attention_dropout,
            name="attention",
            dtype=policy,
        )
        self.norm_2 = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, name="norm_2", dtype=policy
        )
        self.mlp_in = keras.layers.Dense(
            self.mlp_dim, activation="gelu", name="mlp_in", dtype=policy
        )
        self.mlp_out = keras.layers.Dense(features, name="mlp_out", dtype=policy)
        self.drop = keras.layers.Dropout(self.dropout, dtype=policy)
        survival = 1.0 - self.drop_path_rate
        self.drop_path_1 = StochasticDepth(survival, name="drop_path_1", dtype=policy)
        self.drop_path_2 = StochasticDepth(survival, name="drop_path_2", dtype=policy)
        self.norm_1.build(input_shape)
        self.attention.build(input_shape, input_shape)
        self.norm_2.build(input_shape)
        self.mlp_in.build(input_shape)
        self.mlp_out.build((*input_shape[:-1], self.mlp_dim))

    def call(self, inputs, training=None):
        h = self.norm_1(inputs)
        h = self.attention(h, h, training=training)
        x = self.drop_path_1([inputs, self.drop(h, training=training)], training=training)
        h = self.mlp_out(self.drop(self.mlp_in(self.norm_2(x)), training=training))
        return self.drop_path_2([x, self.drop(h, training=training)], training=training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "mlp_dim": self.mlp_dim,
            "dropout": self.dropout,
            "attention_dropout": self.attention_dropout,
            "drop_path_rate": self.drop_path_rate,
            "layer_norm_epsilon": self.layer_norm_epsilon,
        }
