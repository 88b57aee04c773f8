"""Import of Hugging Face DistilBERT checkpoints (`model_type="distilbert"`)."""

from __future__ import annotations

from zoo.huggingface import register_converter
from zoo.models import WeightLoader, check_config
from zoo.text.bert.convert import wordpiece_tokenizer
from zoo.text.bert.preprocessor import BertPreprocessor
from zoo.text.distilbert.backbone import DistilBertBackbone
from zoo.text.huggingface import (
    activation,
    load_embeddings,
    load_encoder_layer,
    register_preprocessor_converter,
)


@register_converter("distilbert")
def distilbert_from_huggingface(config: dict, weights: dict, directory: str) -> DistilBertBackbone:
    """Builds a `DistilBertBackbone` from a Hugging Face DistilBERT checkpoint.

    DistilBERT's config names its sizes differently (`n_layers`, `n_heads`, `dim`, and
    `hidden_dim` for the feed-forward width) and has learned positions only (no
    `sinusoidal_pos_embds`). Task checkpoints (weights prefixed with `distilbert.`) load too.

    Example:

    ```python
    backbone = zoo.from_huggingface("checkpoints/distilbert-base-uncased")
    ```
    """
    check_config(config, "sinusoidal_pos_embds", False)
    loader = WeightLoader(weights, prefixes=("distilbert.",), directory=directory)
    model = DistilBertBackbone(
        vocabulary_size=config["vocab_size"],
        num_layers=config["n_layers"],
        num_heads=config["n_heads"],
        hidden_dim=config["dim"],
        intermediate_dim=config["hidden_dim"],
        dropout=config.get("dropout", 0.1),
        max_sequence_length=config["max_position_embeddings"],
        activation=activation(config, "activation"),
    )
    load_embeddings(loader, model, with_segments=False)
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
        load_encoder_layer(loader, model.get_layer(f"transformer_layer_{i}"), names)
    return model


@register_preprocessor_converter("distilbert")
def distilbert_preprocessor_from_huggingface(
    directory: str, sequence_length: int
) -> BertPreprocessor:
    """A `BertPreprocessor` over the checkpoint's WordPiece vocabulary (BERT's)."""
    return BertPreprocessor(wordpiece_tokenizer(directory, "distilbert"), sequence_length)
