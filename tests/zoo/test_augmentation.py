"""Batch augmentation with keras's RandAugment, MixUp and CutMix, and losses for mixed labels."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.losses import SparseLabelSmoothingCrossentropy
from zoo.augmentation import augmentation, check_augment, probability_label_loss

LOGITS = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
CLASS_IDS = np.array([0, 3, 1, 2, 2, 0])


def batch(size=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(size=(size, 8, 8, 1)).astype("float32"), np.arange(size) % 10


def first_batch(augment, images, labels):
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(len(images)).map(augment)
    out_images, out_labels = next(iter(dataset))
    return out_images.numpy(), out_labels.numpy()


def test_all_three_augmentations_change_images_and_mix_labels():
    images, labels = batch()
    out_images, out_labels = first_batch(
        augmentation(["randaugment", "mixup", "cutmix"], num_classes=10, seed=0), images, labels
    )
    assert out_images.shape == images.shape and out_images.dtype == np.float32
    assert not np.allclose(out_images, images)
    assert out_labels.shape == (8, 10) and out_labels.dtype == np.float32
    np.testing.assert_allclose(out_labels.sum(-1), 1.0, rtol=1e-5)
    assert (out_labels.max(-1) < 1.0 - 1e-6).any()  # some labels are mixtures
    again = first_batch(
        augmentation(["cutmix", "mixup", "randaugment"], num_classes=10, seed=0), images, labels
    )
    np.testing.assert_array_equal(again[0], out_images)  # same seed, same draws, any order


def test_randaugment_alone_keeps_class_ids_and_the_value_range():
    images, labels = batch()
    out_images, out_labels = first_batch(augmentation("randaugment", seed=1), images, labels)
    np.testing.assert_array_equal(out_labels, labels)
    assert not np.allclose(out_images, images)
    assert out_images.min() >= 0.0 and out_images.max() <= 1.0
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"value_range=\(0.0, 1.0\)"):
        first_batch(augmentation(["randaugment"], seed=1), images * 16, labels)


def test_mixup_takes_column_class_ids_and_probability_labels():
    images, labels = batch()
    mixup = augmentation(["mixup"], num_classes=10, seed=2)
    from_ids = first_batch(mixup, images, labels[:, None])[1]
    assert from_ids.shape == (8, 10)
    mixed = first_batch(
        augmentation(["mixup"], num_classes=10, seed=2), images, np.eye(10)[labels]
    )[1]
    np.testing.assert_allclose(mixed, from_ids, rtol=1e-6)


def test_augmentation_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"augment=\['mixup', 'rotate'\]"):
        check_augment(["mixup", "rotate"])
    with pytest.raises(ValueError, match="augment"):
        augmentation("mixup,mixup", num_classes=10)
    assert check_augment("randaugment, cutmix") == ("randaugment", "cutmix")
    assert check_augment(None) == ()
    with pytest.raises(ValueError, match="num_classes=None"):
        augmentation(["cutmix"])
    with pytest.raises(ValueError, match=r"value_range=\(1, 0\)"):
        augmentation(["randaugment"], value_range=(1, 0))
    flat = tf.data.Dataset.from_tensor_slices((np.zeros((4, 64), "float32"), np.zeros(4)))
    with pytest.raises(ValueError, match=r"shape \(None, 64\)"):
        flat.batch(2).map(augmentation(["mixup"], num_classes=10))
    images, _ = batch()
    with pytest.raises(ValueError, match=r"labels of shape \(None, 3\)"):
        first_batch(augmentation(["mixup"], num_classes=10), images, np.zeros((8, 3)))


def test_probability_label_loss_converts_or_refuses():
    ours = SparseLabelSmoothingCrossentropy(0.1)
    assert probability_label_loss(ours) is ours
    sparse = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    converted = probability_label_loss(sparse)
    assert isinstance(converted, SparseLabelSmoothingCrossentropy)
    assert converted.label_smoothing == 0.0 and converted.from_logits
    np.testing.assert_allclose(
        float(converted(CLASS_IDS, LOGITS)), float(sparse(CLASS_IDS, LOGITS)), rtol=1e-6
    )
    for loss in (
        keras.losses.MeanSquaredError(),
        keras.losses.SparseCategoricalCrossentropy(ignore_class=0),
    ):
        with pytest.raises(ValueError, match="`augment` with 'mixup' or 'cutmix'"):
            probability_label_loss(loss)


def test_rand_augment_factor_is_checked():
    with pytest.raises(ValueError, match="rand_augment_factor=1.5"):
        augmentation(["randaugment"], rand_augment_factor=1.5)
    with pytest.raises(ValueError, match="mixup_alpha=0"):
        augmentation(["mixup"], num_classes=10, mixup_alpha=0)
