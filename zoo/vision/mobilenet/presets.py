"""Named MobileNetV2 configurations (width multipliers), registered in the zoo."""

from __future__ import annotations

from zoo.registry import register
from zoo.vision.mobilenet.classifier import MobileNetV2Classifier

# name: (description, arguments). Other widths (the paper's 0.35, 0.75, 1.4) are a
# `width_multiplier` override.
MOBILENET_PRESETS = {
    "mobilenet_v2_050_224": (
        "MobileNetV2, width multiplier 0.5, 224 px, ImageNet-1k head.",
        dict(width_multiplier=0.5, num_classes=1000),
    ),
    "mobilenet_v2_100_224": (
        "MobileNetV2, width multiplier 1.0, 224 px, ImageNet-1k head.",
        dict(width_multiplier=1.0, num_classes=1000),
    ),
    "mobilenet_v3_style_100_224": (
        "MobileNetV2 blocks with squeeze-and-excitation and hard-swish (V3-style).",
        dict(se_ratio=0.25, activation="hard_swish", num_classes=1000),
    ),
    "mobilenet_v2_050_32": (
        "MobileNetV2 at width 0.5 for 32x32x3 images (CIFAR-style).",
        dict(input_shape=(32, 32, 3), width_multiplier=0.5, num_classes=10),
    ),
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


for _name, (_description, _arguments) in MOBILENET_PRESETS.items():
    # The tiny version keeps the preset's block type (SE and activation), on small inputs.
    register(
        _name,
        MobileNetV2Classifier,
        family="mobilenet",
        task="classifier",
        description=_description,
        tiny=_TINY,
        search_space=mobilenet_search_space,
        **_arguments,
    )
