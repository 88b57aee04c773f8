"""Named Swin Transformer configurations, registered in the zoo."""

from __future__ import annotations

from zoo.registry import register
from zoo.vision.swin.classifier import SwinClassifier

# Swin-T of the paper (Table 1 / section 3.3).
SWIN_TINY_224 = dict(
    image_size=224,
    patch_size=4,
    embed_dim=96,
    depths=(2, 2, 6, 2),
    num_heads=(3, 6, 12, 24),
    window_size=7,
    drop_path_rate=0.2,
)

# 32x32 images: 2x2 patches give a 16x16 grid, 4x4 windows, three stages (16, 8, 4).
SWIN_TINY_32 = dict(
    image_size=32,
    patch_size=2,
    embed_dim=32,
    depths=(2, 2, 2),
    num_heads=(2, 4, 8),
    window_size=4,
    mlp_ratio=2.0,
    drop_path_rate=0.1,
    label_smoothing=0.1,
)

# Two stages: a 4x4 grid with 2x2 windows (regular and shifted, the mask exercised), patch
# merging, then a 2x2 grid in one window. Both presets build the same tiny model, which the
# shared checks then train once.
_TINY = dict(
    image_size=8,
    patch_size=2,
    embed_dim=8,
    depths=(2, 1),
    num_heads=(2, 2),
    window_size=2,
    mlp_ratio=1.0,
    drop_path_rate=0.1,
    label_smoothing=0.1,
    num_classes=3,
)


def swin_search_space(num_stages: int):
    """The search space of `SwinClassifier` presets with `num_stages` stages.

    Searched: the heads of the first stage (doubling every stage, as in the paper), the width
    per head (so `embed_dim` = heads x head width), the MLP ratio and stochastic depth. The
    depths, window and patch sizes stay the preset's, which fit its image size.
    """

    def search_space(hp) -> dict:
        heads = hp.Choice("first_stage_heads", [2, 3, 4])
        return {
            "embed_dim": heads * hp.Choice("head_dim", [8, 16, 32]),
            "num_heads": tuple(heads * 2**stage for stage in range(num_stages)),
            "mlp_ratio": hp.Choice("mlp_ratio", [2.0, 4.0]),
            "drop_path_rate": hp.Float("drop_path_rate", 0.0, 0.3, step=0.1),
        }

    return search_space


register(
    "swin_tiny_patch4_window7_224",
    SwinClassifier,
    family="swin",
    task="classifier",
    description="Swin-T (patch 4, window 7) at 224 px, ImageNet-1k head.",
    tiny=_TINY,
    search_space=swin_search_space(len(SWIN_TINY_224["depths"])),
    num_classes=1000,
    **SWIN_TINY_224,
)

register(
    "swin_tiny_32",
    SwinClassifier,
    family="swin",
    task="classifier",
    description="Small Swin for 32x32x3 images (2x2 patches, 4x4 windows, 3 stages).",
    tiny=_TINY,
    search_space=swin_search_space(len(SWIN_TINY_32["depths"])),
    num_classes=10,
    **SWIN_TINY_32,
)
