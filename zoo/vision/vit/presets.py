"""Named Vision Transformer configurations, registered in the zoo."""

from __future__ import annotations

from zoo.registry import register
from zoo.vision.vit.classifier import ViTClassifier

# Architectures of the paper (Table 1) and of DeiT (Touvron et al. 2021) for Ti and S.
VIT_PRESETS = {
    "vit_tiny_patch16_224": dict(hidden_dim=192, num_layers=12, num_heads=3, mlp_dim=768),
    "vit_small_patch16_224": dict(hidden_dim=384, num_layers=12, num_heads=6, mlp_dim=1536),
    "vit_base_patch16_224": dict(hidden_dim=768, num_layers=12, num_heads=12, mlp_dim=3072),
}

# A ViT for 32x32 images trained from scratch (4x4 patches, 64 tokens): the small-data recipe
# of stochastic depth, label smoothing and mean pooling.
VIT_TINY_32 = dict(
    image_size=32,
    patch_size=4,
    hidden_dim=64,
    num_layers=4,
    num_heads=4,
    mlp_dim=128,
    pooling="mean",
    drop_path_rate=0.1,
    label_smoothing=0.1,
)

_TINY = dict(image_size=8, patch_size=4, hidden_dim=8, num_layers=1, num_heads=2, mlp_dim=8)


def vit_search_space(hp) -> dict:
    """Depth, width, heads, MLP ratio and stochastic depth of `ViTClassifier`."""
    heads = hp.Choice("num_heads", [2, 4])
    width = heads * hp.Choice("head_dim", [16, 32])
    return {
        "num_heads": heads,
        "hidden_dim": width,
        "mlp_dim": width * hp.Choice("mlp_ratio", [2, 4]),
        "num_layers": hp.Int("num_layers", 2, 6, step=2),
        "drop_path_rate": hp.Float("drop_path_rate", 0.0, 0.2, step=0.1),
    }


for _name, _arch in VIT_PRESETS.items():
    register(
        _name,
        ViTClassifier,
        family="vit",
        task="classifier",
        description=f"ViT {_name.split('_')[1]}/16 at 224 px, ImageNet-1k head.",
        tiny={**_TINY, "num_classes": 3},
        search_space=vit_search_space,
        image_size=224,
        patch_size=16,
        num_classes=1000,
        **_arch,
    )

register(
    "vit_tiny_32",
    ViTClassifier,
    family="vit",
    task="classifier",
    description="Small ViT for 32x32x3 images (4x4 patches, 4 blocks of width 64).",
    tiny={**_TINY, "num_classes": 3},
    search_space=vit_search_space,
    num_classes=10,
    **VIT_TINY_32,
)

register(
    "vit_tiny_digits",
    ViTClassifier,
    family="vit",
    task="classifier",
    description="vit_tiny_32 on 8x8x1 digits, upscaled to 32x32 inside the model.",
    tiny={**_TINY, "num_classes": 3, "input_shape": (4, 4, 1)},
    search_space=vit_search_space,
    num_classes=10,
    input_shape=(8, 8, 1),
    **VIT_TINY_32,
)
