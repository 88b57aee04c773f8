"""BERT (Devlin et al. 2019): backbone, preprocessor, the task models (which take any zoo.text
backbone), presets and Hugging Face import."""

from zoo.text.bert import convert, presets
from zoo.text.bert.backbone import BertBackbone
from zoo.text.bert.classifier import BertClassifier
from zoo.text.bert.masked_lm import BertMaskedLM, Bias
from zoo.text.bert.preprocessor import BertPreprocessor
from zoo.text.bert.token_classifier import BertTokenClassifier

__all__ = [
    "BertBackbone",
    "BertClassifier",
    "BertMaskedLM",
    "BertPreprocessor",
    "BertTokenClassifier",
    "Bias",
    "convert",
    "presets",
]
