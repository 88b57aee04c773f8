"""Registry entries of Once-for-All subnets (random weights: `extract_subnet` copies trained)."""

from __future__ import annotations

from zoo.nas.ofa.subnet import OFASubnetClassifier
from zoo.registry import register

# A mid-size subnet of the digits supernet of BENCHMARKS.md (16x16 upscaled digits).
OFA_SUBNET_DIGITS = dict(
    input_shape=(16, 16, 1),
    num_classes=10,
    stem_channels=8,
    stage_channels=(16, 24, 32),
    stage_strides=(1, 2, 2),
    kernels=((3, 5), (5, 3), (7, 3)),
    expands=((3, 3), (4, 3), (6, 4)),
    head_channels=64,
)

_TINY = dict(
    input_shape=(8, 8, 1),
    num_classes=3,
    stem_channels=4,
    stage_channels=(8, 8),
    stage_strides=(1, 2),
    kernels=((3, 5), (7,)),
    expands=((2, 3), (2,)),
    head_channels=8,
)


def ofa_subnet_search_space(hp) -> dict:
    """Per-stage depth, kernel size and expand ratio of `OFASubnetClassifier`."""
    kernels, expands = [], []
    for stage in range(3):
        depth = hp.Int(f"depth_{stage}", 1, 3)
        kernels.append((hp.Choice(f"kernel_{stage}", [3, 5, 7]),) * depth)
        expands.append((hp.Choice(f"expand_{stage}", [3, 4, 6]),) * depth)
    return {"kernels": tuple(kernels), "expands": tuple(expands)}


register(
    "ofa_subnet_digits",
    OFASubnetClassifier,
    family="ofa",
    task="classifier",
    description="A Once-for-All MobileNetV3-style subnet for 16x16 (upscaled) digits.",
    tiny=_TINY,
    search_space=ofa_subnet_search_space,
    **OFA_SUBNET_DIGITS,
)
