"""Named DistilBERT configurations, registered in the zoo."""

from __future__ import annotations

from zoo.text.distilbert.backbone import DistilBertBackbone
from zoo.text.presets import bert_size, register_backbone

# Half of BERT-base's layers, its width and vocabulary (Sanh et al. 2019).
DISTILBERT_BASE = bert_size(6, 768)

register_backbone(
    "distilbert_base_en_uncased",
    DistilBertBackbone,
    "distilbert",
    "DistilBERT-base: 6 layers, hidden 768, uncased English WordPiece vocabulary.",
    **DISTILBERT_BASE,
)
register_backbone(
    "distilbert_backbone",
    DistilBertBackbone,
    "distilbert",
    "DistilBERT encoder (base size by default: 6 layers, hidden 768).",
    **DISTILBERT_BASE,
)
