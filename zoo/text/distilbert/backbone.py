"""DistilBERT: a shallower BERT with no segments and no pooler."""

from __future__ import annotations

import keras

from zoo.text.encoder import (
    TextBackbone,
    check_encoder_arguments,
    encoder_stack,
    position_embedding,
    sum_embeddings,
    text_inputs,
    token_embedding,
)


@keras.saving.register_keras_serializable(package="keras_zoo")
class DistilBertBackbone(TextBackbone):
    """The DistilBERT encoder: token and position embeddings and post-norm layers, no pooler.

    Args:
        vocabulary_size: number of token ids.
        num_layers: number of transformer layers.
        num_heads: attention heads per layer; must divide `hidden_dim`.
        hidden_dim: width of the embeddings and of every layer.
        intermediate_dim: width of the feed-forward hidden layer.
        dropout: dropout rate. Defaults to `0.1`.
        max_sequence_length: number of learned positions. Defaults to `512`.
        activation: `"gelu"`, `"gelu_approximate"` or `"relu"`. Defaults to `"gelu"`.
        layer_norm_epsilon: epsilon of every layer norm. Defaults to `1e-12`.
        **kwargs: `name`, `dtype` and the other `keras.Model` arguments.

    Inputs: `{"token_ids", "padding_mask"}`, int32 `(batch, length)`.
    Outputs: `{"sequence_output"}`; task heads read the first token.

    Example:

    ```python
    backbone = DistilBertBackbone(30522, num_layers=6, num_heads=12, hidden_dim=768,
                                  intermediate_dim=3072)
    ```

    Reference:
        Sanh et al., "DistilBERT, a distilled version of BERT: smaller, faster, cheaper and
        lighter", 2019.
    """

    has_pooler = False

    def __init__(
        self, vocabulary_size: int, num_layers: int, num_heads: int, hidden_dim: int,
        intermediate_dim: int, dropout: float = 0.1, max_sequence_length: int = 512,
        activation: str = "gelu", layer_norm_epsilon: float = 1e-12, **kwargs
    ):  # fmt: skip
        check_encoder_arguments(self.constructor_arguments)
        dtype = self.dtype_policy_from(kwargs)
        inputs = text_inputs(with_segments=False)
        tokens = token_embedding(vocabulary_size, hidden_dim, dtype)(inputs["token_ids"])
        positions = position_embedding(max_sequence_length, dtype)(tokens)
        x = sum_embeddings([tokens, positions], dropout, layer_norm_epsilon, dtype)
        x = encoder_stack(x, inputs["padding_mask"], self.constructor_arguments, dtype)
        super().__init__(inputs=inputs, outputs={"sequence_output": x}, dtype=dtype, **kwargs)
