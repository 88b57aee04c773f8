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

# One stage on a 4x4 grid with 2x2 windows: regular and shifted windows, the mask exercised.
# (tests/zoo/vision/test_swin.py runs the model checks on a two-stage backbone with merging.)
_TINY = dict(
    image_size=8,
    patch_size=2,
    embed_dim=8,
    depths=(2,),
    num_heads=(2,),
    window_size=2,
    mlp_ratio=1.0,
    num_classes=3,
)

register(
    "swin_tiny_patch4_window7_224",
    SwinClassifier,
    description="Swin-T (patch 4, window 7) at 224 px, ImageNet-1k head.",
    tiny=_TINY,
    num_classes=1000,
    **SWIN_TINY_224,
)

register(
    "swin_tiny_32",
    SwinClassifier,
    description="Small Swin for 32x32x3 images (2x2 patches, 4x4 windows, 3 stages).",
    tiny=_TINY,
    num_classes=10,
    **SWIN_TINY_32,
)
