import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.schedules import LinearWarmup, OneCycle
from tests import harness
from zoo.vision import MixedLabelAccuracy, SparseLabelSmoothingCrossentropy
from zoo.vision.recipe import (
    augmentation,
    check_augment,
    learning_rate_schedule,
    probability_label_loss,
    steps_per_epoch,
    warmup_cosine,
)

RNG = np.random.default_rng(0)
LOGITS = RNG.normal(size=(6, 4)).astype("float32")
CLASS_IDS = np.array([0, 3, 1, 2, 2, 0])
MIXED = np.array(
    [
        [0.7, 0.3, 0.0, 0.0],
        [0.0, 0.0, 0.4, 0.6],
        [0.0, 1.0, 0.0, 0.0],
        [0.2, 0.0, 0.8, 0.0],
        [0.5, 0.0, 0.0, 0.5],
        [0.1, 0.1, 0.1, 0.7],
    ],
    "float32",
)


def reference_loss(targets, logits, smoothing, from_logits=True):
    """Szegedy et al.'s smoothed cross-entropy, mean over the batch, in NumPy."""
    num_classes = logits.shape[-1]
    targets = (1 - smoothing) * targets + smoothing / num_classes
    if from_logits:
        shifted = logits - logits.max(-1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    else:
        log_p = np.log(logits / logits.sum(-1, keepdims=True))
    return float(-(targets * log_p).sum(-1).mean())


def test_loss_on_probability_labels_matches_numpy_and_passes_harness():
    expected = reference_loss(MIXED, LOGITS, 0.1)
    harness.run_loss_test(
        SparseLabelSmoothingCrossentropy,
        {"label_smoothing": 0.1, "from_logits": True},
        MIXED,
        LOGITS,
        expected=expected,
    )


@pytest.mark.parametrize("shape", [(6,), (6, 1)])
def test_loss_on_class_ids_matches_numpy_and_one_hot(shape):
    loss = SparseLabelSmoothingCrossentropy(0.2)
    one_hot = np.eye(4, dtype="float32")[CLASS_IDS]
    expected = reference_loss(one_hot, LOGITS, 0.2)
    np.testing.assert_allclose(float(loss(CLASS_IDS.reshape(shape), LOGITS)), expected, rtol=1e-5)
    np.testing.assert_allclose(float(loss(one_hot, LOGITS)), expected, rtol=1e-5)


def test_loss_on_probabilities_from_softmax_outputs():
    probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(LOGITS))
    loss = SparseLabelSmoothingCrossentropy(0.1, from_logits=False)
    expected = reference_loss(MIXED, probabilities, 0.1, from_logits=False)
    np.testing.assert_allclose(float(loss(MIXED, probabilities)), expected, rtol=1e-5)


def test_loss_rejects_labels_of_another_width():
    with pytest.raises(ValueError, match=r"Received: labels of shape \(6, 3\)"):
        SparseLabelSmoothingCrossentropy(0.1)(MIXED[:, :3], LOGITS)


def test_mixed_label_accuracy_by_hand():
    # Predicted classes of LOGITS, and the largest-weight classes of MIXED: 0, 3, 1, 2, 0, 3.
    predicted = LOGITS.argmax(-1)
    metric = MixedLabelAccuracy()
    metric.update_state(MIXED, LOGITS)
    expected = np.mean(predicted == np.array([0, 3, 1, 2, 0, 3]))
    np.testing.assert_allclose(float(metric.result()), expected)
    metric = MixedLabelAccuracy()
    metric.update_state(CLASS_IDS[:, None], LOGITS)
    sparse = keras.metrics.SparseCategoricalAccuracy()
    sparse.update_state(CLASS_IDS, LOGITS)
    np.testing.assert_allclose(float(metric.result()), float(sparse.result()))
    harness.assert_config_round_trip(MixedLabelAccuracy(name="acc"), {"name": "acc"})


def test_mixed_label_accuracy_in_fit_under_mirrored_strategy():
    x = RNG.normal(size=(8, 3)).astype("float32")
    labels = np.eye(4, dtype="float32")[np.arange(8) % 4]

    def fit(strategy):
        with strategy.scope():
            model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)])
            model.compile(
                "sgd",
                SparseLabelSmoothingCrossentropy(0.1),
                metrics=[MixedLabelAccuracy()],
            )
        logs = model.fit(x, labels, batch_size=4, epochs=1, verbose=0).history
        evaluated = model.evaluate(x, np.arange(8) % 4, batch_size=4, verbose=0)
        return logs, evaluated

    logs, evaluated = harness.run_in_mirrored_strategy(fit)
    assert 0.0 <= logs["accuracy"][0] <= 1.0 and np.isfinite(evaluated).all()


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


def test_warmup_cosine_follows_warmup_then_cosine():
    schedule = warmup_cosine(0.01, total_steps=10, warmup_steps=4)
    rates = [float(schedule(step)) for step in range(12)]
    expected = [0.01 * s / 4 for s in range(4)]
    expected += [0.01 * (1 + math.cos(math.pi * (s - 4) / 6)) / 2 for s in range(4, 11)]
    expected += [0.0]  # past the end it stays at the floor
    np.testing.assert_allclose(rates, expected, atol=1e-7)
    plain = warmup_cosine(0.01, total_steps=10)
    np.testing.assert_allclose(float(plain(5)), 0.005, rtol=1e-5)
    with pytest.raises(ValueError, match="warmup_steps=10"):
        warmup_cosine(0.01, total_steps=10, warmup_steps=10)


def test_learning_rate_schedule_kinds():
    assert learning_rate_schedule("constant", 0.1, 100) == 0.1
    warm = learning_rate_schedule("constant", 0.1, 100, warmup_steps=10)
    assert isinstance(warm, LinearWarmup)
    np.testing.assert_allclose([float(warm(5)), float(warm(50))], [0.05, 0.1], rtol=1e-6)
    cycle = learning_rate_schedule("one_cycle", 0.1, 100, warmup_steps=20)
    assert isinstance(cycle, OneCycle) and cycle.pct_start == 0.2
    np.testing.assert_allclose(float(cycle(19)), 0.1, rtol=1e-6)  # the peak ends the rise
    assert learning_rate_schedule("one_cycle", 0.1, 100).pct_start == 0.3
    with pytest.raises(ValueError, match="schedule='step'"):
        learning_rate_schedule("step", 0.1, 100)


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


def test_steps_per_epoch_from_cardinality_or_counting():
    data = tf.data.Dataset.range(10).batch(3)
    assert steps_per_epoch(data) == 4
    assert (
        steps_per_epoch(data.filter(lambda x: tf.reduce_all(x >= 0))) == 4
    )  # unknown cardinality: counted
    with pytest.raises(ValueError, match="infinite"):
        steps_per_epoch(data.repeat())
    with pytest.raises(ValueError, match="0 batches"):
        steps_per_epoch(data.take(0))
