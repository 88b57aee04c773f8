"""What the text families' `presets.py` share: BERT's size rule, the tiny configuration the tests
build, the search space of the encoder tasks, and the registration of a backbone preset.

Presets are registry entries (`zoo.list_models(task="backbone", family="bert")`); build one with
`BertBackbone.from_preset(name)` (any family: `TextBackbone.from_preset`) or put a task on it
with `BertClassifier.from_preset(name, num_classes=2)`. Published weights come from
`zoo.from_huggingface`.
"""

from __future__ import annotations

from typing import Any

from zoo.registry import register
from zoo.text.encoder import TextBackbone
from zoo.text.inputs import token_inputs

# The registered models' small version for the test suite (`ModelSpec.tiny`): one transformer
# layer, as every layer runs the same code (the parity tests against Hugging Face stack two).
TINY = {
    "vocabulary_size": 50,
    "num_layers": 1,
    "num_heads": 2,
    "hidden_dim": 16,
    "intermediate_dim": 32,
    "max_sequence_length": 16,
}


def bert_size(num_layers: int, hidden_dim: int, vocabulary_size: int = 30522) -> dict[str, Any]:
    """Arguments of a BERT-shaped encoder: heads = hidden / 64, feed-forward = 4 x hidden.

    The rule of BERT-base and of Google's BERT miniatures (Turc et al. 2019, "Well-Read
    Students Learn Better"); the default vocabulary is BERT's uncased WordPiece vocabulary.
    """
    return {
        "vocabulary_size": vocabulary_size,
        "num_layers": num_layers,
        "num_heads": hidden_dim // 64,
        "hidden_dim": hidden_dim,
        "intermediate_dim": 4 * hidden_dim,
    }


def encoder_search_space(hp) -> dict[str, Any]:
    """Depth, width, heads and dropout of a text task's encoder (feed-forward 4 x width).

    For the classifiers the searched `dropout` is also the head's (see `EncoderClassifier`).
    """
    heads = hp.Choice("num_heads", [2, 4])
    width = heads * hp.Choice("head_dim", [16, 32])
    return {
        "num_layers": hp.Int("num_layers", 1, 4),
        "num_heads": heads,
        "hidden_dim": width,
        "intermediate_dim": 4 * width,
        "dropout": hp.Float("dropout", 0.0, 0.2, step=0.1),
    }


def register_backbone(
    name: str,
    backbone_class: type[TextBackbone],
    family: str,
    description: str,
    tiny: dict[str, Any] | None = None,
    **arguments: Any,
) -> None:
    """Registers a text backbone preset: `task="backbone"`, token example inputs, `TINY`."""
    register(
        name,
        backbone_class,
        family=family,
        task="backbone",
        description=description,
        tiny=tiny or TINY,
        example_inputs=token_inputs,
        **arguments,
    )


def backbone_from_preset(name: str, **overrides: Any) -> TextBackbone:
    """Builds text backbone preset `name` (random weights): `TextBackbone.from_preset`.

    Example:

    ```python
    backbone = backbone_from_preset("bert_tiny_en_uncased", dropout=0.0)
    ```
    """
    return TextBackbone.from_preset(name, **overrides)
