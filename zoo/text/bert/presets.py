"""Named BERT configurations, registered in the zoo: the published sizes and the task models."""

from __future__ import annotations

from zoo.registry import register
from zoo.text.bert.backbone import BertBackbone
from zoo.text.bert.classifier import BertClassifier
from zoo.text.bert.masked_lm import BertMaskedLM
from zoo.text.bert.token_classifier import BertTokenClassifier
from zoo.text.inputs import masked_lm_inputs, token_inputs
from zoo.text.presets import TINY, bert_size, encoder_search_space, register_backbone

BERT_BASE = bert_size(12, 768)

# Devlin et al. 2019 (base) and Google's BERT miniatures (Turc et al. 2019), uncased English.
SIZES = {
    "bert_tiny_en_uncased": ("BERT-Tiny", 2, 128),
    "bert_mini_en_uncased": ("BERT-Mini", 4, 256),
    "bert_small_en_uncased": ("BERT-Small", 4, 512),
    "bert_base_en_uncased": ("BERT-base", 12, 768),
}

for _name, (_title, _layers, _hidden) in SIZES.items():
    register_backbone(
        _name,
        BertBackbone,
        "bert",
        f"{_title}: {_layers} layers, hidden {_hidden}, uncased English WordPiece vocabulary.",
        **bert_size(_layers, _hidden),
    )

register_backbone(
    "bert_backbone",
    BertBackbone,
    "bert",
    "BERT encoder (base size by default: 12 layers, hidden 768).",
    **BERT_BASE,
)

# Task models on a fresh BERT-base backbone (flat arguments mix task and backbone ones):
# name -> (task class, task, the task's own arguments, description).
TASKS = {
    "bert_classifier": (
        BertClassifier,
        "classifier",
        {"num_classes": 2},
        "BERT-base sequence classifier (pooled output, dropout, dense).",
    ),
    "bert_token_classifier": (
        BertTokenClassifier,
        "token_classifier",
        {"num_classes": 9},
        "BERT-base token classifier (per-token dense layer).",
    ),
    "bert_masked_lm": (
        BertMaskedLM,
        "masked_lm",
        {"num_masked": 20},
        "BERT-base masked language model (head tied to the token embeddings).",
    ),
}

for _name, (_task_class, _task, _arguments, _description) in TASKS.items():
    _masked = _task_class is BertMaskedLM  # takes `mask_positions` too
    register(
        _name,
        _task_class,
        family="bert",
        task=_task,
        description=_description,
        tiny={**TINY, "num_masked": 3} if _masked else TINY,
        example_inputs=masked_lm_inputs if _masked else token_inputs,
        search_space=encoder_search_space,
        **_arguments,
        **BERT_BASE,
    )
