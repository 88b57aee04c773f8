"""Named MobileNetV2 configurations (width multipliers), registered in the zoo."""

from __future__ import annotations

from zoo.registry import register
from zoo.vision.mobilenet.classifier import MobileNetV2Classifier

# Registered widths; any other (the paper's 0.35, 0.75, 1.4) is a `width_multiplier` override.
WIDTH_PRESETS = {
    "mobilenet_v2_050_224": 0.5,
    "mobilenet_v2_100_224": 1.0,
}

_TINY = dict(
    input_shape=(8, 8, 3),
    blocks=((1, 8, 1, 1), (2, 8, 2, 2)),
    stem_filters=8,
    head_filters=16,
    num_classes=3,
)


def mobilenet_search_space(hp) -> dict:
    """Width multiplier, SE ratio and dropout of `MobileNetV2Classifier`."""
    return {
        "width_multiplier": hp.Choice("width_multiplier", [0.35, 0.5, 0.75, 1.0]),
        "se_ratio": hp.Choice("se_ratio", [0.0, 0.25]) or None,
        "dropout": hp.Float("dropout", 0.0, 0.4, step=0.1),
    }


for _name, _alpha in WIDTH_PRESETS.items():
    register(
        _name,
        MobileNetV2Classifier,
        description=f"MobileNetV2, width multiplier {_alpha}, 224 px, ImageNet-1k head.",
        tiny=_TINY,
        search_space=mobilenet_search_space,
        width_multiplier=_alpha,
        num_classes=1000,
    )

register(
    "mobilenet_v3_style_100_224",
    MobileNetV2Classifier,
    description="MobileNetV2 blocks with squeeze-and-excitation and hard-swish (V3-style).",
    tiny={**_TINY, "se_ratio": 0.25},
    search_space=mobilenet_search_space,
    se_ratio=0.25,
    activation="hard_swish",
    num_classes=1000,
)

register(
    "mobilenet_v2_050_32",
    MobileNetV2Classifier,
    description="MobileNetV2 at width 0.5 for 32x32x3 images (CIFAR-style).",
    tiny=_TINY,
    search_space=mobilenet_search_space,
    input_shape=(32, 32, 3),
    width_multiplier=0.5,
    num_classes=10,
)
