"""Token classification (tagging, e.g. named entities) on top of a text backbone."""

from __future__ import annotations

import keras

from zoo.text.bert.backbone import BertBackbone
from zoo.text.encoder_classifier import EncoderClassifier


@keras.saving.register_keras_serializable(package="keras_zoo")
class BertTokenClassifier(EncoderClassifier):
    """Classifies every token from its sequence output (dropout, then a dense layer).

    The model comes compiled with AdamW (learning rate 5e-5, weight decay 0.01) and sparse
    categorical cross-entropy, accuracy as a weighted metric; targets are `(batch, length)`
    class ids, and `sample_weight` set to the padding mask keeps padding out of the loss and
    the accuracy.

    Args:
        backbone: a zoo.text backbone.
        num_classes: number of tags.
        dropout: dropout rate before the dense layer. Defaults to `0.1`.
        output_activation: `None` for logits or `"softmax"`. Defaults to `None`.
        **kwargs: `name`, `dtype` and the other `keras.Model` arguments.

    Example:

    ```python
    tagger = BertTokenClassifier(backbone, num_classes=9)
    tagger.fit(inputs, tags, sample_weight=inputs["padding_mask"])
    ```

    Reference:
        Devlin et al., "BERT", NAACL 2019, section 5.3.
    """

    backbone_class = BertBackbone
    default_learning_rate = 5e-5
    default_weight_decay = 0.01
    metrics_are_weighted = True

    @staticmethod
    def features(outputs: dict):
        return outputs["sequence_output"]
