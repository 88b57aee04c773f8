"""Sequence classification on top of a text backbone."""

from __future__ import annotations

import keras

from zoo.text.bert.backbone import BertBackbone
from zoo.text.encoder_classifier import EncoderClassifier


@keras.saving.register_keras_serializable(package="keras_zoo")
class BertClassifier(EncoderClassifier):
    """Classifies a sequence from its first token (the pooled output where there is a pooler).

    Works with any zoo.text backbone: BERT, RoBERTa, ALBERT (pooled output) or DistilBERT (first
    token of the sequence output). Dropout and a dense layer follow. The model comes compiled
    with AdamW and sparse categorical cross-entropy (see `zoo.models.Task.compile`); for the
    fine-tuning recipe of the paper use `zoo.text.fine_tuning_optimizer`.

    Args:
        backbone: a zoo.text backbone.
        num_classes: number of classes.
        dropout: dropout rate before the dense layer. Defaults to `0.1`.
        output_activation: `None` for logits or `"softmax"`. Defaults to `None`.
        **kwargs: `name`, `dtype` and the other `keras.Model` arguments.

    Example:

    ```python
    backbone = zoo.from_huggingface("checkpoints/bert-base-uncased")
    classifier = BertClassifier(backbone, num_classes=2)
    classifier.fit({"token_ids": ids, "segment_ids": segments, "padding_mask": mask}, labels)
    # or a published size with random weights:
    classifier = BertClassifier.from_preset("bert_tiny_en_uncased", num_classes=2)
    ```

    Reference:
        Devlin et al., "BERT", NAACL 2019, section 4.1.
    """

    backbone_class = BertBackbone

    @staticmethod
    def features(outputs: dict):
        if "pooled_output" in outputs:
            return outputs["pooled_output"]
        return outputs["sequence_output"][:, 0, :]
