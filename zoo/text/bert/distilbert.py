"""DistilBERT: a shallower BERT with no segments and no pooler."""

from __future__ import annotations

import keras

from layers.embedding import PositionEmbedding
from zoo.registry import register
from zoo.task import ClassifierTask
from zoo.text.bert.backbone import (
    TextBackbone,
    bert_initializer,
    check_encoder_arguments,
    encoder_stack,
    normalize_embeddings,
    text_inputs,
)
from zoo.text.bert.examples import token_inputs


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

    def __init__(
        self,
        vocabulary_size: int,
        num_layers: int,
        num_heads: int,
        hidden_dim: int,
        intermediate_dim: int,
        dropout: float = 0.1,
        max_sequence_length: int = 512,
        activation: str = "gelu",
        layer_norm_epsilon: float = 1e-12,
        **kwargs,
    ):
        arguments = dict(locals())  # the constructor arguments, for get_config
        check_encoder_arguments(
            vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim, dropout,
            activation, max_sequence_length, layer_norm_epsilon,
        )  # fmt: skip
        dtype = ClassifierTask.resolve_dtype_policy(kwargs.pop("dtype", None))
        inputs = text_inputs(with_segments=False)
        tokens = keras.layers.ReversibleEmbedding(
            vocabulary_size, hidden_dim, embeddings_initializer=bert_initializer(), dtype=dtype,
            name="token_embedding",
        )(inputs["token_ids"])  # fmt: skip
        positions = PositionEmbedding(
            max_sequence_length, initializer=bert_initializer(), dtype=dtype,
            name="position_embedding",
        )(tokens)  # fmt: skip
        x = keras.layers.Add(dtype=dtype, name="embeddings_add")([tokens, positions])
        x = normalize_embeddings(x, dropout, layer_norm_epsilon, dtype)
        x = encoder_stack(
            x, inputs["padding_mask"], num_layers, num_heads, intermediate_dim, dropout,
            activation, layer_norm_epsilon, dtype,
        )  # fmt: skip
        super().__init__(inputs, {"sequence_output": x}, dtype, arguments, **kwargs)


register(
    "distilbert_backbone",
    DistilBertBackbone,
    description="DistilBERT encoder (base size by default: 6 layers, hidden 768).",
    tiny={
        "vocabulary_size": 50,
        "num_layers": 2,
        "num_heads": 2,
        "hidden_dim": 16,
        "intermediate_dim": 32,
        "max_sequence_length": 16,
    },
    example_inputs=token_inputs,
    vocabulary_size=30522,
    num_layers=6,
    num_heads=12,
    hidden_dim=768,
    intermediate_dim=3072,
)
