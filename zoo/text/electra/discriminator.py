"""ELECTRA's discriminator: a text backbone and the replaced-token-detection head."""

from __future__ import annotations

import keras
from keras import ops

from zoo.models import Task
from zoo.text.electra.backbone import ElectraBackbone
from zoo.text.encoder import activation_function, bert_initializer, check_text_backbone


@keras.saving.register_keras_serializable(package="keras_zoo")
class ReplacedTokenLoss(keras.losses.Loss):
    """Sigmoid cross-entropy of replaced-token-detection logits, token by token.

    Unlike `keras.losses.BinaryCrossentropy` it does not average over the last axis first, so
    a `(batch, length)` `sample_weight` (the padding mask) weights every token.

    Example:

    ```python
    loss = ReplacedTokenLoss()(labels, logits, sample_weight=padding_mask)
    ```
    """

    def __init__(self, name: str = "replaced_token_loss", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        return ops.binary_crossentropy(y_true, y_pred, from_logits=True)


def rtd_head(sequence_output, hidden_dim: int, activation: str, dtype):
    """Dense (`hidden_dim`, the backbone's activation), then one logit per token, float32."""
    x = keras.layers.Dense(
        hidden_dim,
        activation=activation_function(activation),
        kernel_initializer=bert_initializer(),
        dtype=dtype,
        name="rtd_dense",
    )(sequence_output)
    x = keras.layers.Dense(
        1, kernel_initializer=bert_initializer(), dtype=dtype, name="rtd_prediction"
    )(x)
    x = keras.layers.Reshape((-1,), dtype=dtype, name="rtd_squeeze")(x)
    return keras.layers.Activation("linear", dtype="float32", name="logits")(x)


@keras.saving.register_keras_serializable(package="keras_zoo")
class ElectraDiscriminator(Task):
    """Scores every token as original (logit < 0) or replaced (logit > 0).

    The head is Hugging Face's `ElectraDiscriminatorPredictions`: a dense layer of the
    backbone's width with its activation, then a dense layer to one logit per token. Works on
    any zoo.text backbone (an `ElectraBackbone` as published).

    Args:
        backbone: a zoo.text backbone.
        **kwargs: `name`, `dtype` and the other `keras.Model` arguments.

    Inputs: the backbone's inputs. Outputs: logits `(batch, length)` in float32.

    The model comes compiled with AdamW (learning rate 5e-4, ELECTRA-Small's, weight decay
    0.01) and a per-token sigmoid cross-entropy on 0/1 targets (1 = replaced), accuracy as a
    weighted metric; pass the padding mask as `sample_weight`.

    Example:

    ```python
    discriminator = ElectraDiscriminator(ElectraBackbone.from_preset("electra_small"))
    logits = discriminator({"token_ids": ids, "segment_ids": segments, "padding_mask": mask})
    discriminator = zoo.from_huggingface("checkpoints/electra", task="pretraining")
    ```

    Reference:
        Clark et al., "ELECTRA", ICLR 2020, section 2.
    """

    backbone_class = ElectraBackbone
    default_learning_rate = 5e-4
    default_weight_decay = 0.01
    metrics_are_weighted = True

    def __init__(self, backbone, **kwargs):
        check_text_backbone(backbone)
        dtype = self.dtype_policy_from(kwargs)
        inputs = dict(backbone.input)
        sequence = backbone(inputs)["sequence_output"]
        logits = rtd_head(sequence, backbone.hidden_dim, backbone.activation, dtype)
        super().__init__(inputs=inputs, outputs=logits, backbone=backbone, dtype=dtype, **kwargs)

    def default_loss(self):
        return ReplacedTokenLoss()

    def default_metrics(self):
        return [keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)]
