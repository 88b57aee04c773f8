"""Vision models: ViT, Swin and MobileNet-style CNNs, with Hugging Face checkpoint import.

Importing this package registers the models (`zoo.list_models("vit_*")`) and the Hugging Face
converters for `model_type` `"vit"` and `"swin"`. `zoo.vision.recipe` holds the small-data
training recipe (keras RandAugment/MixUp/CutMix on tf.data batches, warmup + cosine schedules).
"""

from zoo.vision.mobilenet import MobileNetV2Backbone, MobileNetV2Classifier
from zoo.vision.recipe import augmentation, learning_rate_schedule, warmup_cosine
from zoo.vision.swin import SwinBackbone, SwinClassifier
from zoo.vision.task import MixedLabelAccuracy, SparseLabelSmoothingCrossentropy
from zoo.vision.vit import ViTBackbone, ViTClassifier

__all__ = [
    "MixedLabelAccuracy",
    "MobileNetV2Backbone",
    "MobileNetV2Classifier",
    "SparseLabelSmoothingCrossentropy",
    "SwinBackbone",
    "SwinClassifier",
    "ViTBackbone",
    "ViTClassifier",
    "augmentation",
    "learning_rate_schedule",
    "warmup_cosine",
]
