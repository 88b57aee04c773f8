"""Vision models: ViT, Swin, MobileNet-style CNNs and ResNet, with Hugging Face checkpoint import.

Importing this package registers the models (`zoo.list_models(family="vit")`) and the Hugging
Face converters for `model_type` `"vit"` and `"swin"`. The small-data training recipe is shared
by every family: `zoo.augmentation` (keras RandAugment/MixUp/CutMix on tf.data batches) and
`layers.schedules.learning_rate_schedule` (`"warmup_cosine"`, `"one_cycle"`, ...).
"""

from zoo.vision.detr import DETRBackbone, DETRDetector, generalized_box_iou, hungarian_match
from zoo.vision.mobilenet import MobileNetV2Backbone, MobileNetV2Classifier
from zoo.vision.resnet import ResNetBackbone, ResNetClassifier
from zoo.vision.ssl import MoCo, SimCLR, fine_tune, linear_probe
from zoo.vision.swin import SwinBackbone, SwinClassifier
from zoo.vision.vit import ViTBackbone, ViTClassifier

__all__ = [
    "DETRBackbone",
    "DETRDetector",
    "generalized_box_iou",
    "hungarian_match",
    "MobileNetV2Backbone",
    "MobileNetV2Classifier",
    "ResNetBackbone",
    "ResNetClassifier",
    "SimCLR",
    "MoCo",
    "fine_tune",
    "linear_probe",
    "SwinBackbone",
    "SwinClassifier",
    "ViTBackbone",
    "ViTClassifier",
]
