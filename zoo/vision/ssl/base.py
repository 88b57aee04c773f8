"""What SimCLR and MoCo share: the encoder's features, the augmentation, the head, compile."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import ops

from layers.validation import check_positive_float, check_positive_int
from zoo.vision.ssl.augmentation import SimCLRAugmentation
from zoo.vision.ssl.encoder import feature_model, serialize_encoder
from zoo.vision.ssl.heads import projection_head


def l2_normalize(x):
    return x / ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=-1, keepdims=True), 1e-12))


def num_replicas() -> int:
    return tf.distribute.get_strategy().num_replicas_in_sync


class ContrastiveLearner(keras.Model):
    """A `keras.Model` that trains `encoder` on unlabelled images with two augmented views.

    `fit` takes images (arrays or a `tf.data` dataset of images; labels, if any, are ignored);
    `call` returns the encoder's `[batch, features]` representation. The model comes compiled
    with AdamW (`compile()` again to change it). Subclasses define `train_step`.
    """

    default_learning_rate = 1e-3
    default_weight_decay = 1e-4

    def __init__(
        self,
        encoder: keras.Model,
        projection_dims: int = 128,
        hidden_dims: int | None = None,
        temperature: float = 0.1,
        augmentation: keras.layers.Layer | None = None,
        **kwargs,
    ):
        check_positive_int("projection_dims", projection_dims)
        check_positive_int("hidden_dims", hidden_dims, allow_none=True)
        temperature = check_positive_float("temperature", temperature)
        if isinstance(encoder, dict):
            encoder = keras.saving.deserialize_keras_object(encoder)
        if isinstance(augmentation, dict):
            augmentation = keras.saving.deserialize_keras_object(augmentation)
        if not isinstance(encoder, keras.Model):
            raise TypeError(
                "`encoder` must be a built keras.Model taking NHWC images. "
                f"Received: encoder={encoder!r}"
            )
        # The encoder's policy: a mixed_float16 encoder gets a loss-scaled optimizer, also
        # when it is reloaded under another global policy.
        kwargs["dtype"] = encoder.dtype_policy
        super().__init__(**kwargs)
        self.temperature = temperature
        self.encoder = encoder
        self.features = feature_model(encoder)
        self.image_shape = tuple(self.features.inputs[0].shape[1:])
        feature_dims = int(self.features.outputs[0].shape[-1])
        self.projection_dims = projection_dims
        self.hidden_dims = hidden_dims
        self.head = projection_head(
            feature_dims, hidden_dims or feature_dims, projection_dims, dtype=encoder.dtype_policy
        )
        self.augmentation = augmentation if augmentation is not None else SimCLRAugmentation()
        if not self.augmentation.built:
            self.augmentation.build((None, *self.image_shape))
        self.built = True
        self.compile()

    def compile(self, optimizer="auto", learning_rate=None, weight_decay=None, **kwargs):
        """Keras's `compile`; `"auto"` is AdamW with the class's learning rate and decay.

        Args:
            optimizer: an optimizer or `"auto"`.
            learning_rate: learning rate of `"auto"`. Defaults to `1e-3`.
            weight_decay: weight decay of `"auto"`. Defaults to `1e-4`.
            **kwargs: passed to `keras.Model.compile` (the loss is the model's own).
        """
        if isinstance(optimizer, str) and optimizer == "auto":
            optimizer = keras.optimizers.AdamW(
                learning_rate or self.default_learning_rate,
                weight_decay=self.default_weight_decay if weight_decay is None else weight_decay,
            )
        kwargs.pop("loss", None)
        super().compile(optimizer=optimizer, **kwargs)

    def compile_from_config(self, config):
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        self.optimizer.build(self.learned_variables)  # so that the saved state loads

    @property
    def learned_variables(self) -> list:
        """The variables the optimizer trains: the encoder's features and the head."""
        seen, variables = set(), []
        for variable in self.features.trainable_variables + self.head.trainable_variables:
            if id(variable) not in seen:
                seen.add(id(variable))
                variables.append(variable)
        return variables

    def call(self, images, training=None):
        return self.features(images, training=training)

    def project(self, images, training=None):
        """The head's projection of the features of `images`, in float32."""
        return ops.cast(
            self.head(self.features(images, training=training), training=training), "float32"
        )

    def check_images(self, images):
        if len(images.shape) != 4:
            raise ValueError(
                f"{type(self).__name__} takes NHWC image batches of rank 4. "
                f"Received: images.shape={tuple(images.shape)}"
            )
        if tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(
                f"{type(self).__name__}'s encoder takes images of shape {self.image_shape}. "
                f"Received: images.shape={tuple(images.shape)}"
            )

    def images_from(self, data):
        images, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        images = ops.convert_to_tensor(images)
        self.check_images(images)
        return ops.cast(images, self.compute_dtype)

    def views(self, images):
        """Two independent random views of `images`."""
        return self.augmentation(images, training=True), self.augmentation(images, training=True)

    def apply_loss(self, tape, loss):
        """Gradients of `loss` (a replica's mean) for the trainable variables, applied."""
        with tape:  # resumes recording: the scaling is part of the differentiated graph
            loss = loss + sum(self.losses) if self.losses else loss
            scaled = self.optimizer.scale_loss(loss / num_replicas())
        variables = self.learned_variables
        gradients = tape.gradient(scaled, variables)
        self.optimizer.apply(gradients, variables)
        self._loss_tracker.update_state(loss)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        raise NotImplementedError(
            f"{type(self).__name__} has no evaluation loss: measure the encoder with "
            "`zoo.vision.linear_probe`. Received: a call to evaluate"
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "encoder": serialize_encoder(self.encoder),
            "projection_dims": self.projection_dims,
            "hidden_dims": self.hidden_dims,
            "temperature": self.temperature,
            "augmentation": keras.saving.serialize_keras_object(self.augmentation),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
