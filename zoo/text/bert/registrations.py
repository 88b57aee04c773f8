"""Registry entries for the BERT task models (each builds a fresh BERT backbone)."""

from __future__ import annotations

import numpy as np

from zoo.registry import register
from zoo.text.bert.bert import TINY, BertBackbone
from zoo.text.bert.classifier import BertClassifier
from zoo.text.bert.examples import token_inputs
from zoo.text.bert.masked_lm import BertMaskedLM
from zoo.text.bert.token_classifier import BertTokenClassifier

BASE = {
    "vocabulary_size": 30522,
    "num_layers": 12,
    "num_heads": 12,
    "hidden_dim": 768,
    "intermediate_dim": 3072,
}


def bert_classifier(num_classes: int = 2, dtype=None, **backbone_arguments) -> BertClassifier:
    """BERT sequence classifier with a freshly initialised backbone."""
    return BertClassifier(BertBackbone(**backbone_arguments, dtype=dtype), num_classes, dtype=dtype)


def bert_token_classifier(
    num_classes: int = 9, dtype=None, **backbone_arguments
) -> BertTokenClassifier:
    """BERT token classifier with a freshly initialised backbone."""
    backbone = BertBackbone(**backbone_arguments, dtype=dtype)
    return BertTokenClassifier(backbone, num_classes, dtype=dtype)


def bert_masked_lm(num_masked: int = 20, dtype=None, **backbone_arguments) -> BertMaskedLM:
    """BERT masked language model with a freshly initialised backbone."""
    return BertMaskedLM(BertBackbone(**backbone_arguments, dtype=dtype), num_masked, dtype=dtype)


def masked_lm_inputs(model, batch_size: int) -> dict[str, np.ndarray]:
    inputs = token_inputs(model, batch_size)
    positions = np.tile(np.arange(model.num_masked, dtype="int32"), (batch_size, 1))
    return {**inputs, "mask_positions": positions}


register(
    "bert_classifier",
    bert_classifier,
    description="BERT-base sequence classifier (pooled output, dropout, dense).",
    tiny=TINY,
    example_inputs=token_inputs,
    num_classes=2,
    **BASE,
)
register(
    "bert_token_classifier",
    bert_token_classifier,
    description="BERT-base token classifier (per-token dense layer).",
    tiny=TINY,
    example_inputs=token_inputs,
    num_classes=9,
    **BASE,
)
register(
    "bert_masked_lm",
    bert_masked_lm,
    description="BERT-base masked language model (head tied to the token embeddings).",
    tiny={**TINY, "num_masked": 3},
    example_inputs=masked_lm_inputs,
    num_masked=20,
    **BASE,
)
