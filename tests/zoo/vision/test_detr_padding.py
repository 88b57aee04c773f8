"""DETR on padded batches: the pixel mask, positions and attention that leave the padding out."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.models import Backbone
from zoo.vision.detr import (
    DETRDetector,
    SinePositionEmbedding2D,
    downsample_mask,
    pad_detection_batch,
    pad_images,
)


class _PatchBackbone(Backbone):
    """Each feature cell sees its own 8x8 patch only, so the padding leaves the image's cells
    as they are alone (DETR's ResNet sees the padding next to the image's bottom and right
    edges, which makes the invariance approximate there)."""

    def __init__(self, channels: int = 16, **kwargs):
        dtype = self.dtype_policy_from(kwargs)
        images = keras.Input((None, None, 3), name="images")
        x = keras.layers.Conv2D(channels, 8, strides=8, name="patches", dtype=dtype)(images)
        super().__init__(inputs=images, outputs={"feature_map": x}, dtype=dtype, **kwargs)


def _detector():
    keras.utils.set_random_seed(0)
    return DETRDetector(
        _PatchBackbone(),
        num_classes=3,
        num_queries=4,
        hidden_dim=16,
        num_heads=2,
        encoder_layers=1,
        decoder_layers=2,
        ffn_dim=16,
        dropout=0.0,
    )


def test_masked_positions_count_the_valid_rows_and_columns_only():
    embedding = SinePositionEmbedding2D(4)
    alone = keras.ops.convert_to_numpy(embedding(np.zeros((1, 2, 3, 8), "float32")))
    mask = np.zeros((1, 4, 5), "int32")
    mask[:, :2, :3] = 1
    padded = keras.ops.convert_to_numpy(embedding(np.zeros((1, 4, 5, 8)), pixel_mask=mask))
    np.testing.assert_allclose(padded[:, :2, :3], alone, atol=1e-6)
    full = embedding(np.zeros((1, 4, 5, 8)), pixel_mask=np.ones((1, 4, 5)))
    np.testing.assert_allclose(full, embedding(np.zeros((1, 4, 5, 8))), atol=1e-6)
    # torch's nearest `interpolate`: output row i takes input row floor(i * H / h)
    big = np.arange(10)[None, :, None] * np.ones((1, 10, 7), "int32")
    np.testing.assert_array_equal(downsample_mask(big, 4, 3)[0, :, 0], [0, 2, 5, 7])


def test_a_padded_image_with_its_mask_gives_its_detections_alone():
    detector = _detector()
    rng = np.random.default_rng(0)
    small = rng.uniform(size=(24, 16, 3)).astype("float32")
    large = rng.uniform(size=(40, 32, 3)).astype("float32")
    boxes = [np.array([[2.0, 2.0, 10.0, 12.0]]), np.array([[4.0, 4.0, 20.0, 30.0]])]
    inputs, targets = pad_detection_batch([small, large], boxes, [[1], [2]], max_boxes=3)
    assert inputs["images"].shape == (2, 40, 32, 3) and inputs["pixel_mask"][0].sum() == 24 * 16
    # boxes relative to each image's own size, not the padded canvas
    np.testing.assert_allclose(targets["boxes"][0, 0], [6 / 16, 7 / 24, 8 / 16, 10 / 24])

    padded = detector(inputs)
    for i, image in enumerate((small, large)):
        alone = detector(image[None])
        for key in ("logits", "pred_boxes", "aux_logits", "aux_pred_boxes"):
            np.testing.assert_allclose(padded[key][i], alone[key][0], atol=1e-5, err_msg=key)
    unmasked = detector(inputs["images"])["logits"][0]
    assert not np.allclose(unmasked, padded["logits"][0], atol=1e-3)  # the mask counts

    with tf.GradientTape() as tape:  # eagerly: `fit` traces for half a minute on 2 cores
        loss = detector.set_loss()(targets, detector(inputs, training=True))
    gradients = tape.gradient(loss, detector.trainable_variables)
    assert np.isfinite(float(loss)) and all(g is not None for g in gradients)


@pytest.mark.slow  # about 35 s of tracing on 2 loaded cores
def test_fit_takes_a_padded_batch_with_its_mask():
    detector = _detector()
    rng = np.random.default_rng(0)
    images = [rng.uniform(size=size).astype("float32") for size in ((24, 16, 3), (16, 32, 3))]
    boxes = [np.array([[2.0, 2.0, 10.0, 12.0]]), np.array([[4.0, 4.0, 20.0, 14.0]])]
    inputs, targets = pad_detection_batch(images, boxes, [[1], [2]], max_boxes=3)
    history = detector.fit(inputs, targets, batch_size=2, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_bad_masks_and_images_name_the_argument():
    detector = _detector()
    batch, mask = pad_images([np.zeros((16, 8, 3)), np.zeros((8, 16, 3))])
    assert batch.shape == (2, 16, 16, 3) and mask[1, 8:].sum() == 0
    with pytest.raises(ValueError, match=r"pixel_mask.shape=\(2, 16\)"):
        detector({"images": batch, "pixel_mask": mask[:, :, 0]})
    with pytest.raises(ValueError, match=r"pixel_mask.shape=\(2, 8, 16\)"):
        detector({"images": batch, "pixel_mask": mask[:, :8]})
    with pytest.raises(ValueError, match=r"keys \['image', 'pixel_mask'\]"):
        detector({"image": batch, "pixel_mask": mask})
    with pytest.raises(ValueError, match=r"images\[1\].shape=\(8, 16\)"):
        pad_images([np.zeros((16, 8, 3)), np.zeros((8, 16))])
    with pytest.raises(ValueError, match=r"size=\(8, 8\)"):
        pad_images([np.zeros((16, 8, 3))], size=(8, 8))
