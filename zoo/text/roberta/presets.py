"""Named RoBERTa configurations, registered in the zoo."""

from __future__ import annotations

from zoo.text.presets import bert_size, register_backbone
from zoo.text.roberta.backbone import RobertaBackbone

# BERT-base's shape with RoBERTa's byte-level BPE vocabulary (Liu et al. 2019).
ROBERTA_BASE = bert_size(12, 768, vocabulary_size=50265)

register_backbone(
    "roberta_base_en",
    RobertaBackbone,
    "roberta",
    "RoBERTa-base: 12 layers, hidden 768, English byte-level BPE vocabulary.",
    **ROBERTA_BASE,
)
register_backbone(
    "roberta_backbone",
    RobertaBackbone,
    "roberta",
    "RoBERTa encoder (base size by default: 12 layers, hidden 768).",
    **ROBERTA_BASE,
)
