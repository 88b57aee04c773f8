"""GPT-2's decoder stack (Radford et al. 2019): learned positions, pre-LayerNorm, causal mask."""

from __future__ import annotations

import inspect
from typing import Any

import keras
from keras import ops

from layers.validation import check_positive_float, check_positive_int, check_rate
from zoo.models import Backbone
from zoo.text.gpt2.decoder_block import GPT2DecoderBlock, gpt2_initializer


def position_ids(padding_mask):
    """Positions counted over real tokens (0 at the first real token), as Hugging Face's
    `generate` numbers left-padded prompts; equal to `0, 1, ...` without left padding."""
    mask = ops.cast(padding_mask, "int32")
    return ops.maximum(ops.cumsum(mask, axis=-1) - 1, 0)


@keras.saving.register_keras_serializable(package="keras_zoo")
class CountedPositionEmbedding(keras.layers.Embedding):
    """Learned positions looked up from a padding mask: real tokens count 0, 1, ... (see
    `position_ids`). Takes the `keras.layers.Embedding` arguments (`input_dim` rows).

    Example:

    ```python
    positions = CountedPositionEmbedding(1024, 768)(padding_mask)  # [B, T, 768]
    ```
    """

    def call(self, padding_mask):
        return self.embed(position_ids(padding_mask))

    def embed(self, positions):
        """The rows of the integer `positions`."""
        return super().call(positions)


