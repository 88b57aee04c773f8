"""Shared parts of the text task models: the backbone argument and a bias layer."""

from __future__ import annotations

import keras

from zoo.text.bert.backbone import TextBackbone


def resolve_backbone(backbone) -> TextBackbone:
    """Accepts a backbone instance or its serialized config (as stored by `get_config`)."""
    if isinstance(backbone, dict):
        backbone = keras.saving.deserialize_keras_object(backbone)
    if not isinstance(backbone, TextBackbone):
        raise TypeError(
            "`backbone` must be a zoo.text backbone (BertBackbone, RobertaBackbone, "
            f"AlbertBackbone, DistilBertBackbone). Received: backbone={backbone!r}"
        )
    return backbone


def model_input_names(model: keras.Model) -> list[str]:
    """The names of the inputs `model` declares (dict keys, or the input tensors' names)."""
    if isinstance(model.input, dict):
        return list(model.input)
    return [tensor.name for tensor in model.inputs]


def select_model_inputs(model: keras.Model, inputs):
    """The entries of a dict of inputs that `model` declares (DistilBERT has no `segment_ids`)."""
    if not isinstance(inputs, dict):
        return inputs
    return {name: inputs[name] for name in model_input_names(model)}


def first_token(backbone: TextBackbone, outputs: dict):
    """The pooled output where the backbone has a pooler, else the first token's features."""
    if "pooled_output" in outputs:
        return outputs["pooled_output"]
    return outputs["sequence_output"][:, 0, :]


@keras.saving.register_keras_serializable(package="keras_zoo")
class Bias(keras.layers.Layer):
    """Adds a learned bias over the last axis (the masked-LM head's per-token output bias).

    Example:

    ```python
    logits = Bias()(embedding(x, reverse=True))
    ```
    """

    def build(self, input_shape):
        self.bias = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="bias")

    def call(self, inputs):
        return inputs + keras.ops.cast(self.bias, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape
