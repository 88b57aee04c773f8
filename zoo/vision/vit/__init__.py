"""Vision Transformer (Dosovitskiy et al. 2021): backbone, classifier, presets, HF import."""

from zoo.vision.vit import convert, presets
from zoo.vision.vit.backbone import ViTBackbone, interpolate_positions
from zoo.vision.vit.blocks import ClassToken, ViTEncoderBlock
from zoo.vision.vit.classifier import ViTClassifier

__all__ = [
    "ClassToken",
    "ViTBackbone",
    "ViTClassifier",
    "ViTEncoderBlock",
    "convert",
    "interpolate_positions",
    "presets",
]
