"""Import of Hugging Face ALBERT checkpoints (`model_type="albert"`) and their SentencePiece
vocabulary."""

from __future__ import annotations

import os

from zoo.huggingface import register_converter
from zoo.models import WeightLoader, check_config
from zoo.text.albert.backbone import AlbertBackbone
from zoo.text.bert.preprocessor import BertPreprocessor
from zoo.text.huggingface import (
    encoder_arguments,
    load_embeddings,
    load_encoder_layer,
    register_preprocessor_converter,
    tokenizer_options,
)
from zoo.text.sentencepiece import SentencePieceTokenizer


@register_converter("albert")
def albert_from_huggingface(config: dict, weights: dict, directory: str) -> AlbertBackbone:
    """Builds an `AlbertBackbone` from a Hugging Face ALBERT checkpoint (one layer group).

    The published checkpoints have one group of one layer (`num_hidden_groups=1`,
    `inner_group_num=1`), which becomes the backbone's `shared_transformer_layer`; the
    `embedding_hidden_mapping_in` projection becomes `embeddings_projection`. Checkpoints
    saved from a task model (weights prefixed with `albert.`) load too.

    Example:

    ```python
    backbone = zoo.from_huggingface("checkpoints/albert-base-v2")
    ```
    """
    check_config(config, "num_hidden_groups", 1)
    check_config(config, "inner_group_num", 1)
    check_config(config, "position_embedding_type", "absolute")
    loader = WeightLoader(weights, prefixes=("albert.",), directory=directory)
    model = AlbertBackbone(
        **encoder_arguments(config),
        embedding_dim=config["embedding_size"],
        max_sequence_length=config["max_position_embeddings"],
        num_segments=config.get("type_vocab_size", 2),
    )
    load_embeddings(loader, model)
    loader.dense(model.get_layer("embeddings_projection"), "encoder.embedding_hidden_mapping_in")
    prefix = "encoder.albert_layer_groups.0.albert_layers.0"
    names = {
        "query": f"{prefix}.attention.query",
        "key": f"{prefix}.attention.key",
        "value": f"{prefix}.attention.value",
        "attention_output": f"{prefix}.attention.dense",
        "attention_norm": f"{prefix}.attention.LayerNorm",
        "intermediate": f"{prefix}.ffn",
        "ffn_output": f"{prefix}.ffn_output",
        "ffn_norm": f"{prefix}.full_layer_layer_norm",
    }
    load_encoder_layer(loader, model.get_layer("shared_transformer_layer"), names)
    loader.dense(model.get_layer("pooled_dense"), "pooler")
    return model


def sentencepiece_tokenizer(directory: str) -> SentencePieceTokenizer:
    """The checkpoint's `SentencePieceTokenizer`, read from `spiece.model`."""
    options = tokenizer_options(directory)
    path = os.path.join(directory, "spiece.model")
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"No spiece.model in {directory!r}: an albert checkpoint needs its SentencePiece "
            "vocabulary"
        )
    return SentencePieceTokenizer(
        path,
        lowercase=bool(options.get("do_lower_case", True)),  # AlbertTokenizer's defaults
        keep_accents=bool(options.get("keep_accents", False)),
    )


@register_preprocessor_converter("albert")
def albert_preprocessor_from_huggingface(directory: str, sequence_length: int) -> BertPreprocessor:
    """A `BertPreprocessor` (`[CLS] a [SEP] b [SEP]`, `<pad>`) over the SentencePiece model."""
    return BertPreprocessor(sentencepiece_tokenizer(directory), sequence_length)
