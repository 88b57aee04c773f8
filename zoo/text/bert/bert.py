"""BERT: a post-norm transformer encoder with token, position and segment embeddings."""

from __future__ import annotations

import keras

from layers.embedding import PositionEmbedding
from layers.validation import check_positive_int
from zoo.registry import register
from zoo.task import ClassifierTask
from zoo.text.bert.backbone import (
    TextBackbone,
    bert_initializer,
    check_encoder_arguments,
    encoder_stack,
    normalize_embeddings,
    pooler,
    text_inputs,
)
from zoo.text.bert.examples import token_inputs


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
    ```

    Reference:
        Devlin et al., "BERT: Pre-training of Deep Bidirectional Transformers for Language
        Understanding", NAACL 2019.
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
        num_segments: int = 2,
        activation: str = "gelu",
        layer_norm_epsilon: float = 1e-12,
        **kwargs,
    ):
        arguments = dict(locals())  # the constructor arguments, for get_config
        check_encoder_arguments(
            vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim, dropout,
            activation, max_sequence_length, layer_norm_epsilon,
        )  # fmt: skip
        check_positive_int("num_segments", num_segments)
        dtype = ClassifierTask.resolve_dtype_policy(kwargs.pop("dtype", None))
        inputs = text_inputs(with_segments=True)
        tokens = keras.layers.ReversibleEmbedding(
            vocabulary_size,
            hidden_dim,
            embeddings_initializer=bert_initializer(),
            dtype=dtype,
            name="token_embedding",
        )(inputs["token_ids"])
        positions = PositionEmbedding(
            max_sequence_length, initializer=bert_initializer(), dtype=dtype,
            name="position_embedding",
        )(tokens)  # fmt: skip
        segments = keras.layers.Embedding(
            num_segments,
            hidden_dim,
            embeddings_initializer=bert_initializer(),
            dtype=dtype,
            name="segment_embedding",
        )(inputs["segment_ids"])
        x = keras.layers.Add(dtype=dtype, name="embeddings_add")([tokens, positions, segments])
        x = normalize_embeddings(x, dropout, layer_norm_epsilon, dtype)
        x = encoder_stack(
            x, inputs["padding_mask"], num_layers, num_heads, intermediate_dim, dropout,
            activation, layer_norm_epsilon, dtype,
        )  # fmt: skip
        outputs = {"sequence_output": x, "pooled_output": pooler(x, hidden_dim, dtype)}
        super().__init__(inputs, outputs, dtype, arguments, **kwargs)


TINY = {
    "vocabulary_size": 50,
    "num_layers": 2,
    "num_heads": 2,
    "hidden_dim": 16,
    "intermediate_dim": 32,
    "max_sequence_length": 16,
}

register(
    "bert_backbone",
    BertBackbone,
    description="BERT encoder (base size by default: 12 layers, hidden 768).",
    tiny=TINY,
    example_inputs=token_inputs,
    vocabulary_size=30522,
    num_layers=12,
    num_heads=12,
    hidden_dim=768,
    intermediate_dim=3072,
)
