"""ELECTRA's encoder: BERT's layers over embeddings that may be narrower than the layers."""

from __future__ import annotations

from typing import Any

import keras

from zoo.text.encoder import (
    TextBackbone,
    bert_initializer,
    check_encoder_arguments,
    encoder_stack,
    position_embedding,
    segment_embedding,
    sum_embeddings,
    text_inputs,
    token_embedding,
)


def embed_tokens(backbone: TextBackbone, token_ids, segment_ids):
    """The backbone's embedding block applied to new inputs: token, position and segment
    embeddings summed, layer-normalised and dropped out, at width `embedding_dim`.

    `ElectraPretrainer`'s generator embeds its input with the discriminator's own layers (the
    paper shares the token and position embeddings between the two networks).
    """
    tokens = backbone.get_layer("token_embedding")(token_ids)
    positions = backbone.get_layer("position_embedding")(tokens)
    segments = backbone.get_layer("segment_embedding")(segment_ids)
    x = backbone.get_layer("embeddings_add")([tokens, positions, segments])
    x = backbone.get_layer("embeddings_layer_norm")(x)
    return backbone.get_layer("embeddings_dropout")(x)


def embeddings_projection(hidden_dim: int, dtype, name: str = "embeddings_projection"):
    """The dense layer from the embedding width up to the transformer width."""
    return keras.layers.Dense(
        hidden_dim, kernel_initializer=bert_initializer(), dtype=dtype, name=name
    )


@keras.saving.register_keras_serializable(package="keras_zoo")
class ElectraBackbone(TextBackbone):
    """The ELECTRA encoder (generator or discriminator): BERT's layers, factorised embeddings.

    Token, learned position and segment embeddings of width `embedding_dim` are summed and
    layer-normalised; when `embedding_dim` differs from `hidden_dim` a dense layer
    (`"embeddings_projection"`) projects them to `hidden_dim`; then `num_layers` independent
    post-norm transformer layers follow (BERT's, from `zoo.text.encoder`). There is no pooler:
    `BertClassifier` classifies from the first (`[CLS]`) token of the sequence output, as
    Hugging Face's `ElectraForSequenceClassification` does (with its own two-layer head).

    Args:
        vocabulary_size: number of token ids.
        num_layers: number of transformer layers.
        num_heads: attention heads per layer; must divide `hidden_dim`.
        hidden_dim: width of every transformer layer.
        intermediate_dim: width of the feed-forward hidden layer.
        embedding_dim: width of the embeddings. Defaults to `128` (ELECTRA-Small).
        dropout: dropout rate of embeddings, attention probabilities and sublayer outputs.
            Defaults to `0.1`.
        max_sequence_length: number of learned positions. Defaults to `512`.
        num_segments: number of segment ids. Defaults to `2`.
        activation: `"gelu"`, `"gelu_approximate"` or `"relu"`. Defaults to `"gelu"`.
        layer_norm_epsilon: epsilon of every layer norm. Defaults to `1e-12`.
        **kwargs: `name`, `dtype` (a dtype policy) and the other `keras.Model` arguments.

    Inputs: a dict of int32 tensors shaped `(batch, length)`: `"token_ids"`, `"segment_ids"`
    and `"padding_mask"` (1 for real tokens, 0 for padding).

    Outputs: `{"sequence_output"}`, `(batch, length, hidden_dim)`.

    Example:

    ```python
    backbone = ElectraBackbone(30522, num_layers=12, num_heads=4, hidden_dim=256,
                               intermediate_dim=1024, embedding_dim=128)  # ELECTRA-Small
    outputs = backbone({"token_ids": ids, "segment_ids": segments, "padding_mask": mask})
    classifier = zoo.text.BertClassifier(backbone, num_classes=2)
    ```

    Reference:
        Clark et al., "ELECTRA: Pre-training Text Encoders as Discriminators Rather Than
        Generators", ICLR 2020.
    """

    has_pooler = False

    def __init__(
        self, vocabulary_size: int, num_layers: int, num_heads: int, hidden_dim: int,
        intermediate_dim: int, embedding_dim: int = 128, dropout: float = 0.1,
        max_sequence_length: int = 512, num_segments: int = 2, activation: str = "gelu",
        layer_norm_epsilon: float = 1e-12, **kwargs
    ):  # fmt: skip
        check_encoder_arguments(self.constructor_arguments)
        dtype = self.dtype_policy_from(kwargs)
        inputs = text_inputs(with_segments=True)
        tokens = token_embedding(vocabulary_size, embedding_dim, dtype)(inputs["token_ids"])
        positions = position_embedding(max_sequence_length, dtype)(tokens)
        segments = segment_embedding(num_segments, embedding_dim, dtype)(inputs["segment_ids"])
        x = sum_embeddings([tokens, positions, segments], dropout, layer_norm_epsilon, dtype)
        if embedding_dim != hidden_dim:
            x = embeddings_projection(hidden_dim, dtype)(x)
        x = encoder_stack(x, inputs["padding_mask"], self.constructor_arguments, dtype)
        super().__init__(inputs=inputs, outputs={"sequence_output": x}, dtype=dtype, **kwargs)

    @classmethod
    def count_parameters(cls, **arguments: Any) -> int:
        count = super().count_parameters(**arguments)
        embedding_dim = arguments.get("embedding_dim", 128)
        if embedding_dim == arguments["hidden_dim"]:  # no projection then
            count -= embedding_dim * arguments["hidden_dim"] + arguments["hidden_dim"]
        return count
