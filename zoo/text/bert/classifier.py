"""Sequence classification on top of a BERT-family backbone."""

from __future__ import annotations

import keras

from layers.validation import check_positive_int, check_rate
from zoo.task import ClassifierTask
from zoo.text.bert.task import first_token, resolve_backbone


@keras.saving.register_keras_serializable(package="keras_zoo")
class BertClassifier(ClassifierTask):
    """Classifies a sequence from its first token (the pooled output where there is a pooler).

    Works with any zoo.text backbone: BERT, RoBERTa, ALBERT (pooled output) or DistilBERT (first
    token of the sequence output). Dropout and a dense layer follow. The model comes compiled
    with AdamW and sparse categorical cross-entropy (see `ClassifierTask.compile`); for the
    fine-tuning recipe of the paper use `zoo.text.fine_tuning_optimizer`.

    Args:
        backbone: a zoo.text backbone (or its serialized config).
        num_classes: number of classes.
        dropout: dropout rate before the dense layer. Defaults to `0.1`.
        output_activation: `None` for logits or `"softmax"`. Defaults to `None`.
        **kwargs: `name`, `dtype` and the other `keras.Model` arguments.

    Example:

    ```python
    backbone = zoo.from_huggingface("checkpoints/bert-base-uncased")
    classifier = BertClassifier(backbone, num_classes=2)
    classifier.fit({"token_ids": ids, "segment_ids": segments, "padding_mask": mask}, labels)
    ```

    Reference:
        Devlin et al., "BERT", NAACL 2019, section 4.1.
    """

    def __init__(
        self,
        backbone,
        num_classes: int,
        dropout: float = 0.1,
        output_activation: str | None = None,
        **kwargs,
    ):
        backbone = resolve_backbone(backbone)
        check_positive_int("num_classes", num_classes)
        check_rate("dropout", dropout)
        if output_activation not in (None, "softmax"):
            raise ValueError(
                "`output_activation` must be None (logits) or 'softmax'. "
                f"Received: output_activation={output_activation!r}"
            )
        dtype = self.resolve_dtype_policy(kwargs.pop("dtype", None))
        inputs = dict(backbone.input)
        x = first_token(backbone, backbone(inputs))
        x = keras.layers.Dropout(dropout, dtype=dtype, name="classifier_dropout")(x)
        outputs = keras.layers.Dense(
            num_classes, activation=output_activation, dtype="float32", name="logits"
        )(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.dtype_policy = dtype
        self.backbone = backbone
        self.num_classes = num_classes
        self.dropout = dropout
        self.output_activation = output_activation
        self.compile()

    def get_config(self):
        return {
            **self.base_config(),
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "num_classes": self.num_classes,
            "dropout": self.dropout,
            "output_activation": self.output_activation,
        }
