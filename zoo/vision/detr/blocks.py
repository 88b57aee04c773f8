"""The transformer layers of DETR: sine positions, object queries, encoder and decoder layers.

Post-norm layers as in the paper's code and Hugging Face's `DetrEncoderLayer` /
`DetrDecoderLayer`: positions are added to the attention queries and keys, never to the values.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from layers.validation import check_choice, check_positive_int, check_rate

ACTIVATIONS = ("relu", "gelu")


@keras.saving.register_keras_serializable(package="keras_zoo")
class SinePositionEmbedding2D(keras.layers.Layer):
    """The 2-D sine position encoding of DETR for a `(batch, height, width, channels)` map.

    Each axis gets `num_features` channels: the row (then column) index `1..H`, normalised to
    `(0, 2 pi]`, divided by `temperature ** (2 floor(i / 2) / num_features)`, with sine on the
    even and cosine on the odd channels; the row channels come first. Works for any map size
    (the size is read at call time). Without `pixel_mask` every position is an image position;
    with it (`(batch, height, width)`, 1 on the image, 0 on padding, at the map's resolution)
    the indices are the cumulative sums of the mask, normalised by the valid height and width
    of each column and row, as the paper's code and Hugging Face's `DetrSinePositionEmbedding`:
    an image padded at the bottom and right gets the positions it has alone.

    Args:
        num_features: channels per axis (the model width is `2 * num_features`). Defaults to
            `128`.
        temperature: the wavelength base. Defaults to `10000`.
        **kwargs: `keras.layers.Layer` arguments.

    Example:

    ```python
    positions = SinePositionEmbedding2D(128)(feature_map)  # (batch, h, w, 256)
    positions = SinePositionEmbedding2D(128)(feature_map, pixel_mask=mask)  # mask (batch, h, w)
    ```

    Reference:
        Carion et al., "End-to-End Object Detection with Transformers", ECCV 2020, §A.4.
    """

    def __init__(self, num_features: int = 128, temperature: int = 10000, **kwargs):
        super().__init__(**kwargs)
        self.num_features = check_positive_int("num_features", num_features)
        self.temperature = check_positive_int("temperature", temperature)

    def _angles_divisor(self):
        index = ops.arange(self.num_features) // 2 * 2
        return ops.power(float(self.temperature), ops.cast(index, "float32") / self.num_features)

    def _masked(self, pixel_mask):
        valid = ops.cast(pixel_mask, "float32")
        scale, eps = 2 * math.pi, 1e-6
        y = ops.cumsum(valid, axis=1)
        x = ops.cumsum(valid, axis=2)
        y = y / (y[:, -1:, :] + eps) * scale
        x = x / (x[:, :, -1:] + eps) * scale
        dim_t = self._angles_divisor()

        def encode(values):  # (b, h, w) -> (b, h, w, num_features)
            angles = values[..., None] / dim_t
            pairs = ops.stack([ops.sin(angles[..., 0::2]), ops.cos(angles[..., 1::2])], axis=-1)
            shape = ops.shape(values)
            return ops.reshape(pairs, (shape[0], shape[1], shape[2], self.num_features))

        return ops.cast(ops.concatenate([encode(y), encode(x)], axis=-1), self.compute_dtype)

    def call(self, feature_map, pixel_mask=None):
        if pixel_mask is not None:
            return self._masked(pixel_mask)
        shape = ops.shape(feature_map)
        height, width = shape[1], shape[2]
        scale, eps = 2 * math.pi, 1e-6
        y = ops.cast(ops.arange(1, height + 1), "float32")
        x = ops.cast(ops.arange(1, width + 1), "float32")
        y = y / (ops.cast(height, "float32") + eps) * scale
        x = x / (ops.cast(width, "float32") + eps) * scale
        dim_t = self._angles_divisor()

        def encode(values):  # (n,) -> (n, num_features): sin on even, cos on odd channels
            angles = values[:, None] / dim_t
            pairs = ops.stack([ops.sin(angles[:, 0::2]), ops.cos(angles[:, 1::2])], axis=-1)
            return ops.reshape(pairs, (-1, self.num_features))

        pos_y = ops.broadcast_to(encode(y)[:, None, :], (height, width, self.num_features))
        pos_x = ops.broadcast_to(encode(x)[None, :, :], (height, width, self.num_features))
        positions = ops.concatenate([pos_y, pos_x], axis=-1)
        full_shape = (shape[0], height, width, 2 * self.num_features)
        positions = ops.broadcast_to(positions[None], full_shape)
        return ops.cast(positions, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], 2 * self.num_features)

    def get_config(self):
        return {
            **super().get_config(),
            "num_features": self.num_features,
            "temperature": self.temperature,
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class ObjectQueries(keras.layers.Layer):
    """DETR's learned object queries: `num_queries` vectors, repeated over the batch.

    They are the decoder's query position embeddings (the decoder input itself starts at zero).

    Args:
        num_queries: number of object slots (the most objects one image can yield).
        hidden_dim: width of each query.
        **kwargs: `keras.layers.Layer` arguments.

    Example:

    ```python
    query_positions = ObjectQueries(100, 256)(memory)  # (batch, 100, 256)
    ```
    """

    def __init__(self, num_queries: int, hidden_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.num_queries = check_positive_int("num_queries", num_queries)
        self.hidden_dim = check_positive_int("hidden_dim", hidden_dim)

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            shape=(self.num_queries, self.hidden_dim),
            initializer=keras.initializers.RandomNormal(stddev=1.0),
            name="embeddings",
        )

    def call(self, reference):
        batch = ops.shape(reference)[0]
        queries = ops.cast(self.embeddings, self.compute_dtype)
        return ops.broadcast_to(queries[None], (batch, self.num_queries, self.hidden_dim))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_queries, self.hidden_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "num_queries": self.num_queries,
            "hidden_dim": self.hidden_dim,
        }


def key_mask(padding_mask, queries):
    """`(batch, keys)` valid positions to the `(batch, queries, keys)` attention mask, or `None`."""
    if padding_mask is None:
        return None
    valid = ops.cast(padding_mask, "bool")[:, None, :]
    shape = ops.shape(queries)
    return ops.broadcast_to(valid, (shape[0], shape[1], ops.shape(valid)[2]))


class _TransformerLayer(keras.layers.Layer):
    """Shared arguments and the feed-forward part of the encoder and decoder layers."""

    def __init__(
        self,
        hidden_dim: int = 256,
        num_heads: int = 8,
        ffn_dim: int = 2048,
        dropout: float = 0.1,
        activation: str = "relu",
        layer_norm_epsilon: float = 1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.hidden_dim = check_positive_int("hidden_dim", hidden_dim)
        self.num_heads = check_positive_int("num_heads", num_heads)
        if hidden_dim % num_heads:
            raise ValueError(
                f"`hidden_dim` ({hidden_dim}) must be divisible by `num_heads`. "
                f"Received: num_heads={num_heads}"
            )
        self.ffn_dim = check_positive_int("ffn_dim", ffn_dim)
        self.dropout = check_rate("dropout", dropout)
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        self.layer_norm_epsilon = layer_norm_epsilon

    def _attention(self, name):
        return keras.layers.MultiHeadAttention(
            self.num_heads,
            self.hidden_dim // self.num_heads,
            dropout=self.dropout,
            name=name,
            dtype=self.dtype_policy,
        )

    def _norm(self, name):
        return keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, name=name, dtype=self.dtype_policy
        )

    def _build_ffn(self):
        self.ffn_1 = keras.layers.Dense(
            self.ffn_dim, activation=self.activation, name="ffn_1", dtype=self.dtype_policy
        )
        self.ffn_2 = keras.layers.Dense(self.hidden_dim, name="ffn_2", dtype=self.dtype_policy)
        self.drop = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)

    def _ffn(self, x, training):
        return self.ffn_2(self.drop(self.ffn_1(x), training=training))

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "num_heads": self.num_heads,
            "ffn_dim": self.ffn_dim,
            "dropout": self.dropout,
            "activation": self.activation,
            "layer_norm_epsilon": self.layer_norm_epsilon,
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class DETREncoderLayer(_TransformerLayer):
    """One post-norm DETR encoder layer: self-attention over the image features (positions added
    to queries and keys), then a feed-forward block, each with a residual and a layer norm.

    `padding_mask` (`(batch, h * w)`, 1 on image positions, 0 on padding) keeps the padded
    positions out of the attention's keys; without it every position is attended to.

    Args:
        hidden_dim: model width. Defaults to `256`.
        num_heads: attention heads. Defaults to `8`.
        ffn_dim: feed-forward width. Defaults to `2048`.
        dropout: dropout rate (attention, residual and feed-forward). Defaults to `0.1`.
        activation: `"relu"` or `"gelu"`. Defaults to `"relu"`.
        layer_norm_epsilon: layer norm epsilon. Defaults to `1e-5`.
        **kwargs: `keras.layers.Layer` arguments.

    Example:

    ```python
    memory = DETREncoderLayer(256, 8)(features, positions)  # (batch, h * w, 256)
    memory = DETREncoderLayer(256, 8)(features, positions, padding_mask=valid)  # valid (b, h * w)
    ```

    Reference:
        Carion et al., "End-to-End Object Detection with Transformers", ECCV 2020, Fig. 10.
    """

    def build(self, x_shape, positions_shape=None, padding_mask_shape=None):
        self.self_attention = self._attention("self_attention")
        self.norm_1 = self._norm("norm_1")
        self.norm_2 = self._norm("norm_2")
        self._build_ffn()
        shape = tuple(x_shape)
        self.self_attention.build(shape, shape, shape)
        self.norm_1.build(shape)
        self.ffn_1.build(shape)
        self.ffn_2.build((*shape[:-1], self.ffn_dim))
        self.norm_2.build(shape)

    def call(self, x, positions, padding_mask=None, training=None):
        qk = x + positions
        attended = self.self_attention(
            qk, x, key=qk, attention_mask=key_mask(padding_mask, x), training=training
        )
        x = self.norm_1(x + self.drop(attended, training=training))
        return self.norm_2(x + self.drop(self._ffn(x, training), training=training))


@keras.saving.register_keras_serializable(package="keras_zoo")
class DETRDecoderLayer(_TransformerLayer):
    """One post-norm DETR decoder layer: self-attention between the object slots (query
    positions added to queries and keys), cross-attention to the encoder memory (query positions
    on the queries, image positions on the keys), then a feed-forward block.

    `memory_mask` (`(batch, h * w)`, 1 on image positions, 0 on padding) keeps the padded
    positions of the memory out of the cross-attention.

    Args:
        hidden_dim: model width. Defaults to `256`.
        num_heads: attention heads. Defaults to `8`.
        ffn_dim: feed-forward width. Defaults to `2048`.
        dropout: dropout rate. Defaults to `0.1`.
        activation: `"relu"` or `"gelu"`. Defaults to `"relu"`.
        layer_norm_epsilon: layer norm epsilon. Defaults to `1e-5`.
        **kwargs: `keras.layers.Layer` arguments.

    Example:

    ```python
    slots = DETRDecoderLayer(256, 8)(slots, memory, positions, query_positions)
    ```

    Reference:
        Carion et al., "End-to-End Object Detection with Transformers", ECCV 2020, Fig. 10.
    """

    def build(
        self,
        x_shape,
        memory_shape=None,
        positions_shape=None,
        query_positions_shape=None,
        memory_mask_shape=None,
    ):
        self.self_attention = self._attention("self_attention")
        self.cross_attention = self._attention("cross_attention")
        self.norm_1 = self._norm("norm_1")
        self.norm_2 = self._norm("norm_2")
        self.norm_3 = self._norm("norm_3")
        self._build_ffn()
        shape = tuple(x_shape)
        memory = tuple(memory_shape) if memory_shape is not None else shape
        self.self_attention.build(shape, shape, shape)
        self.cross_attention.build(shape, memory, memory)
        for norm in (self.norm_1, self.norm_2, self.norm_3):
            norm.build(shape)
        self.ffn_1.build(shape)
        self.ffn_2.build((*shape[:-1], self.ffn_dim))

    def call(self, x, memory, positions, query_positions, memory_mask=None, training=None):
        qk = x + query_positions
        attended = self.self_attention(qk, x, key=qk, training=training)
        x = self.norm_1(x + self.drop(attended, training=training))
        attended = self.cross_attention(
            x + query_positions,
            memory,
            key=memory + positions,
            attention_mask=key_mask(memory_mask, x),
            training=training,
        )
        x = self.norm_2(x + self.drop(attended, training=training))
        return self.norm_3(x + self.drop(self._ffn(x, training), training=training))
