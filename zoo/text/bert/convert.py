"""Import of Hugging Face BERT checkpoints (`model_type="bert"`) and their WordPiece vocabulary."""

from __future__ import annotations

import os

from zoo.huggingface import register_converter
from zoo.models import WeightLoader
from zoo.text.bert.backbone import BertBackbone
from zoo.text.bert.preprocessor import BertPreprocessor
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
from zoo.text.tokenizers import WordPieceTokenizer


@register_converter("bert")
def bert_from_huggingface(config: dict, weights: dict, directory: str) -> BertBackbone:
    """Builds a `BertBackbone` from a Hugging Face BERT checkpoint and loads its weights.

    Checkpoints saved from a task model (weights prefixed with `bert.`) load too; the task
    head's weights are ignored.

    Example:

    ```python
    backbone = zoo.from_huggingface("checkpoints/bert-base-uncased")
    ```
    """
    check_bert_like(config)
    loader = WeightLoader(weights, prefixes=("bert.",), directory=directory)
    model = BertBackbone(
        **encoder_arguments(config),
        max_sequence_length=config["max_position_embeddings"],
        num_segments=config.get("type_vocab_size", 2),
    )
    load_embeddings(loader, model)
    for i in range(model.num_layers):
        block = model.get_layer(f"transformer_layer_{i}")
        load_encoder_layer(loader, block, bert_layer_names(f"encoder.layer.{i}"))
    loader.dense(model.get_layer("pooled_dense"), "pooler.dense")
    return model


def wordpiece_tokenizer(directory: str, model_type: str) -> WordPieceTokenizer:
    """The checkpoint's `WordPieceTokenizer`: `vocab.txt`, else `tokenizer.json`'s vocabulary."""
    lowercase = tokenizer_options(directory).get("do_lower_case", True)  # Hugging Face's default
    vocab_path = os.path.join(directory, "vocab.txt")
    if os.path.isfile(vocab_path):
        vocabulary = vocab_path
    else:
        ids = tokenizer_json_model(directory, model_type, "WordPiece", "vocab.txt")["vocab"]
        vocabulary = sorted(ids, key=ids.get)
    return WordPieceTokenizer(vocabulary, lowercase=bool(lowercase))


@register_preprocessor_converter("bert")
def bert_preprocessor_from_huggingface(directory: str, sequence_length: int) -> BertPreprocessor:
    """A `BertPreprocessor` over the checkpoint's WordPiece vocabulary."""
    return BertPreprocessor(wordpiece_tokenizer(directory, "bert"), sequence_length)
