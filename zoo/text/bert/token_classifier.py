"""Token classification (tagging, e.g. named entities) on top of a BERT-family backbone."""

from __future__ import annotations

import keras

from layers.validation import check_positive_int, check_rate
from zoo.task import ClassifierTask
from zoo.text.bert.task import resolve_backbone


@keras.saving.register_keras_serializable(package="keras_zoo")
class BertTokenClassifier(keras.Model):
    """Classifies every token from its sequence output (dropout, then a dense layer).

    The model comes compiled with AdamW and sparse categorical cross-entropy (see `compile`);
    targets are
    `(batch, length)` class ids, and `sample_weight` set to the padding mask keeps padding out of
    the loss.

    Args:
        backbone: a zoo.text backbone (or its serialized config).
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
        dtype = ClassifierTask.resolve_dtype_policy(kwargs.pop("dtype", None))
        inputs = dict(backbone.input)
        x = backbone(inputs)["sequence_output"]
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

    def compile(self, optimizer="auto", loss="auto", weighted_metrics="auto", **kwargs):
        """Configures training: `"auto"` picks AdamW(5e-5), cross-entropy, accuracy.

        Pass `sample_weight=padding_mask` to `fit` so padding is left out of loss and accuracy.
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.AdamW(5e-5, weight_decay=0.01)
        if isinstance(loss, str) and loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(
                from_logits=self.output_activation is None
            )
        if weighted_metrics == "auto" and not isinstance(loss, keras.losses.Loss):
            weighted_metrics = None  # accuracy only makes sense with the classification loss
        if weighted_metrics == "auto":
            weighted_metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
        # Keras keeps the previous compile's metrics when none are given; drop them so that
        # re-compiling with another loss (e.g. "mse") does not keep token accuracy.
        self._compile_metrics = None
        super().compile(optimizer=optimizer, loss=loss, weighted_metrics=weighted_metrics, **kwargs)

    def compile_from_config(self, config):
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "num_classes": self.num_classes,
            "dropout": self.dropout,
            "output_activation": self.output_activation,
        }
