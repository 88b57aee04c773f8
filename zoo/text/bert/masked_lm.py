"""Masked language modelling with the output layer tied to the token embeddings."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_positive_int
from zoo.models import Task
from zoo.text.bert.backbone import BertBackbone
from zoo.text.encoder import activation_function, bert_initializer, check_text_backbone


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


@keras.saving.register_keras_serializable(package="keras_zoo")
class BertMaskedLM(Task):
    """Predicts the tokens at `mask_positions` with BERT's masked-LM head.

    The head gathers the sequence output at the masked positions, applies a dense layer with the
    backbone's activation (GELU) and a layer norm down to the embedding width, and scores every
    vocabulary entry with the transposed token embedding table (weights tied, as in BERT) plus a
    per-token bias. It works with every zoo.text backbone (ALBERT's head maps to its smaller
    embedding width).

    Args:
        backbone: a zoo.text backbone.
        num_masked: how many positions each sequence predicts (the `mask_positions` width).
        **kwargs: `name`, `dtype` and the other `keras.Model` arguments.

    Inputs: the backbone's inputs plus `"mask_positions"`, int32 `(batch, num_masked)`.
    Outputs: logits `(batch, num_masked, vocabulary_size)` in float32.

    The model comes compiled with AdamW (learning rate 1e-4, weight decay 0.01) and sparse
    categorical cross-entropy from logits, accuracy as a weighted metric; pass `sample_weight`
    (1 for real masks, 0 for padding slots) to `fit`.

    Example:

    ```python
    mlm = BertMaskedLM(backbone, num_masked=20)
    mlm.fit({**inputs, "mask_positions": positions}, masked_ids, sample_weight=mask_weights)
    ```

    Reference:
        Devlin et al., "BERT", NAACL 2019, section 3.1 and appendix A.1.
    """

    backbone_class = BertBackbone
    default_learning_rate = 1e-4
    default_weight_decay = 0.01
    metrics_are_weighted = True

    def __init__(self, backbone, num_masked: int, **kwargs):
        check_text_backbone(backbone)
        check_positive_int("num_masked", num_masked)
        dtype = self.dtype_policy_from(kwargs)
        inputs = dict(backbone.input)
        inputs["mask_positions"] = keras.Input(
            shape=(num_masked,), dtype="int32", name="mask_positions"
        )
        sequence = backbone({k: v for k, v in inputs.items() if k != "mask_positions"})[
            "sequence_output"
        ]
        gathered = ops.take_along_axis(sequence, inputs["mask_positions"][:, :, None], axis=1)
        embedding = backbone.token_embedding
        x = keras.layers.Dense(
            embedding.output_dim,
            activation=activation_function(backbone.activation),
            kernel_initializer=bert_initializer(),
            dtype=dtype,
            name="mlm_dense",
        )(gathered)
        x = keras.layers.LayerNormalization(
            epsilon=backbone.layer_norm_epsilon, dtype=dtype, name="mlm_layer_norm"
        )(x)
        logits = Bias(dtype=dtype, name="mlm_bias")(embedding(x, reverse=True))
        logits = keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
        super().__init__(inputs=inputs, outputs=logits, backbone=backbone, dtype=dtype, **kwargs)
