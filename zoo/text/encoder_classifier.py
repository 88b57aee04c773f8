"""What the text classifiers share: a text backbone, dropout and a dense layer on its features."""

from __future__ import annotations

from typing import Any

from layers.validation import check_positive_int, check_rate
from zoo.models import Task, check_output_activation, classification_head
from zoo.text.encoder import check_text_backbone


class EncoderClassifier(Task):
    """Base of `BertClassifier` and `BertTokenClassifier`: a text backbone, dropout and a dense
    layer on the features that the subclass's `features` picks from the backbone's outputs.

    Works with every zoo.text backbone. Built from flat arguments (`from_arguments`, registry
    entries, `from_preset`), one `dropout` sets both the encoder's and the head's rate.
    Subclasses set `backbone_class` (the backbone that flat arguments build) and `features`,
    and may replace the head (`build_head`).
    """

    # XLA measured faster on CPU (BERT classifiers 1.13x a step, benchmarks/bench_xla.py).
    default_jit_compile = True

    def __init__(
        self,
        backbone,
        num_classes: int,
        dropout: float = 0.1,
        output_activation: str | None = None,
        **kwargs,
    ):
        check_text_backbone(backbone)
        check_positive_int("num_classes", num_classes)
        check_rate("dropout", dropout)
        check_output_activation(output_activation)
        dtype = self.dtype_policy_from(kwargs)
        inputs = dict(backbone.input)
        outputs = self.build_head(
            self.features(backbone(inputs)),
            inputs,
            num_classes=num_classes,
            dropout=dropout,
            output_activation=output_activation,
            dtype=dtype,
        )
        super().__init__(inputs=inputs, outputs=outputs, backbone=backbone, dtype=dtype, **kwargs)

    @staticmethod
    def features(outputs: dict):
        """The backbone outputs the head classifies."""
        raise NotImplementedError

    def build_head(self, features, inputs: dict, *, num_classes, dropout, output_activation, dtype):
        """The model's output from `features`: dropout and a dense layer named `"logits"`.

        `inputs` are the backbone's symbolic inputs. Subclasses with another head override
        it (their own constructor arguments are in `self.constructor_arguments`).
        """
        return classification_head(
            features,
            num_classes,
            dropout=dropout,
            output_activation=output_activation,
            dtype=dtype,
            dropout_name="classifier_dropout",
        )

    @classmethod
    def backbone_arguments(cls, task_arguments: dict[str, Any]) -> dict[str, Any]:
        return {"dropout": task_arguments["dropout"]} if "dropout" in task_arguments else {}
