"""Masked language modelling with the output layer tied to the token embeddings."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_positive_int
from zoo.text.bert.backbone import bert_initializer, gelu_approximate
from zoo.text.bert.task import Bias, resolve_backbone


@keras.saving.register_keras_serializable(package="keras_zoo")
class BertMaskedLM(keras.Model):
    """Predicts the tokens at `mask_positions` with BERT's masked-LM head.

    The head gathers the sequence output at the masked positions, applies a dense layer with the
    backbone's activation (GELU) and a layer norm down to the embedding width, and scores every
    vocabulary entry with the transposed token embedding table (weights tied, as in BERT) plus a
    per-token bias. It works with every zoo.text backbone (ALBERT's head maps to its smaller
    embedding width).

    Args:
        backbone: a zoo.text backbone (or its serialized config).
        num_masked: how many positions each sequence predicts (the `mask_positions` width).
        **kwargs: `name`, `dtype` and the other `keras.Model` arguments.

    Inputs: the backbone's inputs plus `"mask_positions"`, int32 `(batch, num_masked)`.
    Outputs: logits `(batch, num_masked, vocabulary_size)` in float32.

    The model comes compiled with AdamW and sparse categorical cross-entropy from logits; pass
    `sample_weight` (1 for real masks, 0 for padding slots) to `fit`.

    Example:

    ```python
    mlm = BertMaskedLM(backbone, num_masked=20)
    mlm.fit({**inputs, "mask_positions": positions}, masked_ids, sample_weight=mask_weights)
    ```

    Reference:
        Devlin et al., "BERT", NAACL 2019, section 3.1 and appendix A.1.
    """

    def __init__(self, backbone, num_masked: int, **kwargs):
        backbone = resolve_backbone(backbone)
        check_positive_int("num_masked", num_masked)
        from zoo.task import ClassifierTask

        dtype = ClassifierTask.resolve_dtype_policy(kwargs.pop("dtype", None))
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
            activation=gelu_approximate
            if backbone.activation == "gelu_approximate"
            else backbone.activation,
            kernel_initializer=bert_initializer(),
            dtype=dtype,
            name="mlm_dense",
        )(gathered)
        x = keras.layers.LayerNormalization(
            epsilon=backbone.layer_norm_epsilon, dtype=dtype, name="mlm_layer_norm"
        )(x)
        logits = Bias(dtype=dtype, name="mlm_bias")(embedding(x, reverse=True))
        logits = keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
        super().__init__(inputs=inputs, outputs=logits, **kwargs)
        self.dtype_policy = dtype
        self.backbone = backbone
        self.num_masked = num_masked
        self.compile()

    def compile(self, optimizer="auto", loss="auto", weighted_metrics="auto", **kwargs):
        """Configures training: `"auto"` picks AdamW(1e-4), cross-entropy from logits, accuracy."""
        if optimizer == "auto":
            optimizer = keras.optimizers.AdamW(1e-4, weight_decay=0.01)
        if isinstance(loss, str) and loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
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

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "num_masked": self.num_masked,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
