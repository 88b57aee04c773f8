"""Hugging Face checkpoint import for BERT, RoBERTa, ALBERT and DistilBERT.

Registers converters with `zoo.from_huggingface` for the `model_type`s `"bert"`, `"roberta"`,
`"albert"` and `"distilbert"`. A converter maps `config.json` to the backbone's arguments, builds
the backbone and copies the `model.safetensors` tensors into it (PyTorch's `Linear` stores
`(out, in)`, Keras's `Dense` `(in, out)`). Checkpoints saved from a task model (weights prefixed
with `bert.` and the like) load too; the task head's weights are ignored.

`preprocessor_from_huggingface` builds the matching preprocessor from the same directory's
vocabulary files (`vocab.txt`, `vocab.json` + `merges.txt`, `tokenizer.json`, or ALBERT's
`spiece.model`).
"""

from __future__ import annotations

import json
import os

import keras
import numpy as np

from zoo.huggingface import register_converter
from zoo.text.bert.albert import AlbertBackbone
from zoo.text.bert.bert import BertBackbone
from zoo.text.bert.distilbert import DistilBertBackbone
from zoo.text.bert.roberta import RobertaBackbone
from zoo.text.byte_pair import BytePairTokenizer
from zoo.text.preprocessor import BertPreprocessor, RobertaPreprocessor
from zoo.text.sentencepiece import SentencePieceTokenizer
from zoo.text.tokenizers import WordPieceTokenizer

# Hugging Face `hidden_act` names and the backbones' `activation` names they match.
ACTIVATIONS = {
    "gelu": "gelu",
    "gelu_new": "gelu_approximate",
    "gelu_pytorch_tanh": "gelu_approximate",
    "relu": "relu",
}


def _activation(config: dict, key: str) -> str:
    name = config.get(key, "gelu")
    if name not in ACTIVATIONS:
        raise ValueError(
            f"Unsupported activation {name!r} in config.json ({key}); supported: "
            f"{sorted(ACTIVATIONS)}. Received: {key}={name!r}"
        )
    return ACTIVATIONS[name]


def _require(config: dict, key: str, allowed) -> None:
    value = config.get(key, allowed[0])
    if value not in allowed:
        raise ValueError(
            f"Unsupported configuration {key}={value!r} in config.json; supported: {allowed}. "
            f"Received: {key}={value!r}"
        )


def _strip_prefix(weights: dict, prefix: str) -> dict:
    if any(k.startswith(prefix + ".") for k in weights):
        return {k[len(prefix) + 1 :]: v for k, v in weights.items() if k.startswith(prefix + ".")}
    return weights


class _Weights:
    """Looks tensors up by name and says which name is missing."""

    def __init__(self, weights: dict, directory: str):
        self.weights = weights
        self.directory = directory

    def __call__(self, name: str) -> np.ndarray:
        if name not in self.weights:
            raise ValueError(
                f"model.safetensors in {self.directory!r} has no tensor {name!r}. "
                f"Received: {len(self.weights)} tensors"
            )
        return self.weights[name]


def _set_dense(dense, get, prefix: str) -> None:
    dense.kernel.assign(get(prefix + ".weight").T)
    dense.bias.assign(get(prefix + ".bias"))


def _set_norm(norm, get, prefix: str) -> None:
    norm.gamma.assign(get(prefix + ".weight"))
    norm.beta.assign(get(prefix + ".bias"))


def _set_block(block, get, names: dict) -> None:
    """Copies one transformer layer; `names` maps our parts to the checkpoint's prefixes."""
    attention = block.attention_layer
    heads, head_dim = attention.num_heads, attention.key_dim
    for part, dense in (
        ("query", attention._query_dense),
        ("key", attention._key_dense),
        ("value", attention._value_dense),
    ):
        kernel = get(names[part] + ".weight").T
        dense.kernel.assign(kernel.reshape(-1, heads, head_dim))
        dense.bias.assign(get(names[part] + ".bias").reshape(heads, head_dim))
    output = attention._output_dense
    output.kernel.assign(get(names["attention_output"] + ".weight").T.reshape(heads, head_dim, -1))
    output.bias.assign(get(names["attention_output"] + ".bias"))
    _set_norm(block.attention_norm, get, names["attention_norm"])
    _set_dense(block.intermediate, get, names["intermediate"])
    _set_dense(block.ffn_output, get, names["ffn_output"])
    _set_norm(block.ffn_norm, get, names["ffn_norm"])


