"""DistilBERT (Sanh et al. 2019): backbone, presets and HF import (it uses `BertPreprocessor`)."""

from zoo.text.distilbert import convert, presets
from zoo.text.distilbert.backbone import DistilBertBackbone

__all__ = ["DistilBertBackbone", "convert", "presets"]
