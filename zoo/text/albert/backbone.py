"""ALBERT: BERT with factorised embeddings and one set of layer weights shared by all layers."""

from __future__ import annotations

import keras

from zoo.text.encoder import (
    TextBackbone,
    bert_initializer,
    check_encoder_arguments,
    encoder_block,
    pooler,
    position_embedding,
    segment_embedding,
    sum_embeddings,
    text_inputs,
    token_embedding,
)


@keras.saving.register_keras_serializable(package="keras_zoo")
class AlbertBackbone(TextBackbone):
    """The ALBERT encoder: small embeddings projected up, and one layer applied `num_layers` times.

    Token, position and segment embeddings of width `embedding_dim` are summed and
    layer-normalised, projected to `hidden_dim` by a dense layer, then passed `num_layers` times
    through a single shared post-norm transformer layer. The pooler is BERT's.

    Args:
        vocabulary_size: number of token ids.
        num_layers: how many times the shared layer is applied.
        num_heads: attention heads; must divide `hidden_dim`.
        hidden_dim: width of the transformer layer.
        intermediate_dim: width of the feed-forward hidden layer.
        embedding_dim: width of the embeddings. Defaults to `128`.
        dropout: dropout rate. Defaults to `0.0` (ALBERT v2).
        max_sequence_length: number of learned positions. Defaults to `512`.
        num_segments: number of segment ids. Defaults to `2`.
        activation: `"gelu"`, `"gelu_approximate"` or `"relu"`. Defaults to
            `"gelu_approximate"` (Hugging Face's `gelu_new`).
        layer_norm_epsilon: epsilon of every layer norm. Defaults to `1e-12`.
        **kwargs: `name`, `dtype` and the other `keras.Model` arguments.

    Inputs: `{"token_ids", "segment_ids", "padding_mask"}`, int32 `(batch, length)`.
    Outputs: `{"sequence_output", "pooled_output"}`.

    Example:

    ```python
    backbone = AlbertBackbone(30000, num_layers=12, num_heads=12, hidden_dim=768,
                              intermediate_dim=3072, embedding_dim=128)
    ```

    Reference:
        Lan et al., "ALBERT: A Lite BERT for Self-supervised Learning of Language
        Representations", ICLR 2020.
    """

    shares_layers = True

    def __init__(
        self, vocabulary_size: int, num_layers: int, num_heads: int, hidden_dim: int,
        intermediate_dim: int, embedding_dim: int = 128, dropout: float = 0.0,
        max_sequence_length: int = 512, num_segments: int = 2,
        activation: str = "gelu_approximate", layer_norm_epsilon: float = 1e-12, **kwargs
    ):  # fmt: skip
        check_encoder_arguments(self.constructor_arguments)
        dtype = self.dtype_policy_from(kwargs)
        inputs = text_inputs(with_segments=True)
        tokens = token_embedding(vocabulary_size, embedding_dim, dtype)(inputs["token_ids"])
        positions = position_embedding(max_sequence_length, dtype)(tokens)
        segments = segment_embedding(num_segments, embedding_dim, dtype)(inputs["segment_ids"])
        x = sum_embeddings([tokens, positions, segments], dropout, layer_norm_epsilon, dtype)
        x = keras.layers.Dense(
            hidden_dim,
            kernel_initializer=bert_initializer(),
            dtype=dtype,
            name="embeddings_projection",
        )(x)
        shared = encoder_block(self.constructor_arguments, dtype, name="shared_transformer_layer")
        for _ in range(num_layers):
            x = shared(x, padding_mask=inputs["padding_mask"])
        outputs = {"sequence_output": x, "pooled_output": pooler(x, hidden_dim, dtype)}
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)
