"""Prototypical Networks: few-shot classification by distance to class-mean embeddings."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from layers.validation import check_choice, check_positive_float, check_positive_int

DISTANCES = ("euclidean", "cosine")
# Logit of a class column that has no support example (the episode has fewer classes than
# support examples): finite, so no NaN appears, and far below any real logit.
_ABSENT_CLASS_LOGIT = -1e9


def embed(encoder, images, training=None) -> tf.Tensor:
    """The encoder's embedding of `images` as float32 vectors `[batch, dim]`.

    An encoder returning a dict (a zoo backbone such as `Conv4Backbone`) gives its
    `"embedding"` entry; any output of rank above 2 is flattened.
    """
    outputs = encoder(images, training=training)
    if isinstance(outputs, dict):
        if "embedding" not in outputs:
            raise ValueError(
                "An encoder that returns a dict must have an 'embedding' output (wrap another "
                "backbone in a model that returns one tensor). "
                f"Received: encoder outputs {sorted(outputs)}"
            )
        outputs = outputs["embedding"]
    outputs = keras.ops.cast(outputs, "float32")
    if len(outputs.shape) == 2:
        return outputs
    features = outputs.shape[1:]
    size = int(np.prod(features)) if None not in features else -1
    return keras.ops.reshape(outputs, (-1, size))


def prototype_logits(queries, prototypes, distance: str, cosine_scale: float):
    """Logits `[..., num_queries, num_prototypes]` of queries `[..., num_queries, dim]` against
    prototypes `[..., num_prototypes, dim]`: negative squared Euclidean distances, or
    `cosine_scale` times the cosine similarities."""
    if distance == "cosine":
        queries = keras.ops.normalize(queries, axis=-1)
        prototypes = keras.ops.normalize(prototypes, axis=-1)
        return cosine_scale * keras.ops.einsum("...qd,...cd->...qc", queries, prototypes)
    # |q - p|^2 = |q|^2 - 2 q.p + |p|^2, one matmul instead of a [Q, N, D] difference.
    cross = keras.ops.einsum("...qd,...cd->...qc", queries, prototypes)
    query_norms = keras.ops.sum(keras.ops.square(queries), axis=-1)[..., :, None]
    prototype_norms = keras.ops.sum(keras.ops.square(prototypes), axis=-1)[..., None, :]
    return -(query_norms - 2.0 * cross + prototype_norms)


def class_prototypes(support_embeddings, support_y):
    """Mean embedding per label, `[..., num_support, dim]`, and which rows have an example.

    Row `c` is the mean of the embeddings labelled `c` (of the same episode, for a batch of
    episodes `[batch, num_support, dim]`). The table has as many rows as support examples (an
    upper bound on the classes that XLA can see at trace time); rows of labels that do not
    occur are zero and marked absent.
    """
    depth = support_embeddings.shape[-2] or keras.ops.shape(support_embeddings)[-2]
    one_hot = keras.ops.one_hot(keras.ops.cast(support_y, "int32"), depth, dtype="float32")
    counts = keras.ops.sum(one_hot, axis=-2)
    sums = keras.ops.einsum("...sc,...sd->...cd", one_hot, support_embeddings)
    return sums / keras.ops.maximum(counts, 1.0)[..., None], counts > 0


def check_support_labels(support_y) -> int:
    """The number of classes of a support set whose labels must be exactly `0..n_way-1`."""
    labels = np.asarray(support_y)
    if labels.ndim != 1 or labels.size == 0 or labels.dtype.kind not in "iu":
        raise ValueError(
            "`support_y` must be a non-empty vector of integer labels. "
            f"Received: support_y with shape {labels.shape} and dtype {labels.dtype}"
        )
    present = np.unique(labels)
    n_way = int(present.max()) + 1
    if present.min() < 0 or len(present) != n_way:
        missing = sorted(set(range(n_way)) - set(present.tolist()))
        raise ValueError(
            "`support_y` must hold every label 0..n_way-1 at least once (relabel episodes as "
            f"EpisodeSampler does). Received: support_y with labels {present.tolist()}, "
            f"missing {missing}"
        )
    return n_way


@keras.saving.register_keras_serializable(package="keras_zoo")
class PrototypicalNetwork(keras.Model):
    """Prototypical Networks: classify a query by its distance to each class's mean embedding.

    Each episode's support examples are embedded by `encoder`; a class's *prototype* is the
    mean embedding of its support examples, and a query's logit for a class is the negative
    squared Euclidean distance to its prototype (or a scaled cosine similarity). Training
    (`fit` on `EpisodeSampler.dataset()`, one episode per step, or on `.batch(n)` of it, n
    episodes per step) minimises the softmax cross-entropy of the query labels over these
    logits (Snell et al. 2017, "Prototypical Networks
    for Few-shot Learning", https://arxiv.org/abs/1703.05175, Algorithm 1). The model comes
    compiled (Adam, learning rate 1e-3, as in the paper; see `compile`); `evaluate` reports
    the query loss and accuracy of episodes. Calling the model embeds images.

    Args:
        encoder: a `keras.Model` mapping images to embeddings: a tensor (flattened if its rank
            is above 2) or a dict with an `"embedding"` entry, such as `Conv4Backbone`
            (registered as `protonet_conv4`).
        distance: `"euclidean"` (squared, the paper's choice) or `"cosine"`. Defaults to
            `"euclidean"`.
        cosine_scale: factor on the cosine similarities (in [-1, 1], too flat for a softmax
            unscaled), used with `distance="cosine"`. Defaults to `10.0`.

    Example:

    ```python
    sampler = EpisodeSampler(x_train, y_train, n_way=5, k_shot=5, n_query=15)
    proto = PrototypicalNetwork(Conv4Backbone(image_size=8, num_channels=1))
    proto.fit(sampler.dataset(), steps_per_epoch=100, epochs=5)
    logits = proto.classify(support_x, support_y, query_x)  # [num_queries, n_way]
    classifier = proto.with_prototypes(support_x, support_y)  # a keras.Model for serving
    ```
    """

    def __init__(self, encoder, distance: str = "euclidean", cosine_scale: float = 10.0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(encoder, keras.Model):
            raise TypeError(f"`encoder` must be a keras.Model. Received: encoder={encoder!r}")
        self.encoder = encoder
        self.distance = check_choice("distance", distance, DISTANCES)
        self.cosine_scale = check_positive_float("cosine_scale", cosine_scale)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy_tracker = keras.metrics.Mean(name="accuracy")
        self._classify_function = None
        self.built = encoder.built  # the network's only weights are the encoder's
        self.compile()

    def compile(self, optimizer="auto", learning_rate: float = 1e-3, **kwargs):
        """Configures training: the episode loss is built in, so there is no `loss` argument.

        Args:
            optimizer: an optimizer, or `"auto"` for `keras.optimizers.Adam(learning_rate)`.
                Defaults to `"auto"`.
            learning_rate: learning rate of the `"auto"` optimizer. Defaults to `1e-3`.
            **kwargs: passed to `keras.Model.compile` (`jit_compile`, `steps_per_execution`).
        """
        check_positive_float("learning_rate", learning_rate)
        if isinstance(optimizer, str) and optimizer == "auto":
            optimizer = keras.optimizers.Adam(learning_rate)
        for name in ("loss", "metrics"):
            if kwargs.pop(name, None) is not None:
                raise ValueError(
                    f"PrototypicalNetwork has its own episode loss and metrics; `{name}` cannot "
                    f"be set. Received: {name} given to compile"
                )
        super().compile(optimizer=optimizer, **kwargs)

    def compile_from_config(self, config):
        # Keras skips models whose `compile` is overridden; ours takes the same arguments, so the
        # saved optimizer (and its state, restored right after) comes back on load.
        config = keras.saving.deserialize_keras_object(config)
        config.pop("loss", None)
        config.pop("metrics", None)
        config.pop("loss_weights", None)
        config.pop("weighted_metrics", None)
        self.compile(**config)
        self.optimizer.build(self.trainable_variables)

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy_tracker]

    def call(self, images, training=None):
        return embed(self.encoder, images, training=training)

    def episode_logits(self, support_x, support_y, query_x, training=None):
        """Query logits against the support prototypes, `[num_queries, num_support]`.

        One column per possible label (as many as support examples, the most an episode can
        have); columns of labels absent from `support_y` hold a large negative logit, so the
        softmax and the argmax are those over the episode's classes. Works under XLA. A batch
        of episodes (`support_y` of shape `[batch, num_support]`, the others with a leading
        batch axis too) gives `[batch, num_queries, num_support]`; all its images go through
        the encoder in one call.
        """
        if len(support_y.shape) == 1:
            logits = self.episode_logits(
                support_x[None], support_y[None], query_x[None], training=training
            )
            return logits[0]
        num_support, num_query = support_x.shape[1], query_x.shape[1]
        example_shape = tuple(support_x.shape[2:])
        images = keras.ops.concatenate(
            [
                keras.ops.reshape(support_x, (-1, *example_shape)),
                keras.ops.reshape(query_x, (-1, *example_shape)),
            ],
            axis=0,
        )
        embeddings = embed(self.encoder, images, training)
        dim = embeddings.shape[-1]
        split = keras.ops.shape(support_x)[0] * num_support
        support = keras.ops.reshape(embeddings[:split], (-1, num_support, dim))
        queries = keras.ops.reshape(embeddings[split:], (-1, num_query, dim))
        prototypes, present = class_prototypes(support, support_y)
        logits = prototype_logits(queries, prototypes, self.distance, self.cosine_scale)
        return keras.ops.where(present[:, None, :], logits, _ABSENT_CLASS_LOGIT)

    def _episode_loss(self, data, training):
        support_x, support_y, query_x, query_y = data
        logits = self.episode_logits(support_x, support_y, query_x, training=training)
        loss = keras.ops.mean(
            keras.losses.sparse_categorical_crossentropy(query_y, logits, from_logits=True)
        )
        predicted = keras.ops.cast(keras.ops.argmax(logits, axis=-1), query_y.dtype)
        accuracy = keras.ops.mean(keras.ops.cast(predicted == query_y, "float32"))
        return loss, accuracy

    def _record(self, loss, accuracy):
        self.loss_tracker.update_state(loss)
        self.accuracy_tracker.update_state(accuracy)
        return {"loss": self.loss_tracker.result(), "accuracy": self.accuracy_tracker.result()}

    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss, accuracy = self._episode_loss(data, training=True)
            scaled = self.optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        return self._record(loss, accuracy)

    def test_step(self, data):
        return self._record(*self._episode_loss(data, training=False))

    def classify(self, support_x, support_y, query_x) -> tf.Tensor:
        """Logits `[num_queries, n_way]` of the queries against the support's prototypes.

        Args:
            support_x: support examples `[n_way * k_shot, ...]`.
            support_y: their labels, each of `0..n_way-1` at least once (any order).
            query_x: examples to classify `[num_queries, ...]`.

        Returns:
            The logits: negative squared distances (or scaled cosine similarities) to each
            class prototype, the encoder in inference mode.
        """
        n_way = check_support_labels(support_y)
        if self._classify_function is None:
            self._classify_function = tf.function(
                lambda sx, sy, qx: self.episode_logits(sx, sy, qx, training=False),
                jit_compile=self.jit_compile is True,
                reduce_retracing=True,
            )
        logits = self._classify_function(
            tf.convert_to_tensor(support_x), tf.convert_to_tensor(support_y), query_x
        )
        return logits[:, :n_way]

    def with_prototypes(self, support_x, support_y, name: str | None = None) -> keras.Model:
        """A functional model mapping images to logits over a fixed support set's classes.

        The prototypes are computed once (encoder in inference mode) and stored in a
        `PrototypeLogits` layer after the shared encoder, so the model saves as `.keras` and
        exports with `serving.export` like any classifier.

        Args:
            support_x: the support examples `[num_support, ...]`.
            support_y: their labels, each of `0..num_classes-1` at least once.
            name: the model's name. Defaults to `None` (Keras's default).

        Returns:
            A `keras.Model` from images `[batch, ...]` to logits `[batch, num_classes]`.
        """
        num_classes = check_support_labels(support_y)
        embeddings = self(tf.convert_to_tensor(support_x), training=False)
        prototypes, _ = class_prototypes(embeddings, tf.convert_to_tensor(support_y))
        prototypes = keras.ops.convert_to_numpy(prototypes)[:num_classes]
        images = keras.Input(shape=tuple(support_x.shape[1:]), name="images")
        head = PrototypeLogits(
            num_classes, self.distance, self.cosine_scale, name="logits", dtype="float32"
        )
        model = keras.Model(images, head(embed(self.encoder, images)), name=name)
        head.prototypes.assign(prototypes)
        return model

    def get_config(self):
        config = super().get_config()
        config.update(
            encoder=keras.saving.serialize_keras_object(self.encoder),
            distance=self.distance,
            cosine_scale=self.cosine_scale,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        return cls(**config)


@keras.saving.register_keras_serializable(package="keras_zoo")
class PrototypeLogits(keras.layers.Layer):
    """Logits of embeddings against fixed class prototypes (a Prototypical Network's head).

    Holds the prototypes `[num_classes, dim]` as a non-trainable weight, set with
    `layer.prototypes.assign(...)` once built (`PrototypicalNetwork.with_prototypes` does it).

    Args:
        num_classes: number of prototypes.
        distance: `"euclidean"` (negative squared distances) or `"cosine"`. Defaults to
            `"euclidean"`.
        cosine_scale: factor on the cosine similarities. Defaults to `10.0`.

    Example:

    ```python
    head = PrototypeLogits(5)
    logits = head(embeddings)  # [batch, 5]
    ```
    """

    def __init__(
        self, num_classes: int, distance: str = "euclidean", cosine_scale: float = 10.0, **kwargs
    ):
        super().__init__(**kwargs)
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.distance = check_choice("distance", distance, DISTANCES)
        self.cosine_scale = check_positive_float("cosine_scale", cosine_scale)

    def build(self, input_shape):
        self.prototypes = self.add_weight(
            shape=(self.num_classes, input_shape[-1]),
            initializer="zeros",
            trainable=False,
            name="prototypes",
        )

    def call(self, embeddings):
        embeddings = keras.ops.cast(embeddings, "float32")
        return prototype_logits(embeddings, self.prototypes, self.distance, self.cosine_scale)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_classes=self.num_classes, distance=self.distance, cosine_scale=self.cosine_scale
        )
        return config
