"""Named DETR configurations, registered in the zoo."""

from __future__ import annotations

from zoo.registry import register
from zoo.vision.detr.detector import DETRDetector

# The paper's DETR (R50): ResNet-50, 6 + 6 layers of width 256, 8 heads, 100 queries, COCO ids.
DETR_RESNET50 = dict(
    depths=(3, 4, 6, 3),
    hidden_sizes=(256, 512, 1024, 2048),
    block_type="bottleneck",
    num_queries=100,
    hidden_dim=256,
    num_heads=8,
    encoder_layers=6,
    decoder_layers=6,
    ffn_dim=2048,
)

# A small DETR for the synthetic shapes set at 64 px on a CPU: two basic ResNet stages (output
# stride 8), width 64, 2 + 2 layers and 10 queries. Trained from scratch, so its whole backbone
# trains, batch norms included (DETR freezes them only because its backbone comes pretrained).
DETR_TINY = dict(
    image_size=64,
    freeze_batch_norm=False,
    freeze_early_layers=False,
    depths=(1, 1),
    hidden_sizes=(32, 64),
    block_type="basic",
    stem_width=32,
    num_queries=10,
    hidden_dim=64,
    num_heads=4,
    encoder_layers=2,
    decoder_layers=2,
    ffn_dim=128,
    dropout=0.0,
    num_classes=3,
)

_TINY = dict(
    image_size=32,
    depths=(1, 1),
    hidden_sizes=(8, 16),
    block_type="basic",
    stem_width=8,
    num_queries=4,
    hidden_dim=16,
    num_heads=2,
    encoder_layers=1,
    decoder_layers=2,
    ffn_dim=16,
    num_classes=3,
)


def detr_search_space(hp) -> dict:
    """Width, depth, heads and queries of `DETRDetector`'s transformer."""
    heads = hp.Choice("num_heads", [2, 4, 8])
    width = heads * hp.Choice("head_dim", [16, 32])
    return {
        "num_heads": heads,
        "hidden_dim": width,
        "ffn_dim": width * hp.Choice("ffn_ratio", [2, 4, 8]),
        "encoder_layers": hp.Int("encoder_layers", 1, 6),
        "decoder_layers": hp.Int("decoder_layers", 1, 6),
        "num_queries": hp.Choice("num_queries", [10, 25, 100]),
    }


register(
    "detr_resnet50",
    DETRDetector,
    family="detr",
    task="detector",
    description="DETR-R50 (Carion et al. 2020): ResNet-50, 6+6 layers of width 256, 100 queries.",
    tiny=_TINY,
    search_space=detr_search_space,
    num_classes=91,
    **DETR_RESNET50,
)

register(
    "detr_tiny",
    DETRDetector,
    family="detr",
    task="detector",
    description="Small DETR for 64 px images (the synthetic shapes set), 10 queries, 3 classes.",
    tiny=_TINY,
    search_space=detr_search_space,
    **DETR_TINY,
)
