"""Named configurations of the published BERT, RoBERTa, ALBERT and DistilBERT sizes.

`PRESETS` maps a name to the backbone class and its arguments; `backbone_from_preset` builds one
(with random weights: load published weights with `zoo.from_huggingface`), and
`parameter_count` computes a preset's size from its configuration without building it.
"""

from __future__ import annotations

from typing import Any

from zoo.text.bert.albert import AlbertBackbone
from zoo.text.bert.backbone import TextBackbone
from zoo.text.bert.bert import BertBackbone
from zoo.text.bert.distilbert import DistilBertBackbone
from zoo.text.bert.roberta import RobertaBackbone


def _bert(layers: int, hidden: int) -> dict[str, Any]:
    # Turc et al. 2019 ("Well-Read Students Learn Better"): heads = hidden / 64, FFN = 4 x hidden.
    return {
        "vocabulary_size": 30522,
        "num_layers": layers,
        "num_heads": hidden // 64,
        "hidden_dim": hidden,
        "intermediate_dim": 4 * hidden,
    }


PRESETS: dict[str, tuple[type[TextBackbone], dict[str, Any]]] = {
    "bert_tiny_en_uncased": (BertBackbone, _bert(2, 128)),
    "bert_mini_en_uncased": (BertBackbone, _bert(4, 256)),
    "bert_small_en_uncased": (BertBackbone, _bert(4, 512)),
    "bert_base_en_uncased": (BertBackbone, _bert(12, 768)),
    "roberta_base_en": (RobertaBackbone, {**_bert(12, 768), "vocabulary_size": 50265}),
    "albert_base_en_uncased": (
        AlbertBackbone,
        {**_bert(12, 768), "vocabulary_size": 30000, "embedding_dim": 128},
    ),
    "distilbert_base_en_uncased": (DistilBertBackbone, _bert(6, 768)),
}


def _check_name(name: str) -> None:
    if name not in PRESETS:
        raise ValueError(
            f"Unknown preset {name!r}; known: {sorted(PRESETS)}. Received: name={name!r}"
        )


def backbone_from_preset(name: str, **overrides: Any) -> TextBackbone:
    """Builds the backbone of preset `name` (random weights), with `overrides` applied.

    Example:

    ```python
    backbone = backbone_from_preset("bert_tiny_en_uncased", dropout=0.0)
    ```
    """
    _check_name(name)
    cls, arguments = PRESETS[name]
    return cls(**{**arguments, **overrides})


def parameter_count(name: str, **overrides: Any) -> int:
    """The number of weights of preset `name`'s backbone, computed from its configuration."""
    _check_name(name)
    cls, arguments = PRESETS[name]
    return count_backbone_parameters(cls, **{**arguments, **overrides})


def count_backbone_parameters(cls: type[TextBackbone], **arguments: Any) -> int:
    """Weights of a backbone of class `cls` built with `arguments`, counted without building it."""
    defaults = {"max_sequence_length": 512, "num_segments": 2, "padding_index": 1}
    a = {**defaults, **arguments}
    hidden, inner = a["hidden_dim"], a["intermediate_dim"]
    width = a.get("embedding_dim", 128) if cls is AlbertBackbone else hidden
    positions = a["max_sequence_length"]
    segments = a["num_segments"]
    if cls is RobertaBackbone:
        positions += a["padding_index"] + 1
        segments = 1
    elif cls is DistilBertBackbone:
        segments = 0
    embeddings = (a["vocabulary_size"] + positions + segments) * width + 2 * width
    layer = 4 * (hidden * hidden + hidden) + 2 * hidden * inner + inner + hidden + 4 * hidden
    layers = layer if cls is AlbertBackbone else a["num_layers"] * layer
    projection = width * hidden + hidden if cls is AlbertBackbone else 0
    pooler = 0 if cls is DistilBertBackbone else hidden * hidden + hidden
    return embeddings + projection + layers + pooler
