"""RoBERTa: BERT's encoder with positions counted from an offset and no segments."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_non_negative_int, check_positive_int
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
class OffsetPositionEmbedding(keras.layers.Layer):
    """Learned positions counted over real tokens only, starting after `padding_index`.

    Real token `k` (0-based, counting only tokens where `padding_mask` is 1) gets position
    `padding_index + 1 + k`; padding tokens get `padding_index`. This is how fairseq and Hugging
    Face number RoBERTa's positions, so the table has `max_sequence_length + padding_index + 1`
    rows.

    Args:
        num_positions: rows of the table.
        output_dim: width of each row.
        padding_index: the position given to padding. Defaults to `1`.
        initializer: initializer of the table. Defaults to a truncated normal (stddev 0.02).
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Call arguments:
        padding_mask: `(batch, length)` integers, 1 for real tokens.

    Example:

    ```python
    positions = OffsetPositionEmbedding(514, 768)(padding_mask)
    ```

    Reference:
        Liu et al., "RoBERTa: A Robustly Optimized BERT Pretraining Approach", 2019.
    """

    def __init__(self, num_positions, output_dim, padding_index=1, initializer=None, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("num_positions", num_positions)
        check_positive_int("output_dim", output_dim)
        check_non_negative_int("padding_index", padding_index)
        self.num_positions = num_positions
        self.output_dim = output_dim
        self.padding_index = padding_index
        self.initializer = keras.initializers.get(initializer or bert_initializer())

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            shape=(self.num_positions, self.output_dim),
            initializer=self.initializer,
            name="embeddings",
        )

    def call(self, padding_mask):
        mask = ops.cast(padding_mask, "int32")
        positions = ops.cumsum(mask, axis=-1) * mask + self.padding_index
        return ops.cast(ops.take(self.embeddings, positions, axis=0), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "num_positions": self.num_positions,
            "output_dim": self.output_dim,
            "padding_index": self.padding_index,
            "initializer": keras.initializers.serialize(self.initializer),
        }


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
        self,
        vocabulary_size: int,
        num_layers: int,
        num_heads: int,
        hidden_dim: int,
        intermediate_dim: int,
        dropout: float = 0.1,
        max_sequence_length: int = 512,
        padding_index: int = 1,
        activation: str = "gelu",
        layer_norm_epsilon: float = 1e-5,
        **kwargs,
    ):
        arguments = dict(locals())  # the constructor arguments, for get_config
        check_encoder_arguments(
            vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim, dropout,
            activation, max_sequence_length, layer_norm_epsilon,
        )  # fmt: skip
        check_non_negative_int("padding_index", padding_index)
        dtype = ClassifierTask.resolve_dtype_policy(kwargs.pop("dtype", None))
        inputs = text_inputs(with_segments=False)
        tokens = keras.layers.ReversibleEmbedding(
            vocabulary_size, hidden_dim, embeddings_initializer=bert_initializer(), dtype=dtype,
            name="token_embedding",
        )(inputs["token_ids"])  # fmt: skip
        positions = OffsetPositionEmbedding(
            max_sequence_length + padding_index + 1, hidden_dim, padding_index, dtype=dtype,
            name="position_embedding",
        )(inputs["padding_mask"])  # fmt: skip
        types = keras.layers.Embedding(
            1, hidden_dim, embeddings_initializer=bert_initializer(), dtype=dtype,
            name="segment_embedding",
        )(ops.zeros_like(inputs["token_ids"]))  # fmt: skip
        x = keras.layers.Add(dtype=dtype, name="embeddings_add")([tokens, positions, types])
        x = normalize_embeddings(x, dropout, layer_norm_epsilon, dtype)
        x = encoder_stack(
            x, inputs["padding_mask"], num_layers, num_heads, intermediate_dim, dropout,
            activation, layer_norm_epsilon, dtype,
        )  # fmt: skip
        outputs = {"sequence_output": x, "pooled_output": pooler(x, hidden_dim, dtype)}
        super().__init__(inputs, outputs, dtype, arguments, **kwargs)


register(
    "roberta_backbone",
    RobertaBackbone,
    description="RoBERTa encoder (base size by default: 12 layers, hidden 768).",
    tiny={
        "vocabulary_size": 50,
        "num_layers": 2,
        "num_heads": 2,
        "hidden_dim": 16,
        "intermediate_dim": 32,
        "max_sequence_length": 16,
    },
    example_inputs=token_inputs,
    vocabulary_size=50265,
    num_layers=12,
    num_heads=12,
    hidden_dim=768,
    intermediate_dim=3072,
)
