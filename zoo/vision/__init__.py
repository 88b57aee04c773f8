"""Vision models: ViT, Swin and MobileNet-style CNNs, with Hugging Face checkpoint import.

Importing this package registers the models (`zoo.list_models("vit_*")`) and the Hugging Face
converters for `model_type` `"vit"` and `"swin"`.
"""

from zoo.vision.mobilenet import MobileNetV2Backbone, MobileNetV2Classifier
from zoo.vision.swin import SwinBackbone, SwinClassifier
from zoo.vision.task import SparseLabelSmoothingCrossentropy
from zoo.vision.vit import ViTBackbone, ViTClassifier

__all__ = [
    "MobileNetV2Backbone",
    "MobileNetV2Classifier",
    "SparseLabelSmoothingCrossentropy",
    "SwinBackbone",
    "SwinClassifier",
    "ViTBackbone",
    "ViTClassifier",
]
