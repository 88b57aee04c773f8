"""Text models: BERT, RoBERTa, ALBERT and DistilBERT, tokenizers, pretraining and checkpoints.

One folder per family (`bert/`, `roberta/`, `albert/`, `distilbert/`: backbone, presets,
Hugging Face converter, preprocessor where it has its own); the encoder they share is in
`encoder.py`; the task models in `bert/` take any of the four backbones. Importing this package
registers the presets and task models with `zoo.create` (`zoo.list_models(family="bert")`) and
the Hugging Face converters for `"bert"`, `"roberta"`, `"albert"` and `"distilbert"` with
`zoo.from_huggingface` and `preprocessor_from_huggingface`.
"""

from zoo.text.albert import AlbertBackbone
from zoo.text.bert import (
    BertBackbone,
    BertClassifier,
    BertMaskedLM,
    BertPreprocessor,
    BertTokenClassifier,
    Bias,
)
from zoo.text.byte_pair import BytePairTokenizer
from zoo.text.distilbert import DistilBertBackbone
from zoo.text.distillation import TextDistiller, distil, init_student_from_teacher
from zoo.text.distillation_losses import HiddenStateCosineDistillation, SoftTargetDistillation
from zoo.text.encoder import TextBackbone, gelu_approximate
from zoo.text.finetune import (
    bert_learning_rate_schedule,
    fine_tuning_optimizer,
    finetune_classifier,
)
from zoo.text.huggingface import preprocessor_from_huggingface
from zoo.text.presets import backbone_from_preset
from zoo.text.pretraining import mask_tokens, mlm_dataset, pretrain_mlm
from zoo.text.roberta import OffsetPositionEmbedding, RobertaBackbone, RobertaPreprocessor
from zoo.text.sentencepiece import SentencePieceTokenizer
from zoo.text.tokenizers import SPECIAL_TOKENS, WordPieceTokenizer, train_wordpiece_vocabulary

__all__ = [
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
    "preprocessor_from_huggingface",
    "pretrain_mlm",
    "train_wordpiece_vocabulary",
]
