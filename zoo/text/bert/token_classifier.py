"""Token classification (tagging, e.g. named entities) on top of a text backbone."""

from __future__ import annotations

import keras

from zoo.text.bert.backbone import BertBackbone
from zoo.text.encoder_classifier import EncoderClassifier
from zoo.text.tagging import CRFTrainingMixin, check_tagging_head, tagging_head


@keras.saving.register_keras_serializable(package="keras_zoo")
class BertTokenClassifier(CRFTrainingMixin, EncoderClassifier):
    """Classifies every token from its sequence output: dropout, then a dense layer or a CRF.

    With `head="softmax"` (the default) a dense layer scores each token on its own and the
    model outputs logits `(batch, length, num_classes)`; it comes compiled with AdamW
    (learning rate 5e-5, weight decay 0.01) and sparse categorical cross-entropy, accuracy as a
    weighted metric; targets are `(batch, length)` class ids, and `sample_weight` set to the
    padding mask keeps padding out of the loss and the accuracy.

    With `head="crf"` a linear-chain CRF (`layers.crf.CRF`, layer `"crf"`) also scores the
    transitions between tags: the model outputs the Viterbi-decoded tag ids, int32
    `(batch, length)`, and trains with the CRF's negative log-likelihood on the same targets
    (see `zoo.text.tagging.CRFTrainingMixin`); the padding mask sets each row's length.

    Args:
        backbone: a zoo.text backbone.
        num_classes: number of tags.
        dropout: dropout rate before the head. Defaults to `0.1`.
        output_activation: `None` for logits or `"softmax"` (softmax head only). Defaults to
            `None`.
        head: `"softmax"` or `"crf"`. Defaults to `"softmax"`.
        **kwargs: `name`, `dtype` and the other `keras.Model` arguments.

    Example:

    ```python
    tagger = BertTokenClassifier(backbone, num_classes=9)
    tagger.fit(inputs, tags, sample_weight=inputs["padding_mask"])
    crf_tagger = BertTokenClassifier(backbone, num_classes=9, head="crf")
    crf_tagger.fit(inputs, tags)
    crf_tagger.predict(inputs)  # int32 tag ids, (batch, length)
    ```

    Reference:
        Devlin et al., "BERT", NAACL 2019, section 5.3; Lample et al., "Neural Architectures
        for Named Entity Recognition", NAACL 2016 (the CRF head).
    """

    backbone_class = BertBackbone
    default_learning_rate = 5e-5
    default_weight_decay = 0.01
    metrics_are_weighted = True

    def __init__(
        self,
        backbone,
        num_classes: int,
        dropout: float = 0.1,
        output_activation: str | None = None,
        head: str = "softmax",
        **kwargs,
    ):
        check_tagging_head(head, output_activation)
        super().__init__(backbone, num_classes, dropout, output_activation, **kwargs)
        self.init_crf_training()

    @staticmethod
    def features(outputs: dict):
        return outputs["sequence_output"]

    def build_head(self, features, inputs: dict, *, num_classes, dropout, output_activation, dtype):
        return tagging_head(
            features,
            inputs["padding_mask"],
            num_classes,
            head=self.constructor_arguments["head"],
            dropout=dropout,
            output_activation=output_activation,
            dtype=dtype,
        )