@keras.saving.register_keras_serializable(package="keras_zoo")
class GPT2Backbone(Backbone):
    """The GPT-2 decoder: token + learned position embeddings, pre-LayerNorm causal blocks, a
    final layer norm.

    Positions count real tokens only (`padding_mask`), so left-padded prompts (as generation
    pads them) get the same positions as unpadded ones. `GPT2CausalLM` adds the language-model
    head (the transposed token table) and the cached generation.

    Args:
        vocabulary_size: number of token ids (50257 for the published checkpoints).
        num_layers: number of transformer blocks.
        num_heads: attention heads per block; must divide `hidden_dim`.
        hidden_dim: width of the embeddings and of every block.
        intermediate_dim: width of the MLP's hidden layer (4 x `hidden_dim` in GPT-2).
        dropout: dropout of embeddings, attention and residual branches. Defaults to `0.1`.
        max_sequence_length: rows of the position table (the context). Defaults to `1024`.
        layer_norm_epsilon: epsilon of every layer norm. Defaults to `1e-5`.
        **kwargs: `name`, `dtype` and the other `keras.Model` arguments.

    Inputs: `{"token_ids", "padding_mask"}`, int32 `(batch, length)`.
    Outputs: `{"sequence_output"}`, `(batch, length, hidden_dim)`.

    Example:

    ```python
    backbone = GPT2Backbone.from_preset("gpt2_small")  # 124M weights
    features = backbone({"token_ids": ids, "padding_mask": mask})["sequence_output"]
    ```

    Reference:
        Radford et al., "Language Models are Unsupervised Multitask Learners", 2019.
    """

    def __init__(
        self, vocabulary_size: int, num_layers: int, num_heads: int, hidden_dim: int,
        intermediate_dim: int, dropout: float = 0.1, max_sequence_length: int = 1024,
        layer_norm_epsilon: float = 1e-5, **kwargs
    ):  # fmt: skip
        for name in ("vocabulary_size", "num_layers", "num_heads", "hidden_dim"):
            check_positive_int(name, locals()[name])
        check_positive_int("intermediate_dim", intermediate_dim)
        check_positive_int("max_sequence_length", max_sequence_length)
        check_rate("dropout", dropout)
        check_positive_float("layer_norm_epsilon", layer_norm_epsilon)
        if hidden_dim % num_heads:
            raise ValueError(
                f"`hidden_dim` must be divisible by `num_heads={num_heads}`. "
                f"Received: hidden_dim={hidden_dim}"
            )
        dtype = self.dtype_policy_from(kwargs)
        inputs = {
            name: keras.Input(shape=(None,), dtype="int32", name=name)
            for name in ("token_ids", "padding_mask")
        }
        token_embedding = keras.layers.ReversibleEmbedding(
            vocabulary_size,
            hidden_dim,
            embeddings_initializer=gpt2_initializer(),
            dtype=dtype,
            name="token_embedding",
        )
        position_embedding = CountedPositionEmbedding(
            max_sequence_length,
            hidden_dim,
            embeddings_initializer=gpt2_initializer(),
            dtype=dtype,
            name="position_embedding",
        )
        x = token_embedding(inputs["token_ids"]) + position_embedding(inputs["padding_mask"])
        x = keras.layers.Dropout(dropout, dtype=dtype, name="embeddings_dropout")(x)
        for i in range(num_layers):
            block = GPT2DecoderBlock(
                num_heads,
                intermediate_dim,
                dropout,
                layer_norm_epsilon,
                dtype=dtype,
                name=f"transformer_layer_{i}",
            )
            x = block(x, padding_mask=inputs["padding_mask"])
        x = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=dtype, name="layer_norm"
        )(x)
        super().__init__(inputs=inputs, outputs={"sequence_output": x}, dtype=dtype, **kwargs)

    @property
    def token_embedding(self) -> keras.layers.ReversibleEmbedding:
        """The token table, tied to the language-model head."""
        return self.get_layer("token_embedding")

    @property
    def position_embedding(self) -> CountedPositionEmbedding:
        return self.get_layer("position_embedding")

    @property
    def blocks(self) -> list[GPT2DecoderBlock]:
        return [self.get_layer(f"transformer_layer_{i}") for i in range(self.num_layers)]

    @property
    def head_dim(self) -> int:
        return self.hidden_dim // self.num_heads

    def call_with_cache(self, token_ids, padding_mask, cache, cache_index, training=False):
        """Runs `T` new tokens at `cache_index` against the key/value `cache`.

        Args:
            token_ids: int32 `[B, T]`, the tokens at positions `cache_index ... + T - 1`.
            padding_mask: int `[B, S]` over the whole cache (`S` its length): 1 for real tokens.
            cache: one `[B, 2, S, num_heads, head_dim]` tensor per block (keys, values), a
                tuple: separate tensors let XLA update each in place.
            cache_index: int32 scalar.
            training: dropout on or off. Defaults to `False`.

        Returns:
            `(sequence_output [B, T, hidden], cache)`, the cache a tuple as given.
        """
        length = ops.shape(token_ids)[1]
        all_positions = position_ids(padding_mask)
        positions = ops.slice(all_positions, [0, cache_index], [ops.shape(token_ids)[0], length])
        x = self.token_embedding(token_ids) + self.position_embedding.embed(positions)
        key_positions = ops.arange(ops.shape(padding_mask)[1])
        query_positions = cache_index + ops.arange(length)
        causal = key_positions[None, :] <= query_positions[:, None]
        mask = ops.logical_and(causal[None], ops.cast(padding_mask, "bool")[:, None, :])
        caches = []
        for block, layer_cache in zip(self.blocks, cache, strict=True):
            x, layer_cache = block(
                x, attention_mask=mask, cache=layer_cache, cache_index=cache_index
            )
            caches.append(layer_cache)
        x = self.get_layer("layer_norm")(x)
        return x, tuple(caches)

    @classmethod
    def count_parameters(cls, **arguments: Any) -> int:
        """The number of weights of `cls(**arguments)`, computed without building it.

        Example:

        ```python
        GPT2Backbone.count_parameters(**zoo.get_spec("gpt2_small").defaults)  # 124439808
        ```
        """
        defaults = {
            p.name: p.default
            for p in inspect.signature(cls.__init__).parameters.values()
            if p.default is not inspect.Parameter.empty
        }
        a = {**defaults, **arguments}
        hidden, inner = a["hidden_dim"], a["intermediate_dim"]
        embeddings = (a["vocabulary_size"] + a["max_sequence_length"]) * hidden
        block = 4 * hidden + (hidden * 3 * hidden + 3 * hidden) + (hidden * hidden + hidden)
        block += hidden * inner + inner + inner * hidden + hidden
        return embeddings + a["num_layers"] * block + 2 * hidden
