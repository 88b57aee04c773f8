"""RoBERTa (Liu et al. 2019): backbone, offset positions, preprocessor, presets, HF import."""

from zoo.text.roberta import convert, presets
from zoo.text.roberta.backbone import RobertaBackbone
from zoo.text.roberta.position_embedding import OffsetPositionEmbedding
from zoo.text.roberta.preprocessor import RobertaPreprocessor

__all__ = [
    "OffsetPositionEmbedding",
    "RobertaBackbone",
    "RobertaPreprocessor",
    "convert",
    "presets",
]
