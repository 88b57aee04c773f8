"""SimCLR (Chen et al. 2020): contrastive learning between two augmented views."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from layers.losses import NTXentLoss
from zoo.vision.ssl.base import ContrastiveLearner, l2_normalize, num_replicas


def nt_xent_against_global_batch(
    projection_a, projection_b, every_a, every_b, start, temperature: float
):
    """NT-Xent of this replica's anchors against the `2M` views of the global batch.

    `projection_a`, `projection_b` (`[n, dim]`) are the two views of this replica's `n`
    examples, rows `start .. start + n` of the gathered `every_a`, `every_b` (`[M, dim]`).
    The global views are ordered as `layers.NTXentLoss` orders them, all first views then
    all second views; each anchor's positive is its other view and its own row is left out.
    Returns the sum of the `2n` anchors' losses divided by `2M`: the replicas' results add
    up to the single-device loss of the global batch.

    Args:
        projection_a, projection_b: this replica's projections of the two views, `[n, dim]`.
        every_a, every_b: every replica's projections in replica order, `[M, dim]`.
        start: this replica's first row in `every_a` (an int32 scalar).
        temperature: the softmax temperature.

    Example:

    ```python
    # one device: the whole batch is its own global batch, the loss is NTXentLoss's
    loss = nt_xent_against_global_batch(z_a, z_b, z_a, z_b, 0, temperature=0.1)
    ```

    Reference:
        Chen et al., "A Simple Framework for Contrastive Learning of Visual Representations",
        ICML 2020, section 2 ("Training with large batch size").
    """
    anchors = l2_normalize(ops.concatenate([projection_a, projection_b], axis=0))
    candidates = l2_normalize(ops.concatenate([every_a, every_b], axis=0))
    logits = ops.matmul(anchors, ops.transpose(candidates)) / temperature
    local, total = ops.shape(projection_a)[0], ops.shape(every_a)[0]
    rows = start + ops.arange(local, dtype="int32")
    own = ops.concatenate([rows, rows + total], axis=0)
    partner = ops.concatenate([rows + total, rows], axis=0)
    logits = logits - 1e9 * ops.one_hot(own, 2 * total, dtype=logits.dtype)
    positive = ops.take_along_axis(logits, ops.expand_dims(partner, 1), axis=1)[:, 0]
    return ops.sum(ops.logsumexp(logits, axis=1) - positive) / ops.cast(2 * total, logits.dtype)


@keras.saving.register_keras_serializable(package="keras_zoo")
class SimCLR(ContrastiveLearner):
    """SimCLR: the two views of each image attract, the other images of the batch repel.

    Each step draws two random views of every image (`augmentation`, by default
    `SimCLRAugmentation`: crop-and-resize, flip, colour jitter, grayscale, blur), encodes
    them with `encoder`, projects the features with the MLP head and minimises
    `layers.NTXentLoss` (normalised temperature-scaled cross-entropy; the `2N - 2` other views
    of the batch are the negatives). `fit` takes unlabelled images; afterwards `encoder` (its
    layers are trained in place) is what `linear_probe` or `fine_tune` uses, and `call` returns
    its pooled features.

    Under a `tf.distribute.MirroredStrategy` with several replicas the negatives are those of
    the global batch, as in the paper (section 2, "Training with large batch size"): every
    replica gathers the projections of all replicas (`all_gather`, whose gradient flows back
    to the replica that made each projection) and contrasts its own anchors against the `2N`
    global views. Built under such a strategy, every BatchNormalization layer of the encoder
    and of the head is synchronised across replicas (`synchronized=True`, the paper's global
    BN; this also sets it on the encoder's layers, which SimCLR trains in place). One step
    then computes the loss and the gradients of a single-device step on the global batch
    (up to float rounding; the random views differ, being drawn per replica).

    Args:
        encoder: a built zoo image network: a backbone (ViT, Swin, MobileNetV2, ResNet), a
            classifier (the head is cut, see `feature_model`) or any functional NHWC model.
        projection_dims: size of the projection. Defaults to `128`.
        temperature: positive softmax temperature of NT-Xent. Defaults to `0.1`.
        hidden_dims: width of the head's hidden layer, `None` for the feature size.
            Defaults to `None`.
        augmentation: the layer drawing a view (called with `training=True`). Defaults to
            `None`: `SimCLRAugmentation()` for pixel values in [0, 1].
        **kwargs: `name` and other `keras.Model` arguments.

    Example:

    ```python
    encoder = zoo.create("cnn_digits", input_shape=(32, 32, 3))
    simclr = zoo.vision.SimCLR(encoder, projection_dims=64, temperature=0.2)
    simclr.fit(unlabelled_images, batch_size=256, epochs=20)
    accuracy = zoo.vision.linear_probe(encoder, (x_train, y_train), (x_test, y_test))
    ```

    Reference:
        Chen, Kornblith, Norouzi and Hinton, "A Simple Framework for Contrastive Learning of
        Visual Representations", ICML 2020.
    """

    def __init__(
        self,
        encoder: keras.Model,
        projection_dims: int = 128,
        temperature: float = 0.1,
        hidden_dims: int | None = None,
        augmentation: keras.layers.Layer | None = None,
        **kwargs,
    ):
        super().__init__(
            encoder,
            projection_dims=projection_dims,
            hidden_dims=hidden_dims,
            temperature=temperature,
            augmentation=augmentation,
            **kwargs,
        )
        self.contrastive_loss = NTXentLoss(temperature=self.temperature)
        if num_replicas() > 1:
            for layer in self.features._flatten_layers() + self.head._flatten_layers():
                if isinstance(layer, keras.layers.BatchNormalization):
                    layer.synchronized = True

    def contrast(self, projection_a, projection_b):
        """NT-Xent of this replica's two projections, against the global batch's views."""
        context = tf.distribute.get_replica_context()
        if context is None or num_replicas() == 1:
            paired = ops.stack([projection_a, projection_b], axis=1)
            return self.contrastive_loss(ops.zeros(ops.shape(paired)[:1]), paired)
        every = context.all_gather(ops.stack([projection_a, projection_b], axis=1), axis=0)
        counts = context.all_gather(tf.shape(projection_a)[:1], axis=0)
        start = tf.reduce_sum(counts[: context.replica_id_in_sync_group])
        # Scaled so that the mean over replicas (apply_loss's sum of `loss / replicas`) is the
        # global batch's loss, also when the replicas' shares differ in size.
        loss = nt_xent_against_global_batch(
            projection_a, projection_b, every[:, 0], every[:, 1], start, self.temperature
        )
        return loss * num_replicas()

    def train_step(self, data):
        images = self.images_from(data)
        view_a, view_b = self.views(images)
        with tf.GradientTape() as tape:
            loss = self.contrast(
                self.project(view_a, training=True), self.project(view_b, training=True)
            )
        return self.apply_loss(tape, loss)
