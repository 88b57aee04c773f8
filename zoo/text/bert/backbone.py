"""BERT: a post-norm transformer encoder with token, position and segment embeddings."""

from __future__ import annotations

import keras

from zoo.text.encoder import (
    TextBackbone,
    check_encoder_arguments,
    encoder_stack,
    pooler,
    position_embedding,
    segment_embedding,
    sum_embeddings,
    text_inputs,
    token_embedding,
)


@keras.saving.register_keras_serializable(package="keras_zoo")
class BertBackbone(TextBackbone):
    """The BERT encoder: embeddings, `num_layers` post-norm transformer layers and a pooler.

    Token, learned position and segment embeddings are summed, layer-normalised and passed
    through the transformer layers; padding tokens are not attended to. The pooler is a tanh
    dense layer on the first (`[CLS]`) token.

    Args:
        vocabulary_size: number of token ids.
        num_layers: number of transformer layers.
        num_heads: attention heads per layer; must divide `hidden_dim`.
        hidden_dim: width of the embeddings and of every layer.
        intermediate_dim: width of the feed-forward hidden layer.
        dropout: dropout rate of embeddings, attention probabilities and sublayer outputs.
            Defaults to `0.1`.
        max_sequence_length: number of learned positions. Defaults to `512`.
        num_segments: number of segment ids. Defaults to `2`.
        activation: feed-forward activation, `"gelu"` (exact), `"gelu_approximate"` (tanh) or
            `"relu"`. Defaults to `"gelu"`.
        layer_norm_epsilon: epsilon of every layer norm. Defaults to `1e-12`.
        **kwargs: `name`, `dtype` (a dtype policy; defaults to the global policy) and the other
            `keras.Model` arguments.

    Inputs: a dict of int32 tensors shaped `(batch, length)`: `"token_ids"`, `"segment_ids"`
    and `"padding_mask"` (1 for real tokens, 0 for padding).

    Outputs: a dict with `"sequence_output"` `(batch, length, hidden_dim)` and
    `"pooled_output"` `(batch, hidden_dim)`.

    Example:

    ```python
    backbone = BertBackbone(vocabulary_size=30522, num_layers=2, num_heads=2, hidden_dim=128,
                            intermediate_dim=512)
    outputs = backbone({"token_ids": ids, "segment_ids": segments, "padding_mask": mask})
    tiny = BertBackbone.from_preset("bert_tiny_en_uncased")  # published size, random weights
    ```

    Reference:
        Devlin et al., "BERT: Pre-training of Deep Bidirectional Transformers for Language
        Understanding", NAACL 2019.
    """

    def __init__(
        self, vocabulary_size: int, num_layers: int, num_heads: int, hidden_dim: int,
        intermediate_dim: int, dropout: float = 0.1, max_sequence_length: int = 512,
        num_segments: int = 2, activation: str = "gelu", layer_norm_epsilon: float = 1e-12, **kwargs
    ):  # fmt: skip
        check_encoder_arguments(self.constructor_arguments)
        dtype = self.dtype_policy_from(kwargs)
        inputs = text_inputs(with_segments=True)
        tokens = token_embedding(vocabulary_size, hidden_dim, dtype)(inputs["token_ids"])
        positions = position_embedding(max_sequence_length, dtype)(tokens)
        segments = segment_embedding(num_segments, hidden_dim, dtype)(inputs["segment_ids"])
        x = sum_embeddings([tokens, positions, segments], dropout, layer_norm_epsilon, dtype)
        x = encoder_stack(x, inputs["padding_mask"], self.constructor_arguments, dtype)
        outputs = {"sequence_output": x, "pooled_output": pooler(x, hidden_dim, dtype)}
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)
