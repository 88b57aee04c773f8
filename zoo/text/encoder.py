"""The encoder that BERT, RoBERTa, ALBERT and DistilBERT share, and their base `TextBackbone`.

The four architectures differ only in how they embed tokens (segments or not, a position offset,
factorised embeddings), whether their layers share weights and whether they have a pooler. The
functions here build those parts; each family's `backbone.py` wires them into a `TextBackbone`.
"""

from __future__ import annotations

import inspect
from typing import Any

import keras

from layers.attention import TransformerEncoderBlock
from layers.embedding import PositionEmbedding
from layers.validation import (
    check_choice,
    check_non_negative_int,
    check_positive_float,
    check_positive_int,
    check_rate,
)
from zoo.models import Backbone


@keras.saving.register_keras_serializable(package="keras_zoo")
def gelu_approximate(x):
    """GELU with the tanh approximation (Hugging Face's `gelu_new`, used by ALBERT)."""
    return keras.activations.gelu(x, approximate=True)


ACTIVATIONS = ("gelu", "gelu_approximate", "relu")


def activation_function(name: str):
    """The callable or Keras name of an encoder `activation` (one of `ACTIVATIONS`)."""
    return gelu_approximate if name == "gelu_approximate" else name


def bert_initializer() -> keras.initializers.Initializer:
    """BERT's initializer: a truncated normal with standard deviation 0.02."""
    return keras.initializers.TruncatedNormal(stddev=0.02)


def check_encoder_arguments(arguments: dict[str, Any]) -> None:
    """Checks a text encoder's `constructor_arguments`: the ones every family takes, and
    `num_segments`, `embedding_dim` (positive) and `padding_index` (non-negative) where given."""
    for name in (
        "vocabulary_size",
        "num_layers",
        "num_heads",
        "hidden_dim",
        "intermediate_dim",
        "max_sequence_length",
    ):
        check_positive_int(name, arguments[name])
    hidden_dim, num_heads = arguments["hidden_dim"], arguments["num_heads"]
    if hidden_dim % num_heads:
        raise ValueError(
            f"`hidden_dim` must be divisible by `num_heads={num_heads}`. "
            f"Received: hidden_dim={hidden_dim}"
        )
    check_rate("dropout", arguments["dropout"])
    check_choice("activation", arguments["activation"], ACTIVATIONS)
    check_positive_float("layer_norm_epsilon", arguments["layer_norm_epsilon"])
    for name in ("num_segments", "embedding_dim"):
        if name in arguments:
            check_positive_int(name, arguments[name])
    if "padding_index" in arguments:
        check_non_negative_int("padding_index", arguments["padding_index"])


def text_inputs(with_segments: bool) -> dict[str, keras.KerasTensor]:
    """Symbolic `token_ids`, `padding_mask` (and `segment_ids`), int32 shaped `(batch, length)`."""
    names = ["token_ids", "segment_ids", "padding_mask"]
    if not with_segments:
        names.remove("segment_ids")
    return {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in names}


def token_embedding(vocabulary_size: int, width: int, dtype) -> keras.layers.ReversibleEmbedding:
    """The token table, reversible so that the masked-LM head can score with its transpose."""
    return keras.layers.ReversibleEmbedding(
        vocabulary_size,
        width,
        embeddings_initializer=bert_initializer(),
        dtype=dtype,
        name="token_embedding",
    )


def position_embedding(max_sequence_length: int, dtype) -> PositionEmbedding:
    """Learned absolute positions 0, 1, ... (BERT, ALBERT, DistilBERT)."""
    return PositionEmbedding(
        max_sequence_length,
        initializer=bert_initializer(),
        dtype=dtype,
        name="position_embedding",
    )


def segment_embedding(num_segments: int, width: int, dtype) -> keras.layers.Embedding:
    """The segment ("token type") table."""
    return keras.layers.Embedding(
        num_segments,
        width,
        embeddings_initializer=bert_initializer(),
        dtype=dtype,
        name="segment_embedding",
    )


def sum_embeddings(embeddings: list, dropout: float, layer_norm_epsilon: float, dtype):
    """Adds the token, position (and segment) embeddings, then a layer norm and dropout."""
    x = keras.layers.Add(dtype=dtype, name="embeddings_add")(embeddings)
    x = keras.layers.LayerNormalization(
        epsilon=layer_norm_epsilon, dtype=dtype, name="embeddings_layer_norm"
    )(x)
    return keras.layers.Dropout(dropout, dtype=dtype, name="embeddings_dropout")(x)


