"""Named ResNet configurations, registered in the zoo."""

from __future__ import annotations

from zoo.registry import register
from zoo.vision.resnet.classifier import ResNetClassifier

# The ImageNet architectures of the paper's Table 1.
RESNET_PRESETS = {
    "resnet18": dict(depths=(2, 2, 2, 2), block_type="basic"),
    "resnet50": dict(depths=(3, 4, 6, 3), block_type="bottleneck"),
}

# The paper's CIFAR-10 network with n = 3 (ResNet-20, §4.2: 3x3 stem, three stages of widths
# 16/32/64), on 8x8x1 digits at their own resolution; projection shortcuts (option B).
RESNET_DIGITS = dict(
    image_size=8,
    num_channels=1,
    depths=(3, 3, 3),
    widths=(16, 32, 64),
    stem="cifar",
    stem_width=16,
)

_TINY = dict(image_size=8, depths=(1, 1), widths=(4, 8), stem_width=4, num_classes=3)


def resnet_search_space(hp) -> dict:
    """Stages, blocks per stage, base width and block type of `ResNetClassifier`."""
    stages = hp.Int("stages", 2, 4)
    width = hp.Choice("base_width", [16, 32, 64])
    return {
        "depths": (hp.Int("blocks_per_stage", 1, 3),) * stages,
        "widths": tuple(width * 2**i for i in range(stages)),
        "block_type": hp.Choice("block_type", ["basic", "bottleneck"]),
    }


for _name, _arch in RESNET_PRESETS.items():
    register(
        _name,
        ResNetClassifier,
        family="resnet",
        task="classifier",
        description=f"ResNet-{_name[len('resnet') :]} at 224 px, ImageNet-1k head.",
        tiny=_TINY,
        search_space=resnet_search_space,
        image_size=224,
        num_classes=1000,
        **_arch,
    )

register(
    "resnet_digits",
    ResNetClassifier,
    family="resnet",
    task="classifier",
    description="ResNet-20 (the paper's CIFAR network) on 8x8x1 digits, 3x3 stem.",
    tiny=_TINY,
    search_space=resnet_search_space,
    num_classes=10,
    **RESNET_DIGITS,
)
