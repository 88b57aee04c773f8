"""ALBERT (Lan et al. 2020): backbone, presets and HF import (it uses `BertPreprocessor`)."""

from zoo.text.albert import convert, presets
from zoo.text.albert.backbone import AlbertBackbone

__all__ = ["AlbertBackbone", "convert", "presets"]