def _bert_layer_names(prefix: str) -> dict:
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


def _set_embeddings(model, get, with_segments: bool = True) -> None:
    model.get_layer("token_embedding").embeddings.assign(get("embeddings.word_embeddings.weight"))
    model.get_layer("position_embedding").embeddings.assign(
        get("embeddings.position_embeddings.weight")
    )
    if with_segments:
        model.get_layer("segment_embedding").embeddings.assign(
            get("embeddings.token_type_embeddings.weight")
        )
    _set_norm(model.get_layer("embeddings_layer_norm"), get, "embeddings.LayerNorm")


def _common(config: dict) -> dict:
    return {
        "vocabulary_size": config["vocab_size"],
        "num_layers": config["num_hidden_layers"],
        "num_heads": config["num_attention_heads"],
        "hidden_dim": config["hidden_size"],
        "intermediate_dim": config["intermediate_size"],
        "dropout": config.get("hidden_dropout_prob", 0.1),
        "activation": _activation(config, "hidden_act"),
        "layer_norm_epsilon": config.get("layer_norm_eps", 1e-12),
    }


def _check_bert_like(config: dict) -> None:
    _require(config, "position_embedding_type", ["absolute"])
    if config.get("is_decoder") or config.get("add_cross_attention"):
        raise ValueError(
            "Unsupported configuration: decoder checkpoints (is_decoder/add_cross_attention) "
            f"are not supported. Received: is_decoder={config.get('is_decoder')!r}"
        )


@register_converter("bert")
def bert_from_huggingface(config: dict, weights: dict, directory: str) -> BertBackbone:
    """Builds a `BertBackbone` from a Hugging Face BERT checkpoint."""
    _check_bert_like(config)
    get = _Weights(_strip_prefix(weights, "bert"), directory)
    model = BertBackbone(
        **_common(config),
        max_sequence_length=config["max_position_embeddings"],
        num_segments=config.get("type_vocab_size", 2),
    )
    _set_embeddings(model, get)
    for i in range(model.num_layers):
        block = model.get_layer(f"transformer_layer_{i}")
        _set_block(block, get, _bert_layer_names(f"encoder.layer.{i}"))
    _set_dense(model.get_layer("pooled_dense"), get, "pooler.dense")
    return model


@register_converter("roberta")
def roberta_from_huggingface(config: dict, weights: dict, directory: str) -> RobertaBackbone:
    """Builds a `RobertaBackbone` from a Hugging Face RoBERTa checkpoint."""
    _check_bert_like(config)
    _require(config, "type_vocab_size", [1])
    padding_index = config.get("pad_token_id", 1)
    get = _Weights(_strip_prefix(weights, "roberta"), directory)
    model = RobertaBackbone(
        **_common(config),
        max_sequence_length=config["max_position_embeddings"] - padding_index - 1,
        padding_index=padding_index,
    )
    _set_embeddings(model, get)
    for i in range(model.num_layers):
        block = model.get_layer(f"transformer_layer_{i}")
        _set_block(block, get, _bert_layer_names(f"encoder.layer.{i}"))
    _set_dense(model.get_layer("pooled_dense"), get, "pooler.dense")
    return model


@register_converter("albert")
def albert_from_huggingface(config: dict, weights: dict, directory: str) -> AlbertBackbone:
    """Builds an `AlbertBackbone` from a Hugging Face ALBERT checkpoint (one layer group)."""
    _require(config, "num_hidden_groups", [1])
    _require(config, "inner_group_num", [1])
    _require(config, "position_embedding_type", ["absolute"])
    get = _Weights(_strip_prefix(weights, "albert"), directory)
    model = AlbertBackbone(
        **_common(config),
        embedding_dim=config["embedding_size"],
        max_sequence_length=config["max_position_embeddings"],
        num_segments=config.get("type_vocab_size", 2),
    )
    _set_embeddings(model, get)
    _set_dense(model.get_layer("embeddings_projection"), get, "encoder.embedding_hidden_mapping_in")
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
    _set_block(model.get_layer("shared_transformer_layer"), get, names)
    _set_dense(model.get_layer("pooled_dense"), get, "pooler")
    return model


