"""Import of Hugging Face RoBERTa checkpoints (`model_type="roberta"`) and their BPE vocabulary."""

from __future__ import annotations

import os

from zoo.huggingface import register_converter
from zoo.models import WeightLoader, check_config
from zoo.text.byte_pair import BytePairTokenizer
from zoo.text.huggingface import (
    bert_layer_names,
    check_bert_like,
    encoder_arguments,
    load_embeddings,
    load_encoder_layer,
    register_preprocessor_converter,
    tokenizer_json_model,
    tokenizer_options,
)
from zoo.text.roberta.backbone import RobertaBackbone
from zoo.text.roberta.preprocessor import RobertaPreprocessor


@register_converter("roberta")
def roberta_from_huggingface(config: dict, weights: dict, directory: str) -> RobertaBackbone:
    """Builds a `RobertaBackbone` from a Hugging Face RoBERTa checkpoint and loads its weights.

    Hugging Face's position table counts `pad_token_id + 1` rows before the first real token,
    so `max_sequence_length` is `max_position_embeddings - pad_token_id - 1`. Checkpoints saved
    from a task model (weights prefixed with `roberta.`) load too.

    Example:

    ```python
    backbone = zoo.from_huggingface("checkpoints/roberta-base")
    ```
    """
    check_bert_like(config)
    check_config(config, "type_vocab_size", 1)
    padding_index = config.get("pad_token_id", 1)
    loader = WeightLoader(weights, prefixes=("roberta.",), directory=directory)
    model = RobertaBackbone(
        **encoder_arguments(config),
        max_sequence_length=config["max_position_embeddings"] - padding_index - 1,
        padding_index=padding_index,
    )
    load_embeddings(loader, model)
    for i in range(model.num_layers):
        block = model.get_layer(f"transformer_layer_{i}")
        load_encoder_layer(loader, block, bert_layer_names(f"encoder.layer.{i}"))
    loader.dense(model.get_layer("pooled_dense"), "pooler.dense")
    return model


def byte_pair_tokenizer(directory: str) -> BytePairTokenizer:
    """The checkpoint's `BytePairTokenizer`: `vocab.json` + `merges.txt`, else `tokenizer.json`."""
    add_prefix_space = bool(tokenizer_options(directory).get("add_prefix_space", False))
    paths = [os.path.join(directory, name) for name in ("vocab.json", "merges.txt")]
    if all(os.path.isfile(path) for path in paths):
        vocabulary, merges = paths
    else:
        model = tokenizer_json_model(directory, "roberta", "BPE", "vocab.json + merges.txt")
        vocabulary, merges = model["vocab"], model["merges"]
    return BytePairTokenizer(vocabulary, merges, add_prefix_space=add_prefix_space)


@register_preprocessor_converter("roberta")
def roberta_preprocessor_from_huggingface(
    directory: str, sequence_length: int
) -> RobertaPreprocessor:
    """A `RobertaPreprocessor` over the checkpoint's byte-level BPE vocabulary."""
    return RobertaPreprocessor(byte_pair_tokenizer(directory), sequence_length)
