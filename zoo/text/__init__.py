"""Text models: BERT, RoBERTa, ALBERT, DistilBERT, ELECTRA, GPT-2 and T5, BiLSTM taggers,
tokenizers, pretraining, generation and checkpoints.

One folder per family (`bert/`, `roberta/`, `albert/`, `distilbert/`, `electra/`: backbone,
presets, Hugging Face converter, preprocessor where it has its own; `gpt2/` and `t5/` with
their language models; `bilstm/`: backbone, tagger, presets); the encoder they share is in
`encoder.py`; the task models in `bert/` take any of the five encoder backbones; the decoding
loop, samplers and the `generate` serving signature GPT-2 and T5 share are in `generation/`.
The taggers' heads (softmax or CRF) are in `tagging.py`, a generated tagging task in
`tagging_data.py`, entity-level F1 in `entities.py`. Importing this package registers the
presets and task models with `zoo.create` (`zoo.list_models(family="bert")`) and the Hugging
Face converters for `"bert"`, `"roberta"`,
`"albert"`, `"distilbert"`, `"electra"`, `"gpt2"` and `"t5"` with `zoo.from_huggingface` and
`preprocessor_from_huggingface`.
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
from zoo.text.bilstm import BiLSTMBackbone, BiLSTMTagger
from zoo.text.byte_pair import BytePairTokenizer
from zoo.text.causal_lm_pretraining import pretrain_causal_lm
from zoo.text.distilbert import DistilBertBackbone
from zoo.text.distillation import TextDistiller, distil, init_student_from_teacher
from zoo.text.distillation_losses import HiddenStateCosineDistillation, SoftTargetDistillation
from zoo.text.electra import (
    ElectraBackbone,
    ElectraDiscriminator,
    ElectraPretrainer,
    pretrain_electra,
)
from zoo.text.encoder import TextBackbone, gelu_approximate
from zoo.text.entities import EntityScores, bio_entities, entity_f1, entity_scores
from zoo.text.finetune import (
    bert_learning_rate_schedule,
    fine_tuning_optimizer,
    finetune_classifier,
)
from zoo.text.gpt2 import GPT2Backbone, GPT2CausalLM, GPT2Preprocessor
from zoo.text.huggingface import preprocessor_from_huggingface
from zoo.text.presets import backbone_from_preset
from zoo.text.pretraining import mask_tokens, mlm_dataset, pretrain_mlm
from zoo.text.roberta import OffsetPositionEmbedding, RobertaBackbone, RobertaPreprocessor
from zoo.text.sentencepiece import SentencePieceTokenizer
from zoo.text.t5 import T5Backbone, T5Preprocessor, T5Seq2SeqLM, pretrain_t5
from zoo.text.tagging import CRFTrainingMixin, tagging_head
from zoo.text.tagging_data import TaggedSentences, make_tagging_data
from zoo.text.tokenizers import SPECIAL_TOKENS, WordPieceTokenizer, train_wordpiece_vocabulary
from zoo.text.translation import AttentionTranslator, TranslationSearch, TranslationTask

__all__ = [
    "SPECIAL_TOKENS",
    "AlbertBackbone",
    "AttentionTranslator",
    "BertBackbone",
    "BertClassifier",
    "BertMaskedLM",
    "BertPreprocessor",
    "BertTokenClassifier",
    "BiLSTMBackbone",
    "BiLSTMTagger",
    "Bias",
    "BytePairTokenizer",
    "CRFTrainingMixin",
    "DistilBertBackbone",
    "ElectraBackbone",
    "ElectraDiscriminator",
    "ElectraPretrainer",
    "EntityScores",
    "GPT2Backbone",
    "GPT2CausalLM",
    "GPT2Preprocessor",
    "HiddenStateCosineDistillation",
    "OffsetPositionEmbedding",
    "RobertaBackbone",
    "RobertaPreprocessor",
    "SentencePieceTokenizer",
    "SoftTargetDistillation",
    "T5Backbone",
    "T5Preprocessor",
    "T5Seq2SeqLM",
    "TaggedSentences",
    "TextBackbone",
    "TextDistiller",
    "TranslationSearch",
    "TranslationTask",
    "WordPieceTokenizer",
    "backbone_from_preset",
    "bert_learning_rate_schedule",
    "bio_entities",
    "distil",
    "entity_f1",
    "entity_scores",
    "fine_tuning_optimizer",
    "finetune_classifier",
    "gelu_approximate",
    "init_student_from_teacher",
    "make_tagging_data",
    "mask_tokens",
    "mlm_dataset",
    "preprocessor_from_huggingface",
    "pretrain_causal_lm",
    "pretrain_electra",
    "pretrain_t5",
    "pretrain_mlm",
    "tagging_head",
    "train_wordpiece_vocabulary",
]
