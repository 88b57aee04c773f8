"""The encoder shared by BERT, RoBERTa, ALBERT and DistilBERT.

The four architectures differ only in how they embed tokens (segments or not, a position offset,
factorised embeddings), whether their layers share weights and whether they have a pooler. The
functions here build those parts; each variant's file wires them into a `TextBackbone`.
"""

from __future__ import annotations

import inspect

import keras
from keras import ops

from layers.attention import TransformerEncoderBlock
from layers.validation import check_positive_float, check_positive_int, check_rate


@keras.saving.register_keras_serializable(package="keras_zoo")
def gelu_approximate(x):
    """GELU with the tanh approximation (Hugging Face's `gelu_new`, used by ALBERT)."""
    return keras.activations.gelu(x, approximate=True)


ACTIVATIONS = ("gelu", "gelu_approximate", "relu")


def bert_initializer() -> keras.initializers.Initializer:
    """BERT's initializer: a truncated normal with standard deviation 0.02."""
    return keras.initializers.TruncatedNormal(stddev=0.02)


def check_encoder_arguments(
    vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim, dropout, activation,
    max_sequence_length, layer_norm_epsilon,
) -> None:  # fmt: skip
    for name, value in (
        ("vocabulary_size", vocabulary_size),
        ("num_layers", num_layers),
        ("num_heads", num_heads),
        ("hidden_dim", hidden_dim),
        ("intermediate_dim", intermediate_dim),
        ("max_sequence_length", max_sequence_length),
    ):
        check_positive_int(name, value)
    if hidden_dim % num_heads:
        raise ValueError(
            f"`hidden_dim` must be divisible by `num_heads={num_heads}`. "
            f"Received: hidden_dim={hidden_dim}"
        )
    check_rate("dropout", dropout)
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"`activation` must be one of {ACTIVATIONS}. Received: activation={activation!r}"
        )
    check_positive_float("layer_norm_epsilon", layer_norm_epsilon)


def text_inputs(with_segments: bool) -> dict[str, keras.KerasTensor]:
    """Symbolic `token_ids`, `padding_mask` (and `segment_ids`), int32 shaped `(batch, length)`."""
    names = ("token_ids", "segment_ids", "padding_mask") if with_segments else (
        "token_ids", "padding_mask"
    )  # fmt: skip
    return {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in names}


def encoder_block(
    num_heads, intermediate_dim, dropout, activation, layer_norm_epsilon, dtype, name
) -> TransformerEncoderBlock:
    """One post-norm transformer layer, as in BERT (Devlin et al. 2019).

    BERT drops out the attention probabilities and each sublayer's output, not the
    feed-forward hidden layer (Hugging Face's `BertIntermediate` has no dropout).
    """
    return TransformerEncoderBlock(
        num_heads=num_heads,
        intermediate_dim=intermediate_dim,
        dropout=dropout,
        norm_first=False,
        activation=gelu_approximate if activation == "gelu_approximate" else activation,
        layer_norm_epsilon=layer_norm_epsilon,
        kernel_initializer=bert_initializer(),
        intermediate_dropout=False,
        dtype=dtype,
        name=name,
    )


def encoder_stack(
    x,
    padding_mask,
    num_layers,
    num_heads,
    intermediate_dim,
    dropout,
    activation,
    layer_norm_epsilon,
    dtype,
):
    """`num_layers` independent post-norm encoder layers applied in turn (BERT, RoBERTa,
    DistilBERT; ALBERT shares one layer instead)."""
    for i in range(num_layers):
        block = encoder_block(
            num_heads,
            intermediate_dim,
            dropout,
            activation,
            layer_norm_epsilon,
            dtype,
            name=f"transformer_layer_{i}",
        )
        x = block(x, padding_mask=padding_mask)
    return x  # fmt: skip


def normalize_embeddings(x, dropout, layer_norm_epsilon, dtype):
    x = keras.layers.LayerNormalization(
        epsilon=layer_norm_epsilon, dtype=dtype, name="embeddings_layer_norm"
    )(x)
    return keras.layers.Dropout(dropout, dtype=dtype, name="embeddings_dropout")(x)


def pooler(sequence_output, hidden_dim, dtype):
    """BERT's pooler: a tanh dense layer on the first (`[CLS]`) token."""
    first = sequence_output[:, 0, :]
    return keras.layers.Dense(
        hidden_dim,
        activation="tanh",
        kernel_initializer=bert_initializer(),
        dtype=dtype,
        name="pooled_dense",
    )(first)


def zeros_like_ids(token_ids):
    return ops.zeros_like(token_ids)


class TextBackbone(keras.Model):
    """Base of the text backbones: a functional model whose config is its constructor arguments.

    Subclasses take `arguments = dict(locals())` first in `__init__`, build their graph, then
    call `super().__init__(inputs, outputs, dtype, arguments, **kwargs)`: every named argument of
    the subclass's constructor becomes an attribute and part of `get_config`.
    """

    def __init__(self, inputs, outputs, dtype, arguments: dict, **kwargs):
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.dtype_policy = dtype  # Functional ignores a `dtype` argument
        for name in self._argument_names():
            setattr(self, name, arguments[name])

    @classmethod
    def _argument_names(cls) -> list[str]:
        parameters = inspect.signature(cls.__init__).parameters.values()
        return [
            p.name for p in parameters if p.name != "self" and p.kind is p.POSITIONAL_OR_KEYWORD
        ]

    @property
    def token_embedding(self) -> keras.layers.Embedding:
        """The token embedding table (tied to the masked-LM head)."""
        return self.get_layer("token_embedding")

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            **{name: getattr(self, name) for name in self._argument_names()},
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
