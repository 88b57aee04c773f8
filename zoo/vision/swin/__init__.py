"""Swin Transformer (Liu et al. 2021): backbone, classifier, presets, Hugging Face import."""

from zoo.vision.swin import convert, presets
from zoo.vision.swin.backbone import SwinBackbone
from zoo.vision.swin.classifier import SwinClassifier
from zoo.vision.swin.layers import PatchMerging, SwinBlock, WindowAttention, shifted_window_mask

__all__ = [
    "PatchMerging",
    "SwinBackbone",
    "SwinBlock",
    "SwinClassifier",
    "WindowAttention",
    "convert",
    "presets",
    "shifted_window_mask",
]
