"""Named ALBERT configurations, registered in the zoo."""

from __future__ import annotations

from zoo.text.albert.backbone import AlbertBackbone
from zoo.text.presets import TINY, bert_size, register_backbone

# ALBERT-base v2 (Lan et al. 2020): BERT-base's layer shared 12 times, 128-wide embeddings.
ALBERT_BASE = {**bert_size(12, 768, vocabulary_size=30000), "embedding_dim": 128}
ALBERT_TINY = {**TINY, "num_layers": 2, "embedding_dim": 8}  # two passes of the shared layer

register_backbone(
    "albert_base_en_uncased",
    AlbertBackbone,
    "albert",
    "ALBERT-base v2: one layer shared 12 times, hidden 768, uncased SentencePiece vocabulary.",
    tiny=ALBERT_TINY,
    **ALBERT_BASE,
)
register_backbone(
    "albert_backbone",
    AlbertBackbone,
    "albert",
    "ALBERT encoder (base size by default: 12 shared layers, hidden 768).",
    tiny=ALBERT_TINY,
    **ALBERT_BASE,
)
