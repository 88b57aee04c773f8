"""ELECTRA's pretraining model: a small masked-LM generator and the discriminator it trains."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf
from keras import ops

from layers.validation import (
    check_non_negative_int,
    check_positive_float,
    check_positive_int,
    check_probability_open_closed,
    check_rate,
)
from zoo.models import ConstructorConfig
from zoo.models.arguments import resolve_dtype_policy
from zoo.text.bert.masked_lm import Bias
from zoo.text.electra.backbone import ElectraBackbone, embed_tokens, embeddings_projection
from zoo.text.electra.discriminator import ElectraDiscriminator
from zoo.text.encoder import encoder_stack
from zoo.text.pretraining import mask_tokens


def generator_arguments(backbone: ElectraBackbone, size: float, num_layers: int | None) -> dict:
    """The generator's encoder arguments, as ELECTRA's code derives them from the
    discriminator: width `round(size * hidden_dim)`, one head per 64 units (at least one),
    feed-forward 4 x width, the discriminator's depth unless `num_layers` is given."""
    hidden = max(1, int(round(backbone.hidden_dim * size)))
    return {
        "num_layers": num_layers or backbone.num_layers,
        "num_heads": max(1, hidden // 64),
        "hidden_dim": hidden,
        "intermediate_dim": 4 * hidden,
        "dropout": backbone.dropout,
        "activation": backbone.activation,
        "layer_norm_epsilon": backbone.layer_norm_epsilon,
    }


def build_generator(embedding_dim: int, arguments: dict, dtype) -> keras.Model:
    """The generator network after the shared embeddings: projection, encoder layers and
    Hugging Face's `ElectraGeneratorPredictions` (dense to the embedding width, GELU, layer
    norm). Inputs `{"embeddings", "padding_mask"}`, output `(batch, length, embedding_dim)`."""
    inputs = {
        "embeddings": keras.Input((None, embedding_dim), name="embeddings"),
        "padding_mask": keras.Input((None,), dtype="int32", name="padding_mask"),
    }
    x = inputs["embeddings"]
    if embedding_dim != arguments["hidden_dim"]:
        x = embeddings_projection(arguments["hidden_dim"], dtype)(x)
    x = encoder_stack(x, inputs["padding_mask"], arguments, dtype)
    x = keras.layers.Dense(embedding_dim, activation="gelu", dtype=dtype, name="mlm_dense")(x)
    x = keras.layers.LayerNormalization(
        epsilon=arguments["layer_norm_epsilon"], dtype=dtype, name="mlm_layer_norm"
    )(x)
    return keras.Model(inputs, x, name="generator")


def replace_at(token_ids, positions, weights, values):
    """`token_ids` with `values[:, k]` written at `positions[:, k]` where `weights[:, k] > 0`."""
    length = ops.shape(token_ids)[1]
    slots = ops.one_hot(positions, length) * ops.cast(weights, "float32")[:, :, None]
    chosen = ops.max(slots, axis=1) > 0
    written = ops.sum(slots * ops.cast(values, "float32")[:, :, None], axis=1)
    return ops.where(chosen, ops.cast(ops.round(written), token_ids.dtype), token_ids)


@keras.saving.register_keras_serializable(package="keras_zoo")
class ElectraPretrainer(ConstructorConfig, keras.Model):
    """Replaced-token detection: a generator fills masked tokens, the discriminator spots them.

    Each step masks `mask_rate` of the real tokens (at most `num_masked` per row; a picked token
    becomes `[MASK]` with probability 0.85 and stays itself otherwise, as in ELECTRA's code);
    the generator, a narrower encoder (`generator_size` of the discriminator's width, one head
    per 64 units) on the discriminator's own embeddings (token, position and segment tables
    shared, as in the paper), predicts the masked tokens (masked-LM loss, output layer tied to
    the token table); a token is sampled from its softmax at every masked position, and the
    discriminator labels every real token of the corrupted sequence as original or replaced (a
    sampled token equal to the original counts as original). The loss is
    `mlm_loss + rtd_weight * rtd_loss`, both means over their tokens; no gradient flows through
    the sampling. The inputs are the preprocessor's unmasked `{"token_ids", "segment_ids",
    "padding_mask"}` (no targets: `fit(dataset_of_inputs)`); masking and sampling run inside
    the training step. Metrics: `loss`, `mlm_loss`, `rtd_loss`, `mlm_accuracy` (masked tokens),
    `rtd_accuracy` and `rtd_auc` (all real tokens) and `replaced_fraction` (the share of real
    tokens replaced). Read `rtd_accuracy` against its base rate `1 - replaced_fraction`, what
    always answering "original" scores: early in pretraining, while the generator's samples are
    about as plausible as unigram draws, the discriminator sits at that base rate for thousands
    of steps, and `rtd_auc` (ELECTRA's code's `disc_auc`) rising above 0.5 and `rtd_loss` falling
    below the base rate's entropy are the first signs that it learns.

    After pretraining, `discriminator.backbone` is the encoder to fine-tune, e.g. in
    `zoo.text.BertClassifier`; the generator is thrown away.

    Args:
        discriminator: an `ElectraDiscriminator` on an `ElectraBackbone`.
        mask_token_id: id of `[MASK]`.
        num_masked: masked slots per sequence (e.g. `round(0.15 * length)`, plus a few).
        special_token_ids: ids never masked (`[CLS]`, `[SEP]`, ...). Defaults to `()`.
        mask_rate: probability of masking a real token. Defaults to `0.15`.
        rtd_weight: weight of the discriminator's loss. Defaults to `50.0` (the paper's).
        generator_size: generator width as a fraction of the discriminator's. Defaults to
            `0.25` (ELECTRA-Small's; the paper finds 1/4 to 1/2 best).
        generator_num_layers: generator depth. Defaults to `None`: the discriminator's.
        seed: seed of the masking and the sampling. Defaults to `None`.
        **kwargs: `name`, `dtype` and the other `keras.Model` arguments.

    The model comes compiled with AdamW (learning rate 5e-4, weight decay 0.01), a constant
    rate; `pretrain_electra` turns it into the paper's warmup and linear decay.

    Example:

    ```python
    backbone = ElectraBackbone.from_preset("electra_small", vocabulary_size=len(vocabulary))
    pretrainer = ElectraPretrainer(ElectraDiscriminator(backbone), mask_token_id=4,
                                   num_masked=20, special_token_ids=(0, 2, 3))
    pretrainer.fit(dataset_of_preprocessed_inputs, epochs=3)
    classifier = zoo.text.BertClassifier(pretrainer.discriminator.backbone, num_classes=5)
    ```

    Reference:
        Clark et al., "ELECTRA: Pre-training Text Encoders as Discriminators Rather Than
        Generators", ICLR 2020, section 2 and appendix A.
    """

    default_learning_rate = 5e-4
    default_weight_decay = 0.01

    def __init__(
        self,
        discriminator,
        mask_token_id: int,
        num_masked: int,
        special_token_ids: Sequence[int] = (),
        mask_rate: float = 0.15,
        rtd_weight: float = 50.0,
        generator_size: float = 0.25,
        generator_num_layers: int | None = None,
        seed: int | None = None,
        **kwargs,
    ):
        if not isinstance(discriminator, ElectraDiscriminator) or not isinstance(
            discriminator.backbone, ElectraBackbone
        ):
            raise TypeError(
                "`discriminator` must be an ElectraDiscriminator on an ElectraBackbone. "
                f"Received: discriminator={discriminator!r}"
            )
        check_non_negative_int("mask_token_id", mask_token_id)
        check_positive_int("num_masked", num_masked)
        check_rate("mask_rate", mask_rate)
        check_positive_float("rtd_weight", rtd_weight)
        check_probability_open_closed("generator_size", generator_size)
        if generator_num_layers is not None:
            check_positive_int("generator_num_layers", generator_num_layers)
        dtype = resolve_dtype_policy(kwargs.pop("dtype", None))
        super().__init__(dtype=dtype, **kwargs)
        self.discriminator = discriminator
        self.mask_token_id = mask_token_id
        self.num_masked = num_masked
        self.special_token_ids = tuple(int(i) for i in special_token_ids)
        self.mask_rate = mask_rate
        self.rtd_weight = rtd_weight
        backbone = discriminator.backbone
        self.generator = build_generator(
            backbone.embedding_dim,
            generator_arguments(backbone, generator_size, generator_num_layers),
            dtype,
        )
        self.generator_bias = Bias(dtype=dtype, name="generator_bias")
        self.seed_generator = keras.random.SeedGenerator(seed, name="seed_generator")
        self.trackers = {
            name: keras.metrics.Mean(name=name) for name in ("loss", "mlm_loss", "rtd_loss")
        }
        self.mlm_accuracy = keras.metrics.SparseCategoricalAccuracy(name="mlm_accuracy")
        self.rtd_accuracy = keras.metrics.BinaryAccuracy(name="rtd_accuracy", threshold=0.0)
        self.rtd_auc = keras.metrics.AUC(from_logits=True, name="rtd_auc")
        self.replaced_fraction = keras.metrics.Mean(name="replaced_fraction")
        self.build()
        self.compile()

    def build(self, input_shape=None):
        """Builds the generator's output bias (every other weight is built already)."""
        if not self.generator_bias.built:
            vocabulary_size = self.discriminator.backbone.vocabulary_size
            self.generator_bias.build((None, None, vocabulary_size))
        self.built = True

    def compile(self, optimizer="auto", learning_rate=None, weight_decay=None, **kwargs):
        """AdamW with the class's defaults unless an `optimizer` is given; `**kwargs` go to
        `keras.Model.compile` (the losses are the model's own, so there is no `loss`)."""
        if isinstance(optimizer, str) and optimizer == "auto":
            optimizer = keras.optimizers.AdamW(
                learning_rate or self.default_learning_rate,
                weight_decay=self.default_weight_decay if weight_decay is None else weight_decay,
            )
        super().compile(optimizer=optimizer, **kwargs)

    def compile_from_config(self, config):
        # As `zoo.models.Task`: Keras skips models whose `compile` is overridden; ours takes the
        # same arguments, so the saved optimizer (and its state, restored next) comes back.
        self.compile(**keras.saving.deserialize_keras_object(config))
        self.optimizer.build(self.trainable_variables)

    @property
    def metrics(self):
        return [
            *self.trackers.values(),
            self.mlm_accuracy,
            self.rtd_accuracy,
            self.rtd_auc,
            self.replaced_fraction,
        ]

    def call(self, inputs, training=False):
        """Masks, generates, samples and discriminates; returns the tensors the losses and
        metrics need, and `"corrupted_ids"`, the sequence the discriminator scored."""
        token_ids = ops.cast(inputs["token_ids"], "int32")
        padding_mask = ops.cast(inputs["padding_mask"], "int32")
        segment_ids = inputs.get("segment_ids")
        segment_ids = ops.zeros_like(token_ids) if segment_ids is None else segment_ids
        seed = ops.cast(self.seed_generator.next(), "int32")
        _, positions, mask_ids, weights = mask_tokens(
            token_ids,
            padding_mask,
            num_masked=self.num_masked,
            vocabulary_size=self.discriminator.backbone.vocabulary_size,
            mask_token_id=self.mask_token_id,
            special_ids=self.special_token_ids,
            mask_rate=self.mask_rate,
            seed=seed,
        )
        keep = tf.random.stateless_uniform(ops.shape(positions), seed=seed + 7) < 0.15
        masked_values = ops.where(keep, mask_ids, self.mask_token_id)
        masked_ids = replace_at(token_ids, positions, weights, masked_values)

        backbone = self.discriminator.backbone
        embedded = embed_tokens(backbone, masked_ids, segment_ids)
        hidden = self.generator({"embeddings": embedded, "padding_mask": padding_mask})
        gathered = ops.take_along_axis(hidden, positions[:, :, None], axis=1)
        mlm_logits = self.generator_bias(backbone.token_embedding(gathered, reverse=True))
        mlm_logits = ops.cast(mlm_logits, "float32")

        flat = ops.reshape(ops.stop_gradient(mlm_logits), (-1, backbone.vocabulary_size))
        sampled = keras.random.categorical(flat, 1, seed=self.seed_generator, dtype="int32")
        sampled = ops.reshape(sampled, ops.shape(positions))
        corrupted = replace_at(token_ids, positions, weights, sampled)
        rtd_labels = ops.cast(ops.not_equal(corrupted, token_ids), "float32")
        rtd_logits = self.discriminator(
            {"token_ids": corrupted, "segment_ids": segment_ids, "padding_mask": padding_mask},
            training=training,
        )
        return {
            "mlm_logits": mlm_logits,
            "mask_ids": mask_ids,
            "mask_positions": positions,
            "mask_weights": weights,
            "rtd_logits": ops.cast(rtd_logits, "float32"),
            "rtd_labels": rtd_labels,
            "corrupted_ids": corrupted,
            "padding_mask": ops.cast(padding_mask, "float32"),
        }

    def pretraining_losses(self, out: dict):
        mlm = keras.losses.sparse_categorical_crossentropy(
            out["mask_ids"], out["mlm_logits"], from_logits=True
        )
        mlm = ops.sum(mlm * out["mask_weights"]) / ops.maximum(ops.sum(out["mask_weights"]), 1.0)
        rtd = ops.binary_crossentropy(out["rtd_labels"], out["rtd_logits"], from_logits=True)
        mask = out["padding_mask"]
        rtd = ops.sum(rtd * mask) / ops.maximum(ops.sum(mask), 1.0)
        return mlm + self.rtd_weight * rtd, mlm, rtd

    def _update_metrics(self, out: dict, losses) -> dict:
        for tracker, value in zip(self.trackers.values(), losses, strict=True):
            tracker.update_state(value)
        self.mlm_accuracy.update_state(
            out["mask_ids"], out["mlm_logits"], sample_weight=out["mask_weights"]
        )
        self.rtd_accuracy.update_state(
            out["rtd_labels"], out["rtd_logits"], sample_weight=out["padding_mask"]
        )
        self.rtd_auc.update_state(
            out["rtd_labels"], out["rtd_logits"], sample_weight=out["padding_mask"]
        )
        self.replaced_fraction.update_state(out["rtd_labels"], sample_weight=out["padding_mask"])
        return {metric.name: metric.result() for metric in self.metrics}

    @staticmethod
    def _inputs(data):
        return data[0] if isinstance(data, tuple) else data

    def train_step(self, data):
        with tf.GradientTape() as tape:
            out = self(self._inputs(data), training=True)
            losses = self.pretraining_losses(out)
            scaled = self.optimizer.scale_loss(losses[0])
        variables = self.trainable_variables
        gradients = tape.gradient(scaled, variables)
        self.optimizer.apply(gradients, variables)
        return self._update_metrics(out, losses)

    def test_step(self, data):
        out = self(self._inputs(data), training=False)
        return self._update_metrics(out, self.pretraining_losses(out))
