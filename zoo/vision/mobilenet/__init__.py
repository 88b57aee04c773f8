"""MobileNetV2 (and MobileNetV3-style with SE): backbone, classifier, presets."""

from zoo.vision.mobilenet import presets
from zoo.vision.mobilenet.backbone import MOBILENET_V2_BLOCKS, MobileNetV2Backbone, make_divisible
from zoo.vision.mobilenet.classifier import MobileNetV2Classifier

__all__ = [
    "MOBILENET_V2_BLOCKS",
    "MobileNetV2Backbone",
    "MobileNetV2Classifier",
    "make_divisible",
    "presets",
]
