"""Text models: BERT, RoBERTa, ALBERT and DistilBERT, tokenizers, pretraining and checkpoints.

Importing this package registers the models with `zoo.create` and the Hugging Face converters
for `"bert"`, `"roberta"`, `"albert"` and `"distilbert"` with `zoo.from_huggingface`.
"""

from zoo.text.bert import convert, registrations  # noqa: F401  (registers converters, models)
from zoo.text.bert.albert import AlbertBackbone
from zoo.text.bert.backbone import TextBackbone, gelu_approximate
from zoo.text.bert.bert import BertBackbone
from zoo.text.bert.classifier import BertClassifier
from zoo.text.bert.convert import preprocessor_from_huggingface
from zoo.text.bert.distilbert import DistilBertBackbone
from zoo.text.bert.masked_lm import BertMaskedLM
from zoo.text.bert.presets import PRESETS, backbone_from_preset, parameter_count
from zoo.text.bert.roberta import OffsetPositionEmbedding, RobertaBackbone
from zoo.text.bert.task import Bias
from zoo.text.bert.token_classifier import BertTokenClassifier
from zoo.text.byte_pair import BytePairTokenizer
from zoo.text.distillation import TextDistiller, distil, init_student_from_teacher
from zoo.text.distillation_losses import HiddenStateCosineDistillation, SoftTargetDistillation
from zoo.text.finetune import (
    bert_learning_rate_schedule,
    fine_tuning_optimizer,
    finetune_classifier,
)
from zoo.text.preprocessor import BertPreprocessor, RobertaPreprocessor
from zoo.text.pretraining import mask_tokens, mlm_dataset, pretrain_mlm
from zoo.text.sentencepiece import SentencePieceTokenizer
from zoo.text.tokenizers import SPECIAL_TOKENS, WordPieceTokenizer, train_wordpiece_vocabulary

__all__ = [
    "PRESETS",
    "SPECIAL_TOKENS",
    "AlbertBackbone",
    "BertBackbone",
    "BertClassifier",
    "BertMaskedLM",
    "BertPreprocessor",
    "BertTokenClassifier",
    "Bias",
    "BytePairTokenizer",
    "DistilBertBackbone",
    "HiddenStateCosineDistillation",
    "OffsetPositionEmbedding",
    "RobertaBackbone",
    "RobertaPreprocessor",
    "SentencePieceTokenizer",
    "SoftTargetDistillation",
    "TextBackbone",
    "TextDistiller",
    "WordPieceTokenizer",
    "backbone_from_preset",
    "bert_learning_rate_schedule",
    "distil",
    "fine_tuning_optimizer",
    "finetune_classifier",
    "gelu_approximate",
    "init_student_from_teacher",
    "mask_tokens",
    "mlm_dataset",
    "parameter_count",
    "preprocessor_from_huggingface",
    "pretrain_mlm",
    "train_wordpiece_vocabulary",
]
