"""RoBERTa: BERT's encoder with positions counted from an offset and no segments."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from zoo.text.encoder import (
    TextBackbone,
    check_encoder_arguments,
    encoder_stack,
    pooler,
    segment_embedding,
    sum_embeddings,
    text_inputs,
    token_embedding,
)
from zoo.text.roberta.position_embedding import OffsetPositionEmbedding


@keras.saving.register_keras_serializable(package="keras_zoo")
class RobertaBackbone(TextBackbone):
    """The RoBERTa encoder: BERT's layers, offset positions, no segment input.

    Like `BertBackbone`, but positions start at `padding_index + 1` and skip padding (see
    `OffsetPositionEmbedding`), and there is no `segment_ids` input: the single learned "type"
    embedding of the published checkpoints is added to every token.

    Args:
        vocabulary_size: number of token ids.
        num_layers: number of transformer layers.
        num_heads: attention heads per layer; must divide `hidden_dim`.
        hidden_dim: width of the embeddings and of every layer.
        intermediate_dim: width of the feed-forward hidden layer.
        dropout: dropout rate. Defaults to `0.1`.
        max_sequence_length: longest input. Defaults to `512`.
        padding_index: position id given to padding; real tokens start after it. Defaults to `1`.
        activation: `"gelu"`, `"gelu_approximate"` or `"relu"`. Defaults to `"gelu"`.
        layer_norm_epsilon: epsilon of every layer norm. Defaults to `1e-5`.
        **kwargs: `name`, `dtype` and the other `keras.Model` arguments.

    Inputs: `{"token_ids", "padding_mask"}`, int32 `(batch, length)`.
    Outputs: `{"sequence_output", "pooled_output"}`.

    Example:

    ```python
    backbone = RobertaBackbone(50265, num_layers=12, num_heads=12, hidden_dim=768,
                               intermediate_dim=3072)
    ```

    Reference:
        Liu et al., "RoBERTa: A Robustly Optimized BERT Pretraining Approach", 2019.
    """

    def __init__(
        self, vocabulary_size: int, num_layers: int, num_heads: int, hidden_dim: int,
        intermediate_dim: int, dropout: float = 0.1, max_sequence_length: int = 512,
        padding_index: int = 1, activation: str = "gelu", layer_norm_epsilon: float = 1e-5, **kwargs
    ):  # fmt: skip
        check_encoder_arguments(self.constructor_arguments)
        dtype = self.dtype_policy_from(kwargs)
        inputs = text_inputs(with_segments=False)
        tokens = token_embedding(vocabulary_size, hidden_dim, dtype)(inputs["token_ids"])
        positions = OffsetPositionEmbedding(
            max_sequence_length + padding_index + 1,
            hidden_dim,
            padding_index,
            dtype=dtype,
            name="position_embedding",
        )(inputs["padding_mask"])
        types = segment_embedding(1, hidden_dim, dtype)(ops.zeros_like(inputs["token_ids"]))
        x = sum_embeddings([tokens, positions, types], dropout, layer_norm_epsilon, dtype)
        x = encoder_stack(x, inputs["padding_mask"], self.constructor_arguments, dtype)
        outputs = {"sequence_output": x, "pooled_output": pooler(x, hidden_dim, dtype)}
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)

    @classmethod
    def position_rows(cls, arguments: dict[str, Any]) -> int:
        return arguments["max_sequence_length"] + arguments["padding_index"] + 1

    @classmethod
    def segment_rows(cls, arguments: dict[str, Any]) -> int:
        return 1  # one learned "type" row, added to every token