@register_converter("distilbert")
def distilbert_from_huggingface(config: dict, weights: dict, directory: str) -> DistilBertBackbone:
    """Builds a `DistilBertBackbone` from a Hugging Face DistilBERT checkpoint."""
    if config.get("sinusoidal_pos_embds"):
        raise ValueError(
            "Unsupported configuration: sinusoidal position embeddings. "
            "Received: sinusoidal_pos_embds=True"
        )
    get = _Weights(_strip_prefix(weights, "distilbert"), directory)
    model = DistilBertBackbone(
        vocabulary_size=config["vocab_size"],
        num_layers=config["n_layers"],
        num_heads=config["n_heads"],
        hidden_dim=config["dim"],
        intermediate_dim=config["hidden_dim"],
        dropout=config.get("dropout", 0.1),
        max_sequence_length=config["max_position_embeddings"],
        activation=_activation(config, "activation"),
    )
    _set_embeddings(model, get, with_segments=False)
    for i in range(model.num_layers):
        prefix = f"transformer.layer.{i}"
        names = {
            "query": f"{prefix}.attention.q_lin",
            "key": f"{prefix}.attention.k_lin",
            "value": f"{prefix}.attention.v_lin",
            "attention_output": f"{prefix}.attention.out_lin",
            "attention_norm": f"{prefix}.sa_layer_norm",
            "intermediate": f"{prefix}.ffn.lin1",
            "ffn_output": f"{prefix}.ffn.lin2",
            "ffn_norm": f"{prefix}.output_layer_norm",
        }
        _set_block(model.get_layer(f"transformer_layer_{i}"), get, names)
    return model


def _read_json(directory: str, name: str, required: bool = True) -> dict | None:
    path = os.path.join(directory, name)
    if not os.path.isfile(path):
        if required:
            raise FileNotFoundError(f"No {name} in {directory!r}")
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _tokenizer_json_model(directory: str, model_type: str, wanted: str, files: str) -> dict:
    """The `model` section of `tokenizer.json`, the fallback when the classic files are absent."""
    tokenizer = _read_json(directory, "tokenizer.json", required=False)
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


def _wordpiece_tokenizer(directory: str, model_type: str) -> WordPieceTokenizer:
    options = _read_json(directory, "tokenizer_config.json", required=False) or {}
    lowercase = options.get("do_lower_case", True)  # Hugging Face's default
    vocab_path = os.path.join(directory, "vocab.txt")
    if os.path.isfile(vocab_path):
        vocabulary = vocab_path
    else:
        ids = _tokenizer_json_model(directory, model_type, "WordPiece", "vocab.txt")["vocab"]
        vocabulary = sorted(ids, key=ids.get)
    return WordPieceTokenizer(vocabulary, lowercase=bool(lowercase))


def _byte_pair_tokenizer(directory: str, model_type: str) -> BytePairTokenizer:
    options = _read_json(directory, "tokenizer_config.json", required=False) or {}
    add_prefix_space = bool(options.get("add_prefix_space", False))
    paths = [os.path.join(directory, name) for name in ("vocab.json", "merges.txt")]
    if all(os.path.isfile(path) for path in paths):
        vocabulary, merges = paths
    else:
        model = _tokenizer_json_model(directory, model_type, "BPE", "vocab.json + merges.txt")
        vocabulary, merges = model["vocab"], model["merges"]
    return BytePairTokenizer(vocabulary, merges, add_prefix_space=add_prefix_space)


def _sentencepiece_tokenizer(directory: str) -> SentencePieceTokenizer:
    options = _read_json(directory, "tokenizer_config.json", required=False) or {}
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
    model_type = _read_json(directory, "config.json").get("model_type")
    if model_type in ("bert", "distilbert"):
        return BertPreprocessor(_wordpiece_tokenizer(directory, model_type), sequence_length)
    if model_type == "roberta":
        return RobertaPreprocessor(_byte_pair_tokenizer(directory, model_type), sequence_length)
    if model_type == "albert":
        return BertPreprocessor(_sentencepiece_tokenizer(directory), sequence_length)
    raise ValueError(
        "preprocessor_from_huggingface supports model_type 'bert', 'distilbert', 'roberta' and "
        "'albert'. "
        f"Received: model_type={model_type!r}"
    )
