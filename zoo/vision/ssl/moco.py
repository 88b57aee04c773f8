"""MoCo v2 (He et al. 2020; Chen et al. 2020): a momentum encoder and a queue of negatives."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from layers.validation import check_bool, check_positive_int, check_unit_interval
from zoo.vision.ssl.base import ContrastiveLearner, l2_normalize
from zoo.vision.ssl.encoder import feature_model, serialize_encoder


def _clone(model: keras.Model) -> keras.Model:
    return keras.saving.deserialize_keras_object(serialize_encoder(model))


def _cross_replica(fn, *args):
    """Runs `fn(*args)` once per step: in a merge call inside a replica, else directly.

    `args` must be the same on every replica (the first replica's values are used).
    """
    context = tf.distribute.get_replica_context()
    if context is None or tf.distribute.get_strategy().num_replicas_in_sync == 1:
        return fn(*args)

    def merged(strategy, *per_replica):
        return fn(*[strategy.experimental_local_results(a)[0] for a in per_replica])

    return context.merge_call(merged, args=args)


# Shuffling BN on one device: the batch is split into this many groups, each normalised with
# its own statistics (as on that many devices).
SINGLE_DEVICE_GROUPS = 2


def in_groups(fn, x, groups: int = SINGLE_DEVICE_GROUPS):
    """`fn` applied to `groups` contiguous slices of `x` (the last takes the remainder)."""
    size = tf.shape(x)[0] // groups
    parts = [x[i * size : (i + 1) * size] for i in range(groups - 1)]
    parts.append(x[(groups - 1) * size :])
    return tf.concat([fn(part) for part in parts], axis=0)


def check_queue_size(queue_size: int, batch_size: int) -> None:
    """MoCo enqueues whole batches: `queue_size` must be a multiple of the (global) batch."""
    if batch_size > queue_size or queue_size % batch_size:
        raise ValueError(
            "`queue_size` must be a multiple of the batch size (the whole batch of keys is "
            f"enqueued each step). Received: queue_size={queue_size}, batch_size={batch_size}"
        )


@keras.saving.register_keras_serializable(package="keras_zoo")
class MoCo(ContrastiveLearner):
    """MoCo v2: queries match their keys from a slowly moving encoder, against a queue of keys.

    Each step draws two views of every image (the query and key views, SimCLR's augmentation
    by default, as in MoCo v2). The key encoder, a copy of `encoder` and the MLP head, first
    moves toward the query encoder (`key = momentum * key + (1 - momentum) * query`, weights
    only; its BatchNormalization statistics come from its own batches), then encodes the key
    views without gradients. The loss is the InfoNCE cross-entropy over
    `[q . k+, q . queue] / temperature` (L2-normalised projections), with the positive first.
    The batch's keys then replace the oldest `batch` rows of the queue (first in, first
    out). The queue and its write position are non-trainable variables: they are saved
    in a `.keras` file and training resumes with them.

    `shuffle_bn=True` is the paper's shuffling BatchNormalization, which keeps the model from
    telling the positive key (the only key of the current batch) by shared batch statistics.
    Under a `tf.distribute.MirroredStrategy` with several replicas the key views of all
    replicas are gathered, shuffled with a permutation every replica draws alike, encoded in
    shuffled shares and unshuffled; each replica enqueues the keys of the whole global batch.
    On one device the batch is encoded in two groups with their own statistics, contiguous
    halves for the queries and halves of a shuffled batch for the keys.

    Args:
        encoder: a built zoo image network (see `SimCLR`); it is the query encoder.
        queue_size: number of negative keys kept; a multiple of the global batch size.
            Defaults to `4096`.
        momentum: momentum of the key encoder, in [0, 1). Defaults to `0.999`.
        temperature: positive softmax temperature. Defaults to `0.2`.
        projection_dims: size of the projection. Defaults to `128`.
        hidden_dims: width of the head's hidden layer, `None` for the feature size.
            Defaults to `None`.
        shuffle_bn: shuffle the key views' BatchNormalization groups (across replicas, or
            two groups on one device). Defaults to `True`.
        augmentation: the layer drawing a view. Defaults to `None`: `SimCLRAugmentation()`.
        **kwargs: `name` and other `keras.Model` arguments.

    Example:

    ```python
    encoder = zoo.create("cnn_digits", input_shape=(32, 32, 3))
    moco = zoo.vision.MoCo(encoder, queue_size=1024, momentum=0.99, temperature=0.2)
    moco.fit(unlabelled_images, batch_size=128, epochs=20)
    moco.save("moco.keras")  # the queue and the key encoder are saved with it
    ```

    Reference:
        He, Fan, Wu, Xie and Girshick, "Momentum Contrast for Unsupervised Visual
        Representation Learning", CVPR 2020; Chen, Fan, Girshick and He, "Improved Baselines
        with Momentum Contrastive Learning", 2020.
    """

    def __init__(
        self,
        encoder: keras.Model,
        queue_size: int = 4096,
        momentum: float = 0.999,
        temperature: float = 0.2,
        projection_dims: int = 128,
        hidden_dims: int | None = None,
        shuffle_bn: bool = True,
        augmentation: keras.layers.Layer | None = None,
        **kwargs,
    ):
        check_positive_int("queue_size", queue_size)
        check_unit_interval("momentum", momentum, include_low=True, include_high=False)
        check_bool("shuffle_bn", shuffle_bn)
        super().__init__(
            encoder,
            projection_dims=projection_dims,
            hidden_dims=hidden_dims,
            temperature=temperature,
            augmentation=augmentation,
            **kwargs,
        )
        self.queue_size = queue_size
        self.momentum = float(momentum)
        self.shuffle_bn = shuffle_bn
        self.key_encoder = _clone(self.encoder)
        self.key_features = feature_model(self.key_encoder, name="key_features")
        self.key_head = _clone(self.head)
        pairs = list(zip(self._query_weights(), self._key_weights(), strict=True))
        for query, key in pairs:
            key.assign(query)
        # The key encoder learns by momentum only; its layers stay trainable so that its
        # BatchNormalization runs on batch statistics.
        self._momentum_pairs = [(q, k) for q, k in pairs if q.trainable]
        for key in self.key_encoder.weights + self.key_head.weights:
            key.trainable = False
        rng = np.random.default_rng(0)
        initial = rng.normal(size=(queue_size, projection_dims)).astype("float32")
        initial /= np.linalg.norm(initial, axis=1, keepdims=True)
        self.queue = self.add_weight(
            shape=(queue_size, projection_dims),
            initializer=keras.initializers.Constant(initial),
            dtype="float32",
            trainable=False,
            name="queue",
        )
        self.queue_pointer = self.add_weight(
            shape=(), initializer="zeros", dtype="int32", trainable=False, name="queue_pointer"
        )
        self.compile()  # the optimizer must not see the key encoder's weights

    def _query_weights(self):
        return self.features.weights + self.head.weights

    def _key_weights(self):
        return self.key_features.weights + self.key_head.weights

    def fit(self, x=None, y=None, batch_size=None, **kwargs):
        """Keras's `fit` on unlabelled images; checks `queue_size` against `batch_size`."""
        if not isinstance(x, tf.data.Dataset) and x is not None and hasattr(x, "shape"):
            global_batch = min(batch_size or 32, int(x.shape[0]))
            check_queue_size(self.queue_size, global_batch)
        return super().fit(x, y, batch_size=batch_size, **kwargs)

    def momentum_update(self):
        """Moves each key weight toward its query weight: `k = m k + (1 - m) q`."""

        def update():
            for query, key in self._momentum_pairs:
                key.assign(self.momentum * key + (1.0 - self.momentum) * ops.cast(query, key.dtype))

        _cross_replica(update)

    def enqueue(self, keys):
        """Writes `keys` (`[batch, projection_dims]`, normalised) over the oldest queue rows."""

        def write(keys):
            count = ops.shape(keys)[0]
            rows = (self.queue_pointer + ops.arange(count, dtype="int32")) % self.queue_size
            self.queue.assign(
                tf.tensor_scatter_nd_update(self.queue, ops.expand_dims(rows, 1), keys)
            )
            self.queue_pointer.assign((self.queue_pointer + count) % self.queue_size)

        _cross_replica(write, keys)

    def _encode_keys(self, views):
        return l2_normalize(
            ops.cast(
                self.key_head(self.key_features(views, training=True), training=True), "float32"
            )
        )

    def _seed(self):
        # The same on every replica: the permutation is drawn alike everywhere.
        return tf.stack([tf.cast(self.optimizer.iterations, "int64"), tf.constant(7, "int64")])

    def _project_queries(self, views):
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        if self.shuffle_bn and replicas == 1:
            return in_groups(lambda part: self.project(part, training=True), views)
        return self.project(views, training=True)

    def keys(self, views):
        """`(this replica's keys, the global batch's keys)`, shuffling BN across replicas."""
        context = tf.distribute.get_replica_context()
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        if context is None or replicas == 1:
            if not self.shuffle_bn:
                keys = self._encode_keys(views)
                return keys, keys
            # One device: the shuffled batch is encoded in SINGLE_DEVICE_GROUPS groups, each
            # with its own BatchNormalization statistics (the queries use contiguous groups).
            order = tf.argsort(tf.random.stateless_uniform(tf.shape(views)[:1], seed=self._seed()))
            shuffled = in_groups(self._encode_keys, tf.gather(views, order))
            keys = tf.gather(shuffled, tf.argsort(order))
            return keys, keys
        local = tf.shape(views)[0]
        start = context.replica_id_in_sync_group * local
        every_view = context.all_gather(views, axis=0)
        if not self.shuffle_bn:
            keys = self._encode_keys(views)
            return keys, context.all_gather(keys, axis=0)
        order = tf.argsort(tf.random.stateless_uniform(tf.shape(every_view)[:1], seed=self._seed()))
        share = self._encode_keys(tf.gather(every_view, order[start : start + local]))
        shuffled_keys = context.all_gather(share, axis=0)
        every_key = tf.gather(shuffled_keys, tf.argsort(order))
        return every_key[start : start + local], every_key

    def train_step(self, data):
        images = self.images_from(data)
        batch = images.shape[0]
        if batch is not None:
            check_queue_size(
                self.queue_size, batch * tf.distribute.get_strategy().num_replicas_in_sync
            )
        query_views, key_views = self.views(images)
        self.momentum_update()
        keys, every_key = self.keys(key_views)
        keys, every_key = tf.stop_gradient(keys), tf.stop_gradient(every_key)
        with tf.GradientTape() as tape:
            queries = l2_normalize(self._project_queries(query_views))
            positive = ops.sum(queries * keys, axis=-1, keepdims=True)
            negative = ops.matmul(queries, ops.transpose(tf.stop_gradient(self.queue.value)))
            logits = ops.concatenate([positive, negative], axis=1) / self.temperature
            loss = ops.mean(
                keras.losses.sparse_categorical_crossentropy(
                    ops.zeros(ops.shape(logits)[:1], "int32"), logits, from_logits=True
                )
            )
        metrics = self.apply_loss(tape, loss)
        self.enqueue(every_key)
        return metrics

    def get_config(self):
        return {
            **super().get_config(),
            "queue_size": self.queue_size,
            "momentum": self.momentum,
            "shuffle_bn": self.shuffle_bn,
        }
