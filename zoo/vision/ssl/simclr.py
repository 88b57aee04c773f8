"""SimCLR (Chen et al. 2020): contrastive learning between two augmented views."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from layers.losses import NTXentLoss
from zoo.vision.ssl.base import ContrastiveLearner


@keras.saving.register_keras_serializable(package="keras_zoo")
class SimCLR(ContrastiveLearner):
    """SimCLR: the two views of each image attract, the other images of the batch repel.

    Each step draws two random views of every image (`augmentation`, by default
    `SimCLRAugmentation`: crop-and-resize, flip, colour jitter, grayscale, blur), encodes
    them with `encoder`, projects the features with the MLP head and minimises
    `layers.NTXentLoss` (normalised temperature-scaled cross-entropy; the `2N - 2` other views
    of the batch are the negatives). `fit` takes unlabelled images; afterwards `encoder` (its
    layers are trained in place) is what `linear_probe` or `fine_tune` uses, and `call` returns
    its pooled features. Under `MirroredStrategy` each replica contrasts its own share of the
    batch (no cross-replica gathering of negatives).

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

    def train_step(self, data):
        images = self.images_from(data)
        view_a, view_b = self.views(images)
        with tf.GradientTape() as tape:
            paired = ops.stack(
                [self.project(view_a, training=True), self.project(view_b, training=True)], axis=1
            )
            loss = self.contrastive_loss(ops.zeros(ops.shape(paired)[:1]), paired)
        return self.apply_loss(tape, loss)
