"""The BiLSTM tagger: a softmax or CRF head on every token of a `BiLSTMBackbone`."""

from __future__ import annotations

from typing import Any

import keras

from layers.validation import check_positive_int, check_rate
from zoo.models import Task
from zoo.text.bilstm.backbone import BiLSTMBackbone
from zoo.text.tagging import CRFTrainingMixin, check_tagging_head, tagging_head


@keras.saving.register_keras_serializable(package="keras_zoo")
class BiLSTMTagger(CRFTrainingMixin, Task):
    """Tags every token from the BiLSTM's features: dropout, then a dense layer or a CRF.

    With `head="softmax"` (the default) a dense layer scores each token on its own and the
    model outputs logits `(batch, length, num_classes)`, trained with sparse categorical
    cross-entropy (pass the padding mask as `sample_weight`). With `head="crf"` (the
    BiLSTM-CRF of Lample et al.) a linear-chain CRF (`layers.crf.CRF`, layer `"crf"`) also
    scores the transitions between tags: the model outputs the Viterbi-decoded tag ids, int32
    `(batch, length)`, and trains with the CRF's negative log-likelihood (see
    `zoo.text.tagging.CRFTrainingMixin`). Both come compiled with AdamW (learning rate 1e-3)
    and token accuracy as a weighted metric.

    Args:
        backbone: a `BiLSTMBackbone`.
        num_classes: number of tags.
        dropout: dropout rate before the head; built from flat arguments (`zoo.create`,
            `from_preset`), also the backbone's. Defaults to `0.0`.
        output_activation: `None` for logits or `"softmax"` (softmax head only). Defaults to
            `None`.
        head: `"softmax"` or `"crf"`. Defaults to `"softmax"`.
        **kwargs: `name`, `dtype` and the other `keras.Model` arguments.

    Example:

    ```python
    tagger = zoo.create("bilstm_tagger", vocabulary_size=5000, num_classes=9, head="crf")
    tagger.fit({"token_ids": ids, "padding_mask": mask}, tags)
    tagger.predict({"token_ids": ids, "padding_mask": mask})  # int32 tag ids
    ```

    Reference:
        Lample et al., "Neural Architectures for Named Entity Recognition", NAACL 2016;
        Huang, Xu and Yu, "Bidirectional LSTM-CRF Models for Sequence Tagging", 2015.
    """

    backbone_class = BiLSTMBackbone
    metrics_are_weighted = True

    def __init__(
        self,
        backbone: BiLSTMBackbone,
        num_classes: int,
        dropout: float = 0.0,
        output_activation: str | None = None,
        head: str = "softmax",
        **kwargs,
    ):
        if not isinstance(backbone, BiLSTMBackbone):
            raise TypeError(f"`backbone` must be a BiLSTMBackbone. Received: backbone={backbone!r}")
        check_positive_int("num_classes", num_classes)
        check_rate("dropout", dropout)
        check_tagging_head(head, output_activation)
        dtype = self.dtype_policy_from(kwargs)
        inputs = dict(backbone.input)
        outputs = tagging_head(
            backbone(inputs)["sequence_output"],
            inputs["padding_mask"],
            num_classes,
            head=head,
            dropout=dropout,
            output_activation=output_activation,
            dtype=dtype,
        )
        super().__init__(inputs=inputs, outputs=outputs, backbone=backbone, dtype=dtype, **kwargs)
        self.init_crf_training()

    @classmethod
    def backbone_arguments(cls, task_arguments: dict[str, Any]) -> dict[str, Any]:
        # Built from flat arguments (registry entries, `from_preset`), one `dropout` sets the
        # backbone's (embeddings, between layers) and the head's, as in Lample et al.
        return {"dropout": task_arguments["dropout"]} if "dropout" in task_arguments else {}
