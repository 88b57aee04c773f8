"""SimCLR and MoCo v2: augmentation, one training step, the queue, momentum, saving, errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
import zoo.vision  # noqa: F401  (registers the models)
from layers.losses import NTXentLoss
from tests import harness
from zoo.vision.mobilenet import MobileNetV2Backbone
from zoo.vision.ssl import (
    MoCo,
    SimCLR,
    SimCLRAugmentation,
    feature_model,
    fine_tune,
    linear_probe,
)
from zoo.vision.ssl.simclr import nt_xent_against_global_batch
from zoo.vision.vit import ViTBackbone

SHAPE = (8, 8, 3)


def _encoder():
    return zoo.create("cnn_digits", input_shape=SHAPE, filters=(4,))


def _flip():
    # A cheap view for the tests about MoCo's bookkeeping (SimCLR's test runs the full pipeline).
    return keras.layers.RandomFlip("horizontal", seed=3)


def _images(count=8, seed=0):
    return np.random.default_rng(seed).uniform(size=(count, *SHAPE)).astype("float32")


def _numpy(variables):
    return [keras.ops.convert_to_numpy(v).copy() for v in variables]


def test_augmentation_gives_two_different_views_of_the_same_shape():
    images = _images(4)
    augment = SimCLRAugmentation(seed=1, blur_probability=0.5)
    view_a, view_b = augment(images, training=True), augment(images, training=True)
    assert view_a.shape == view_b.shape == images.shape
    assert not np.allclose(view_a, view_b)
    assert np.min(view_a) >= 0.0 and np.max(view_a) <= 1.0
    np.testing.assert_array_equal(augment(images, training=False), images)
    grey = np.random.default_rng(0).uniform(size=(4, 8, 8, 1)).astype("float32")
    assert SimCLRAugmentation(seed=2)(grey, training=True).shape == grey.shape
    config = augment.get_config()
    assert SimCLRAugmentation.from_config(config).get_config() == config


def test_feature_adapter_handles_every_kind_of_zoo_encoder():
    images = np.zeros((2, 8, 8, 3), "float32")
    vit = ViTBackbone(8, 4, hidden_dim=8, num_layers=1, num_heads=2, mlp_dim=8)
    assert feature_model(vit)(images).shape == (2, 8)  # sequence_output, averaged
    mobilenet = MobileNetV2Backbone(input_shape=SHAPE, blocks=((1, 8, 1, 1),), stem_filters=8)
    assert feature_model(mobilenet)(images).shape == (2, 1280)  # feature_map, pooled
    assert feature_model(_encoder())(images).shape == (2, 4)  # classifier cut before its head


def test_simclr_fit_step_trains_the_encoder_and_round_trips(tmp_path):
    encoder = _encoder()
    model = SimCLR(encoder, projection_dims=4, temperature=0.5)
    before = _numpy(encoder.trainable_weights)
    images = tf.data.Dataset.from_tensor_slices(_images()).batch(8)  # unlabelled
    history = model.fit(images, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    changed = [
        not np.array_equal(b, a)
        for b, a in zip(before, _numpy(encoder.trainable_weights), strict=True)
    ]
    assert any(changed[:-2]), "the convolution's weights did not move"
    assert changed[-2:] == [False, False]  # the classifier's logits are not SimCLR's
    harness.assert_config_covers_signature(model, {"projection_dims": 4, "temperature": 0.5})

    path = str(tmp_path / "simclr.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is SimCLR and loaded.temperature == 0.5
    np.testing.assert_allclose(loaded(_images()), model(_images()), atol=1e-5)
    assert int(loaded.optimizer.iterations.numpy()) == 1
    assert len(loaded.optimizer.variables) == len(model.optimizer.variables)


def test_moco_step_updates_the_queue_fifo_and_saves_it(tmp_path):
    model = MoCo(_encoder(), queue_size=16, momentum=0.9, projection_dims=4, augmentation=_flip())
    queue = _numpy([model.queue])[0]
    np.testing.assert_allclose(np.linalg.norm(queue, axis=1), 1.0, rtol=1e-5)
    query_before = _numpy(model.features.trainable_weights)
    pairs = model._momentum_pairs
    for _, key in pairs:  # start the key encoder away from the query encoder
        key.assign(key + 1.0)
    query, key = _numpy([q for q, _ in pairs]), _numpy([k for _, k in pairs])
    history = model.fit(_images(8), batch_size=8, epochs=1, verbose=0)
    # The key encoder moves (with the query's weights before its gradient step) first.
    for q, k, (_, variable) in zip(query, key, pairs, strict=True):
        np.testing.assert_allclose(_numpy([variable])[0], 0.9 * k + 0.1 * q, rtol=1e-5)
    assert np.isfinite(history.history["loss"][0])
    assert any(
        not np.array_equal(b, a)
        for b, a in zip(query_before, _numpy(model.features.trainable_weights), strict=True)
    )
    after = _numpy([model.queue])[0]
    assert int(model.queue_pointer.numpy()) == 8
    assert not np.allclose(after[:8], queue[:8])  # the 8 new keys, normalised
    np.testing.assert_allclose(np.linalg.norm(after[:8], axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(after[8:], queue[8:])  # the rest untouched
    # First in, first out, wrapping around: 12 keys from row 8 fill rows 8..15 then 0..3.
    keys = np.arange(12 * 4, dtype="float32").reshape(12, 4)
    model.enqueue(keys)
    now = _numpy([model.queue])[0]
    np.testing.assert_array_equal(now[8:], keys[:8])
    np.testing.assert_array_equal(now[:4], keys[8:])
    np.testing.assert_array_equal(now[4:8], after[4:8])
    assert int(model.queue_pointer.numpy()) == 4

    path = str(tmp_path / "moco.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(_numpy([loaded.queue])[0], now)
    assert int(loaded.queue_pointer.numpy()) == 4
    for saved, reloaded in zip(
        model.key_features.weights, loaded.key_features.weights, strict=True
    ):
        np.testing.assert_array_equal(_numpy([saved])[0], _numpy([reloaded])[0])
    assert loaded.get_config()["queue_size"] == 16 and loaded.momentum == 0.9


def test_momentum_update_is_the_papers_moving_average():
    model = MoCo(_encoder(), queue_size=16, momentum=0.75, projection_dims=4)
    pairs = model._momentum_pairs
    assert pairs and all(not key.trainable for _, key in pairs)
    assert {id(v) for _, v in pairs}.isdisjoint(id(v) for v in model.trainable_variables)
    for _, key in pairs:  # start the key encoder away from the query encoder
        key.assign(key + 1.0)
    query, key = _numpy([q for q, _ in pairs]), _numpy([k for _, k in pairs])
    model.momentum_update()
    for q, k, (_, variable) in zip(query, key, pairs, strict=True):
        np.testing.assert_allclose(_numpy([variable])[0], 0.75 * k + 0.25 * q, rtol=1e-6)


@pytest.mark.slow  # kept out of `make test`'s 15 minutes
def test_moco_with_shuffled_batch_norm_under_mirrored_strategy_and_mixed_precision():
    def run(_build_optimizer_first):
        model = MoCo(
            _encoder(), queue_size=16, momentum=0.9, projection_dims=4, augmentation=_flip()
        )
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
        queue = _numpy([model.queue])[0]
        history = model.fit(_images(8), batch_size=8, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        assert int(model.queue_pointer.numpy()) == 8  # the keys of both replicas' shares
        after = _numpy([model.queue])[0]
        assert not np.allclose(after[:8], queue[:8])
        np.testing.assert_allclose(np.linalg.norm(after[:8], axis=1), 1.0, rtol=1e-3)
        np.testing.assert_array_equal(after[8:], queue[8:])

    harness.run_mixed_and_distributed(run, mixed=True, distributed=True)


@pytest.mark.slow  # kept out of `make test`'s 15 minutes
def test_simclr_with_its_augmentation_under_mirrored_strategy_and_mixed_precision():
    def run(_build_optimizer_first):
        model = SimCLR(_encoder(), projection_dims=4)
        history = model.fit(_images(8), batch_size=8, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])

    harness.run_mixed_and_distributed(run, mixed=True, distributed=True)


def test_bad_arguments_name_the_argument_and_value():
    encoder = _encoder()
    with pytest.raises(ValueError, match="temperature=0"):
        SimCLR(encoder, temperature=0)
    with pytest.raises(ValueError, match="temperature=-0.2"):
        MoCo(encoder, temperature=-0.2)
    with pytest.raises(ValueError, match="momentum=1.0"):
        MoCo(encoder, momentum=1.0)
    with pytest.raises(ValueError, match="queue_size=0"):
        MoCo(encoder, queue_size=0)
    moco = MoCo(encoder, queue_size=12, projection_dims=4)
    with pytest.raises(ValueError, match="queue_size=12, batch_size=8"):
        moco.fit(_images(8), batch_size=8, verbose=0)
    with pytest.raises(ValueError, match=r"rank 4. Received: images.shape=\(\d+, 8, 8\)"):
        SimCLR(encoder, projection_dims=4).fit(_images(4)[..., 0], batch_size=4, verbose=0)
    with pytest.raises(ValueError, match=r"crop_scale=\(0.0, 1.0\)"):
        SimCLRAugmentation(crop_scale=(0.0, 1.0))
    with pytest.raises(TypeError, match="encoder="):
        SimCLR("resnet")


def test_linear_probe_and_fine_tune_on_separable_classes():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 16)
    images = rng.uniform(0, 0.2, size=(32, *SHAPE)).astype("float32")
    images[labels == 1] += 0.8  # the classes differ in brightness
    encoder = _encoder()
    accuracy = linear_probe(
        encoder, (images, labels), (images, labels), epochs=10, learning_rate=0.1
    )
    assert isinstance(accuracy, float) and accuracy >= 0.9
    classifier = fine_tune(encoder, (images, labels), epochs=4, batch_size=32, learning_rate=1e-2)
    losses = classifier.history.history["loss"]
    assert classifier.output_shape == (None, 2) and losses[-1] < losses[0]
    with pytest.raises(ValueError, match="train_data"):
        linear_probe(encoder, images, (images, labels))


def test_global_batch_nt_xent_splits_ntxentloss_over_replicas():
    rng = np.random.default_rng(0)
    z_a, z_b = rng.normal(size=(2, 6, 4)).astype("float32")
    expected = NTXentLoss(temperature=0.3)(np.zeros(6), np.stack([z_a, z_b], axis=1))
    whole = nt_xent_against_global_batch(z_a, z_b, z_a, z_b, 0, temperature=0.3)
    np.testing.assert_allclose(whole, expected, rtol=1e-6)
    shares = [  # three replicas of two examples each: their results add up to the whole
        nt_xent_against_global_batch(z_a[i : i + 2], z_b[i : i + 2], z_a, z_b, i, 0.3)
        for i in (0, 2, 4)
    ]
    np.testing.assert_allclose(sum(shares), expected, rtol=1e-6)


def test_simclr_under_mirrored_strategy_contrasts_the_global_batch():
    # One step on two replicas equals one single-device step on the global batch: the loss,
    # the weights (SGD, so that they show the gradients' values) and the BatchNormalization
    # statistics (synchronised). The identity views keep the augmentation's randomness out.
    images = _images(8)

    def step():
        model = SimCLR(
            _encoder(), projection_dims=4, temperature=0.5, augmentation=keras.layers.Identity()
        )
        model.compile(keras.optimizers.SGD(0.5))
        model.set_weights(initial)
        history = model.fit(images, batch_size=8, epochs=1, shuffle=False, verbose=0)
        return history.history["loss"][0], _numpy(model.weights)

    initial = SimCLR(_encoder(), projection_dims=4).get_weights()
    loss, weights = step()
    with harness.mirrored_strategy().scope():
        mirrored_loss, mirrored_weights = step()
    np.testing.assert_allclose(mirrored_loss, loss, rtol=1e-5)
    assert not np.allclose(weights[0], initial[0])
    for actual, expected in zip(mirrored_weights, weights, strict=True):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)
