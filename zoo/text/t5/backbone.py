"""T5: an encoder-decoder transformer with RMS layer norms and bucketed relative positions."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from layers.embedding import RelativePositionBias
from layers.embedding.relative_position_bias import t5_relative_position_bucket
from layers.validation import check_bool, check_choice, check_positive_int, check_rate
from zoo.models import Backbone
from zoo.text.t5.blocks import ACTIVATIONS, MASK_VALUE, T5DecoderBlock, T5EncoderBlock

INPUT_NAMES = (
    "encoder_token_ids",
    "encoder_padding_mask",
    "decoder_token_ids",
    "decoder_padding_mask",
)


def padding_bias(padding_mask):
    """`(batch, 1, 1, keys)` float32: 0 where the key is a real token, `MASK_VALUE` elsewhere."""
    mask = ops.cast(padding_mask, "float32")
    return ((1.0 - mask) * MASK_VALUE)[:, None, None, :]


def causal_bias(padding_mask):
    """`(batch, 1, length, length)` float32: `MASK_VALUE` on keys after the query."""
    positions = ops.cumsum(ops.ones_like(padding_mask, dtype="int32"), axis=1)
    later = ops.cast(positions[:, None, :] > positions[:, :, None], "float32")
    return (later * MASK_VALUE)[:, None]


def _encode(parts: dict, token_ids, padding_mask, training=None):
    x = parts["encoder_embedding_dropout"](parts["token_embedding"](token_ids), training=training)
    bias = ops.cast(parts["encoder_position_bias"](x), "float32") + padding_bias(padding_mask)
    for block in parts["encoder_blocks"]:
        x = block(x, bias, training=training)
    return parts["encoder_output_dropout"](parts["encoder_norm"](x), training=training)


def _decode(parts: dict, token_ids, padding_mask, encoder_output, encoder_mask, training=None):
    y = parts["decoder_embedding_dropout"](parts["token_embedding"](token_ids), training=training)
    bias = ops.cast(parts["decoder_position_bias"](y), "float32")
    bias = bias + causal_bias(padding_mask) + padding_bias(padding_mask)
    cross_bias = padding_bias(encoder_mask)
    for block in parts["decoder_blocks"]:
        y = block(y, encoder_output, bias, cross_bias, training=training)
    return parts["decoder_output_dropout"](parts["decoder_norm"](y), training=training)


@keras.saving.register_keras_serializable(package="keras_zoo")
class T5Backbone(Backbone):
    """The T5 encoder-decoder: shared token embeddings, pre-norm blocks, relative positions.

    Encoder and decoder share one token embedding table. Each has its own bucketed relative
    position bias (`layers.RelativePositionBias`, bidirectional in the encoder, causal in the
    decoder), computed once and shared by all of its layers, as in T5. Blocks are pre-norm with
    T5's RMS layer norm (scale only); attention has no biases and no scaling; the feed-forward
    is ReLU (T5 v1.0) or gated GELU (T5 v1.1: `activation="gelu_approximate", gated=True`).
    Padding keys are masked; the decoder is causal.

    Args:
        vocabulary_size: number of token ids.
        num_layers: encoder blocks.
        num_heads: attention heads per block.
        hidden_dim: width of the embeddings and of every block (`d_model`).
        intermediate_dim: width of the feed-forward hidden layer (`d_ff`).
        key_value_dim: width of each head (`d_kv`). Defaults to `hidden_dim // num_heads`.
        num_decoder_layers: decoder blocks. Defaults to `num_layers`.
        activation: feed-forward activation, `"relu"`, `"gelu"` or `"gelu_approximate"`.
            Defaults to `"relu"`.
        gated: gated feed-forward (T5 v1.1). Defaults to `False`.
        dropout: dropout rate of embeddings, attention probabilities, sublayer outputs and
            the final outputs. Defaults to `0.1`.
        layer_norm_epsilon: epsilon of every RMS layer norm. Defaults to `1e-6`.
        num_buckets: relative position buckets. Defaults to `32`.
        max_distance: distance from which relative positions share a bucket. Defaults to
            `128`.
        **kwargs: `name`, `dtype` (a dtype policy; defaults to the global policy) and the other
            `keras.Model` arguments.

    Inputs: a dict of int32 tensors `"encoder_token_ids"`, `"encoder_padding_mask"`
    `(batch, encoder_length)` and `"decoder_token_ids"`, `"decoder_padding_mask"`
    `(batch, decoder_length)`; masks are 1 for real tokens, 0 for padding.

    Outputs: a dict with `"encoder_sequence_output"` `(batch, encoder_length, hidden_dim)` and
    `"decoder_sequence_output"` `(batch, decoder_length, hidden_dim)`.

    Example:

    ```python
    backbone = T5Backbone(vocabulary_size=32128, num_layers=6, num_heads=8, hidden_dim=512,
                          intermediate_dim=2048)
    outputs = backbone({"encoder_token_ids": x, "encoder_padding_mask": x_mask,
                        "decoder_token_ids": y, "decoder_padding_mask": y_mask})
    small = T5Backbone.from_preset("t5_small")  # 60.5M weights, random
    ```

    Reference:
        Raffel et al., "Exploring the Limits of Transfer Learning with a Unified Text-to-Text
        Transformer", JMLR 2020.
    """

    def __init__(
        self,
        vocabulary_size: int,
        num_layers: int,
        num_heads: int,
        hidden_dim: int,
        intermediate_dim: int,
        key_value_dim: int | None = None,
        num_decoder_layers: int | None = None,
        activation: str = "relu",
        gated: bool = False,
        dropout: float = 0.1,
        layer_norm_epsilon: float = 1e-6,
        num_buckets: int = 32,
        max_distance: int = 128,
        **kwargs,
    ):
        for name in ("vocabulary_size", "num_layers", "num_heads", "hidden_dim"):
            check_positive_int(name, locals()[name])
        check_positive_int("intermediate_dim", intermediate_dim)
        if key_value_dim is not None:
            check_positive_int("key_value_dim", key_value_dim)
        elif hidden_dim % num_heads:
            raise ValueError(
                "`num_heads` must divide `hidden_dim` when `key_value_dim` is not given. "
                f"Received: num_heads={num_heads}, hidden_dim={hidden_dim}"
            )
        if num_decoder_layers is not None:
            check_positive_int("num_decoder_layers", num_decoder_layers)
        check_choice("activation", activation, ACTIVATIONS)
        check_bool("gated", gated)
        check_rate("dropout", dropout)
        check_positive_int("num_buckets", num_buckets)
        check_positive_int("max_distance", max_distance)
        dtype = self.dtype_policy_from(kwargs)
        block_arguments = dict(
            num_heads=num_heads,
            key_value_dim=key_value_dim or hidden_dim // num_heads,
            intermediate_dim=intermediate_dim,
            activation=activation,
            gated=gated,
            dropout=dropout,
            layer_norm_epsilon=layer_norm_epsilon,
            dtype=dtype,
        )
        inputs = {name: keras.Input((None,), dtype="int32", name=name) for name in INPUT_NAMES}
        parts = {
            "token_embedding": keras.layers.ReversibleEmbedding(
                vocabulary_size,
                hidden_dim,
                embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0),  # as T5's
                dtype=dtype,
                name="token_embedding",
            ),
            "encoder_blocks": [
                T5EncoderBlock(**block_arguments, name=f"encoder_block_{i}")
                for i in range(num_layers)
            ],
            "decoder_blocks": [
                T5DecoderBlock(**block_arguments, name=f"decoder_block_{i}")
                for i in range(num_decoder_layers or num_layers)
            ],
        }
        for side, bidirectional in (("encoder", True), ("decoder", False)):
            parts[f"{side}_position_bias"] = RelativePositionBias(
                num_heads,
                num_buckets=num_buckets,
                max_distance=max_distance,
                bidirectional=bidirectional,
                initializer=keras.initializers.RandomNormal(stddev=hidden_dim**-0.5),
                dtype=dtype,
                name=f"{side}_position_bias",
            )
            parts[f"{side}_norm"] = keras.layers.RMSNormalization(
                epsilon=layer_norm_epsilon, dtype=dtype, name=f"{side}_norm"
            )
            for where in ("embedding", "output"):
                name = f"{side}_{where}_dropout"
                parts[name] = keras.layers.Dropout(dropout, dtype=dtype, name=name)
        encoder_output = _encode(parts, inputs["encoder_token_ids"], inputs["encoder_padding_mask"])
        decoder_output = _decode(
            parts,
            inputs["decoder_token_ids"],
            inputs["decoder_padding_mask"],
            encoder_output,
            inputs["encoder_padding_mask"],
        )
        outputs = {
            "encoder_sequence_output": encoder_output,
            "decoder_sequence_output": decoder_output,
        }
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)
        self.key_value_dim = block_arguments["key_value_dim"]
        self.num_decoder_layers = num_decoder_layers or num_layers

    def _parts(self) -> dict:
        parts = {
            name: self.get_layer(name)
            for name in ("token_embedding", "encoder_position_bias", "decoder_position_bias")
        }
        for side in ("encoder", "decoder"):
            parts[f"{side}_norm"] = self.get_layer(f"{side}_norm")
            for where in ("embedding", "output"):
                parts[f"{side}_{where}_dropout"] = self.get_layer(f"{side}_{where}_dropout")
        parts["encoder_blocks"] = [
            self.get_layer(f"encoder_block_{i}") for i in range(self.num_layers)
        ]
        parts["decoder_blocks"] = [
            self.get_layer(f"decoder_block_{i}") for i in range(self.num_decoder_layers)
        ]
        return parts

    def encode(self, token_ids, padding_mask, training=False):
        """The encoder's output `(batch, length, hidden_dim)` alone."""
        return _encode(self._parts(), token_ids, padding_mask, training=training)

    def cross_key_values(self, encoder_output) -> tuple:
        """Every decoder block's cross-attention keys and values, computed once: one
        `(batch, 2, encoder_length, heads, key_value_dim)` tensor per decoder block."""
        return tuple(
            ops.stack(block.cross_attention.key_value(encoder_output), axis=1)
            for block in self._parts()["decoder_blocks"]
        )

    def empty_cache(self, batch_size, max_length) -> tuple:
        """A zero self-attention cache: one `(batch, 2, max_length, heads, key_value_dim)`
        tensor per decoder block (separate tensors, which XLA updates in place)."""
        shape = (batch_size, 2, max_length, self.num_heads, self.key_value_dim)
        return tuple(ops.zeros(shape, self.compute_dtype) for _ in range(self.num_decoder_layers))

    def decoder_step(self, token_ids, state: dict, position):
        """Runs the decoder on one token per row, at decoder position `position`.

        Args:
            token_ids: int32 `(batch,)`.
            state: `{"cache": empty_cache(...) filled up to position - 1, "cross":
                cross_key_values(...), "cross_bias": padding_bias(encoder_padding_mask)}`.
            position: int32 scalar.

        Returns:
            The decoder's output `(batch, hidden_dim)` and the state with the cache updated.
        """
        parts = self._parts()
        x = parts["token_embedding"](token_ids[:, None])
        keys = ops.arange(ops.shape(state["cache"][0])[2])
        buckets = t5_relative_position_bucket(
            keys - position, False, self.num_buckets, self.max_distance
        )
        table = ops.cast(parts["decoder_position_bias"].table, "float32")
        bias = ops.transpose(ops.take(table, buckets, axis=0))[None, :, None, :]
        bias = bias + ops.cast(keys > position, "float32")[None, None, None, :] * MASK_VALUE
        caches = []
        for block, cache, cross in zip(
            parts["decoder_blocks"], state["cache"], state["cross"], strict=True
        ):
            x, cache = block.step(
                x, cache, position, cross[:, 0], cross[:, 1], bias, state["cross_bias"]
            )
            caches.append(cache)
        x = parts["decoder_norm"](x)[:, 0]
        return x, {**state, "cache": tuple(caches)}

    @property
    def token_embedding(self) -> keras.layers.ReversibleEmbedding:
        """The token embedding table shared by encoder, decoder and (tied) output layer."""
        return self.get_layer("token_embedding")

    @classmethod
    def count_parameters(cls, **arguments: Any) -> int:
        """The number of weights of `cls(**arguments)`, computed without building it.

        Example:

        ```python
        T5Backbone.count_parameters(vocabulary_size=32128, num_layers=6, num_heads=8,
                                    hidden_dim=512, intermediate_dim=2048)  # 60,506,624
        ```
        """
        a = {"num_buckets": 32, "gated": False, **arguments}
        hidden, heads = a["hidden_dim"], a["num_heads"]
        inner = heads * (a.get("key_value_dim") or hidden // heads)
        attention = 4 * hidden * inner
        feed_forward = (3 if a["gated"] else 2) * hidden * a["intermediate_dim"]
        encoder = a["num_layers"] * (attention + feed_forward + 2 * hidden)
        decoder_layers = a.get("num_decoder_layers") or a["num_layers"]
        decoder = decoder_layers * (2 * attention + feed_forward + 3 * hidden)
        positions = 2 * a["num_buckets"] * heads
        return a["vocabulary_size"] * hidden + encoder + decoder + positions + 2 * hidden