def encoder_block(arguments: dict[str, Any], dtype, name: str) -> TransformerEncoderBlock:
    """One post-norm transformer layer, as in BERT (Devlin et al. 2019), configured by a text
    backbone's `arguments` (`num_heads`, `intermediate_dim`, `dropout`, `activation`,
    `layer_norm_epsilon`).

    BERT drops out the attention probabilities and each sublayer's output, not the
    feed-forward hidden layer (Hugging Face's `BertIntermediate` has no dropout).
    """
    return TransformerEncoderBlock(
        num_heads=arguments["num_heads"],
        intermediate_dim=arguments["intermediate_dim"],
        dropout=arguments["dropout"],
        norm_first=False,
        activation=activation_function(arguments["activation"]),
        layer_norm_epsilon=arguments["layer_norm_epsilon"],
        kernel_initializer=bert_initializer(),
        intermediate_dropout=False,
        dtype=dtype,
        name=name,
    )


def encoder_stack(x, padding_mask, arguments: dict[str, Any], dtype):
    """`arguments["num_layers"]` independent encoder layers applied in turn (BERT, RoBERTa,
    DistilBERT; ALBERT shares one layer instead), configured as `encoder_block` says."""
    for i in range(arguments["num_layers"]):
        block = encoder_block(arguments, dtype, name=f"transformer_layer_{i}")
        x = block(x, padding_mask=padding_mask)
    return x


def pooler(sequence_output, hidden_dim: int, dtype):
    """BERT's pooler: a tanh dense layer on the first (`[CLS]`) token."""
    first = sequence_output[:, 0, :]
    return keras.layers.Dense(
        hidden_dim,
        activation="tanh",
        kernel_initializer=bert_initializer(),
        dtype=dtype,
        name="pooled_dense",
    )(first)


class TextBackbone(Backbone):
    """Base of the text encoders: token ids in, `{"sequence_output"[, "pooled_output"]}` out.

    Subclasses are `zoo.models.Backbone`s built from the functions of this module; they take
    at least `vocabulary_size`, `num_layers`, `num_heads`, `hidden_dim`, `intermediate_dim`,
    `dropout`, `max_sequence_length`, `activation` and `layer_norm_epsilon`, in that order with
    the family's own arguments among them. They check and configure their encoder layers from
    `self.constructor_arguments` (recorded by the base before `__init__` runs):
    `check_encoder_arguments` and `encoder_stack`/`encoder_block` take them whole. The class
    attributes `has_pooler` and `shares_layers` and the hooks `position_rows`/`segment_rows`
    describe the architecture for `count_parameters`.

    Example:

    ```python
    backbone = TextBackbone.from_preset("bert_tiny_en_uncased")  # any family's preset
    BertBackbone.count_parameters(vocabulary_size=30522, num_layers=2, num_heads=2,
                                  hidden_dim=128, intermediate_dim=512)  # 4385920
    ```
    """

    has_pooler: bool = True
    shares_layers: bool = False

    @property
    def token_embedding(self) -> keras.layers.Embedding:
        """The token embedding table (tied to the masked-LM head)."""
        return self.get_layer("token_embedding")

    @classmethod
    def count_parameters(cls, **arguments: Any) -> int:
        """The number of weights of `cls(**arguments)`, computed without building it."""
        defaults = {
            p.name: p.default
            for p in inspect.signature(cls.__init__).parameters.values()
            if p.default is not inspect.Parameter.empty
        }
        a = {**defaults, **arguments}
        hidden, inner = a["hidden_dim"], a["intermediate_dim"]
        width = a.get("embedding_dim", hidden)
        rows = a["vocabulary_size"] + cls.position_rows(a) + cls.segment_rows(a)
        embeddings = rows * width + 2 * width  # the tables and their layer norm
        projection = width * hidden + hidden if "embedding_dim" in a else 0
        layer = 4 * (hidden * hidden + hidden) + 2 * hidden * inner + inner + hidden + 4 * hidden
        layers = layer if cls.shares_layers else a["num_layers"] * layer
        pooled = hidden * hidden + hidden if cls.has_pooler else 0
        return embeddings + projection + layers + pooled

    @classmethod
    def position_rows(cls, arguments: dict[str, Any]) -> int:
        """Rows of the position table for these constructor arguments."""
        return arguments["max_sequence_length"]

    @classmethod
    def segment_rows(cls, arguments: dict[str, Any]) -> int:
        """Rows of the segment table for these constructor arguments (0 without one)."""
        return arguments.get("num_segments", 0)


def check_text_backbone(backbone) -> TextBackbone:
    """Rejects a task's `backbone` that is not a text encoder."""
    if not isinstance(backbone, TextBackbone):
        raise TypeError(
            "`backbone` must be a zoo.text backbone (BertBackbone, RobertaBackbone, "
            f"AlbertBackbone, DistilBertBackbone, ElectraBackbone). Received: backbone={backbone!r}"
        )
    return backbone
