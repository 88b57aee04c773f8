"""ResNet (He et al. 2016): backbone, classifier and presets (`resnet18`, `resnet50`, ...)."""

from zoo.vision.resnet import presets
from zoo.vision.resnet.backbone import ResNetBackbone
from zoo.vision.resnet.blocks import conv_bn, residual_block
from zoo.vision.resnet.classifier import ResNetClassifier

__all__ = ["ResNetBackbone", "ResNetClassifier", "conv_bn", "presets", "residual_block"]
