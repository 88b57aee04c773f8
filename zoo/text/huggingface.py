"""What the text families' Hugging Face converters share, and `preprocessor_from_huggingface`.

Each family's `convert.py` registers a model converter with `zoo.from_huggingface` (its
`model_type`) and a preprocessor converter here; both read the same local checkpoint directory.
The pieces below map `config.json` to encoder arguments and copy the embeddings and encoder
layers with the checked `zoo.models.WeightLoader` (PyTorch's `Linear` stores `(out, in)`,
Keras's `Dense` `(in, out)`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import keras

from zoo.models import WeightLoader, check_config

# Hugging Face `hidden_act` names and the backbones' `activation` names they match.
ACTIVATIONS = {
    "gelu": "gelu",
    "gelu_new": "gelu_approximate",
    "gelu_pytorch_tanh": "gelu_approximate",
    "relu": "relu",
}

PreprocessorConverter = Callable[[str, int], keras.layers.Layer]
_PREPROCESSOR_CONVERTERS: dict[str, PreprocessorConverter] = {}


def activation(config: dict, key: str) -> str:
    """The backbone `activation` for the Hugging Face activation named by `config[key]`."""
    name = config.get(key, "gelu")
    if name not in ACTIVATIONS:
        raise ValueError(
            f"Unsupported activation {name!r} in config.json ({key}); supported: "
            f"{sorted(ACTIVATIONS)}. Received: {key}={name!r}"
        )
    return ACTIVATIONS[name]


def encoder_arguments(config: dict) -> dict:
    """The backbone arguments a BERT-style `config.json` (BERT, RoBERTa, ALBERT) gives."""
    return {
        "vocabulary_size": config["vocab_size"],
        "num_layers": config["num_hidden_layers"],
        "num_heads": config["num_attention_heads"],
        "hidden_dim": config["hidden_size"],
        "intermediate_dim": config["intermediate_size"],
        "dropout": config.get("hidden_dropout_prob", 0.1),
        "activation": activation(config, "hidden_act"),
        "layer_norm_epsilon": config.get("layer_norm_eps", 1e-12),
    }


def check_bert_like(config: dict) -> None:
    """Refuses what BERT and RoBERTa configs may ask for and the backbones do not implement."""
    check_config(config, "position_embedding_type", "absolute")
    if config.get("is_decoder") or config.get("add_cross_attention"):
        raise ValueError(
            "Unsupported configuration: decoder checkpoints (is_decoder/add_cross_attention) "
            f"are not supported. Received: is_decoder={config.get('is_decoder')!r}"
        )


def load_embeddings(loader: WeightLoader, model: keras.Model, with_segments: bool = True) -> None:
    """Copies `embeddings.*` (word, position, token type tables and their layer norm)."""
    loader.embedding(model.get_layer("token_embedding"), "embeddings.word_embeddings.weight")
    loader.embedding(model.get_layer("position_embedding"), "embeddings.position_embeddings.weight")
    if with_segments:
        loader.embedding(
            model.get_layer("segment_embedding"), "embeddings.token_type_embeddings.weight"
        )
    loader.layer_norm(model.get_layer("embeddings_layer_norm"), "embeddings.LayerNorm")


def load_encoder_layer(loader: WeightLoader, block, names: dict) -> None:
    """Copies one transformer layer; `names` maps our parts to the checkpoint's module names.

    The parts: `"query"`, `"key"`, `"value"`, `"attention_output"`, `"attention_norm"`,
    `"intermediate"`, `"ffn_output"` and `"ffn_norm"`.
    """
    attention = block.attention_layer
    loader.attention(
        attention,
        {
            "query": names["query"],
            "key": names["key"],
            "value": names["value"],
            "output": names["attention_output"],
        },
        attention.num_heads,
    )
    loader.layer_norm(block.attention_norm, names["attention_norm"])
    loader.dense(block.intermediate, names["intermediate"])
    loader.dense(block.ffn_output, names["ffn_output"])
    loader.layer_norm(block.ffn_norm, names["ffn_norm"])


def bert_layer_names(prefix: str) -> dict:
    """`load_encoder_layer` names of a `BertLayer` (BERT, RoBERTa) under `prefix`."""
    return {
        "query": f"{prefix}.attention.self.query",
        "key": f"{prefix}.attention.self.key",
        "value": f"{prefix}.attention.self.value",
        "attention_output": f"{prefix}.attention.output.dense",
        "attention_norm": f"{prefix}.attention.output.LayerNorm",
        "intermediate": f"{prefix}.intermediate.dense",
        "ffn_output": f"{prefix}.output.dense",
        "ffn_norm": f"{prefix}.output.LayerNorm",
    }


def read_json(directory: str, name: str, required: bool = True) -> dict | None:
    """`directory/name` parsed, or `None` when it is absent and not `required`."""
    path = os.path.join(directory, name)
    if not os.path.isfile(path):
        if required:
            raise FileNotFoundError(f"No {name} in {directory!r}")
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def tokenizer_options(directory: str) -> dict:
    """`tokenizer_config.json` of the checkpoint, or `{}` without one."""
    return read_json(directory, "tokenizer_config.json", required=False) or {}


def tokenizer_json_model(directory: str, model_type: str, wanted: str, files: str) -> dict:
    """The `model` section of `tokenizer.json`, the fallback when the classic files are absent."""
    tokenizer = read_json(directory, "tokenizer.json", required=False)
    if tokenizer is None:
        raise FileNotFoundError(
            f"No {files} (nor tokenizer.json) in {directory!r}: a {model_type} checkpoint needs "
            "its vocabulary"
        )
    model = tokenizer.get("model") or {}
    if model.get("type") != wanted:
        raise ValueError(
            f"tokenizer.json in {directory!r} holds a {model.get('type')!r} model; a "
            f"{model_type} checkpoint needs {wanted!r}. Received: type={model.get('type')!r}"
        )
    return model


def register_preprocessor_converter(
    model_type: str,
) -> Callable[[PreprocessorConverter], PreprocessorConverter]:
    """Registers `fn(directory, sequence_length) -> preprocessor` for a Hugging Face
    `model_type` (used by `preprocessor_from_huggingface`)."""

    def decorator(fn: PreprocessorConverter) -> PreprocessorConverter:
        if model_type in _PREPROCESSOR_CONVERTERS:
            raise ValueError(
                f"A preprocessor converter for model_type {model_type!r} is already "
                f"registered. Received: model_type={model_type!r}"
            )
        _PREPROCESSOR_CONVERTERS[model_type] = fn
        return fn

    return decorator


def preprocessor_from_huggingface(directory: str, sequence_length: int = 128) -> keras.Layer:
    """Builds the preprocessor matching a local Hugging Face checkpoint from its vocabulary.

    BERT and DistilBERT get a `BertPreprocessor` over a `WordPieceTokenizer` read from
    `vocab.txt` (lower-casing from `tokenizer_config.json`'s `do_lower_case`, default `True`);
    RoBERTa gets a `RobertaPreprocessor` over a `BytePairTokenizer` read from `vocab.json` and
    `merges.txt` (`add_prefix_space` from `tokenizer_config.json`, default `False`). Where those
    files are absent (transformers 5 saves only `tokenizer.json`), the vocabulary comes from
    `tokenizer.json`. ALBERT gets a `BertPreprocessor` (`[CLS] a [SEP] b [SEP]`, padded with
    `<pad>`) over a `SentencePieceTokenizer` read from `spiece.model` (`do_lower_case` and
    `keep_accents` from `tokenizer_config.json`, defaults `True` and `False`).

    Args:
        directory: the checkpoint directory, holding `config.json` and the vocabulary files.
        sequence_length: length of every preprocessed row. Defaults to `128`.

    Returns:
        A `BertPreprocessor` or `RobertaPreprocessor` whose outputs feed the backbone that
        `zoo.from_huggingface(directory)` builds.

    Raises:
        FileNotFoundError: `config.json` or the vocabulary is missing.
        ValueError: the `model_type` is not a supported text model.

    Example:

    ```python
    backbone = zoo.from_huggingface("checkpoints/roberta-base")
    preprocessor = zoo.text.preprocessor_from_huggingface("checkpoints/roberta-base")
    outputs = backbone(preprocessor(tf.constant(["Hello world!"])))
    ```
    """
    model_type = read_json(directory, "config.json").get("model_type")
    if model_type not in _PREPROCESSOR_CONVERTERS:
        raise ValueError(
            "preprocessor_from_huggingface supports model_type "
            f"{', '.join(map(repr, sorted(_PREPROCESSOR_CONVERTERS)))}. "
            f"Received: model_type={model_type!r}"
        )
    return _PREPROCESSOR_CONVERTERS[model_type](directory, sequence_length)
