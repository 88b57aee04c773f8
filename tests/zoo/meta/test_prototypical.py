"""Prototypical Networks and the Conv-4 encoder: logits against closed forms, training,
`.keras` round trips, the exported classifier, bad input, and a learning run on digits."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import serving
import zoo
from zoo.meta import (
    Conv4Backbone,
    EpisodeSampler,
    PrototypicalNetwork,
    digits_few_shot,
    few_shot_accuracy,
)


def flatten_encoder(shape=(2, 2, 1)):
    inputs = keras.Input(shape)
    return keras.Model(inputs, keras.layers.Flatten()(inputs))


def dense_encoder(shape=(2, 2, 1), units=3):
    inputs = keras.Input(shape)
    outputs = keras.layers.Dense(units)(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, outputs)


def episode(n_way=3, k_shot=2, n_query=2, seed=0):
    rng = np.random.default_rng(seed)
    support_x = rng.normal(size=(n_way * k_shot, 2, 2, 1)).astype("float32")
    query_x = rng.normal(size=(n_way * n_query, 2, 2, 1)).astype("float32")
    support_y = np.repeat(np.arange(n_way), k_shot).astype("int32")
    query_y = np.repeat(np.arange(n_way), n_query).astype("int32")
    return support_x, support_y, query_x, query_y


def numpy_logits(support_x, support_y, query_x, distance="euclidean", scale=10.0):
    support = support_x.reshape(len(support_x), -1)
    queries = query_x.reshape(len(query_x), -1)
    prototypes = np.stack([support[support_y == c].mean(0) for c in range(support_y.max() + 1)])
    if distance == "cosine":
        unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
        return scale * unit(queries) @ unit(prototypes).T
    return -((queries[:, None, :] - prototypes[None]) ** 2).sum(-1)


@pytest.mark.parametrize("distance", ["euclidean", "cosine"])
def test_classify_matches_the_closed_form(distance):
    support_x, support_y, query_x, _ = episode()
    proto = PrototypicalNetwork(flatten_encoder(), distance=distance)
    logits = proto.classify(support_x, support_y, query_x)
    expected = numpy_logits(support_x, support_y, query_x, distance)
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5)


def test_support_order_does_not_matter():
    support_x, support_y, query_x, _ = episode()
    order = np.random.default_rng(1).permutation(len(support_y))
    proto = PrototypicalNetwork(flatten_encoder())
    np.testing.assert_allclose(
        proto.classify(support_x, support_y, query_x),
        proto.classify(support_x[order], support_y[order], query_x),
        rtol=1e-5,
    )


def test_a_batch_of_episodes_gives_each_episodes_logits_and_trains():
    episodes = [episode(seed=i) for i in range(3)]
    stacked = tuple(np.stack(parts) for parts in zip(*episodes, strict=True))
    proto = PrototypicalNetwork(dense_encoder())
    batched = proto.episode_logits(*stacked[:3])
    assert batched.shape == (3, 6, 6)
    for i, single in enumerate(episodes):
        np.testing.assert_allclose(batched[i], proto.episode_logits(*single[:3]), rtol=1e-5)
    history = proto.fit(tf.data.Dataset.from_tensors(stacked), verbose=0, shuffle=False)
    assert np.isfinite(history.history["loss"][0])


def test_episode_logits_mask_labels_without_support():
    support_x, support_y, query_x, _ = episode(n_way=2, k_shot=2)
    logits = PrototypicalNetwork(flatten_encoder()).episode_logits(support_x, support_y, query_x)
    assert logits.shape == (4, 4)  # one column per support example
    np.testing.assert_array_equal(logits[:, 2:], -1e9)


def test_evaluate_reports_the_query_cross_entropy_and_accuracy():
    support_x, support_y, query_x, query_y = episode()
    proto = PrototypicalNetwork(dense_encoder())
    logits = numpy_logits(
        *[keras.ops.convert_to_numpy(v) for v in (proto(support_x), support_y, proto(query_x))]
    )
    log_softmax = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    expected_loss = -log_softmax[np.arange(len(query_y)), query_y].mean()
    expected_accuracy = np.mean(logits.argmax(1) == query_y)
    episodes = tf.data.Dataset.from_tensors((support_x, support_y, query_x, query_y))
    result = proto.evaluate(episodes, verbose=0, return_dict=True)
    np.testing.assert_allclose(result["loss"], expected_loss, rtol=1e-4)
    np.testing.assert_allclose(result["accuracy"], expected_accuracy, rtol=1e-6)


def digit_sampler(n_way=5, k_shot=1, n_query=3, seed=0):
    data = digits_few_shot()
    return EpisodeSampler(data.train.x, data.train.y, n_way, k_shot, n_query, seed), data


def test_fit_under_xla_lowers_the_episode_loss():
    keras.utils.set_random_seed(0)
    sampler, _ = digit_sampler()
    proto = PrototypicalNetwork(Conv4Backbone(image_size=8, filters=8, num_blocks=2))
    proto.compile(learning_rate=1e-2, jit_compile=True)
    episodes = sampler.dataset(8).cache()
    before = proto.evaluate(episodes, verbose=0, return_dict=True)["loss"]
    proto.fit(episodes, epochs=3, verbose=0, shuffle=False)
    assert proto.evaluate(episodes, verbose=0, return_dict=True)["loss"] < before


def test_keras_round_trip_keeps_outputs_and_optimizer_state(tmp_path):
    sampler, _ = digit_sampler()
    proto = PrototypicalNetwork(
        Conv4Backbone(image_size=8, filters=4, num_blocks=2), distance="cosine", cosine_scale=5.0
    )
    proto.fit(sampler.dataset(2), verbose=0, shuffle=False)
    support_x, support_y, query_x, _ = next(iter(sampler.dataset(1, start=9)))
    path = str(tmp_path / "proto.keras")
    proto.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, PrototypicalNetwork) and loaded.distance == "cosine"
    assert loaded.cosine_scale == 5.0
    np.testing.assert_allclose(
        loaded.classify(support_x, support_y, query_x),
        proto.classify(support_x, support_y, query_x),
        rtol=1e-5,
        atol=1e-5,
    )
    assert int(loaded.optimizer.iterations) == 2
    for saved, restored in zip(proto.optimizer.variables, loaded.optimizer.variables, strict=True):
        np.testing.assert_allclose(restored, saved)
    loaded.fit(sampler.dataset(1), verbose=0, shuffle=False)
    assert int(loaded.optimizer.iterations) == 3


def test_with_prototypes_classifies_like_classify_and_exports(tmp_path):
    sampler, _ = digit_sampler(n_way=3, k_shot=2)
    proto = PrototypicalNetwork(Conv4Backbone(image_size=8, filters=4, num_blocks=2))
    support_x, support_y, query_x, _ = [t.numpy() for t in next(iter(sampler.dataset(1)))]
    classifier = proto.with_prototypes(support_x, support_y)
    expected = proto.classify(support_x, support_y, query_x)
    np.testing.assert_allclose(classifier.predict(query_x, verbose=0), expected, rtol=1e-4)
    classifier.save(tmp_path / "classifier.keras")
    reloaded = keras.saving.load_model(tmp_path / "classifier.keras")
    np.testing.assert_allclose(reloaded(query_x), expected, rtol=1e-4, atol=1e-4)
    path = serving.export(classifier, str(tmp_path / "models"), "glyphs")
    signature = tf.saved_model.load(path).signatures["serving_default"]
    served = signature(images=tf.constant(query_x))
    np.testing.assert_allclose(served["logits"], expected, rtol=1e-4, atol=1e-4)


def test_bad_arguments():
    with pytest.raises(ValueError, match="Received: distance='manhattan'"):
        PrototypicalNetwork(flatten_encoder(), distance="manhattan")


def test_encoder_must_be_a_model():
    with pytest.raises(TypeError, match="`encoder` must be a keras.Model"):
        PrototypicalNetwork(keras.layers.Dense(3))


def test_support_labels_must_cover_every_class():
    support_x, _, query_x, _ = episode(n_way=3, k_shot=1)
    with pytest.raises(ValueError, match="missing \\[1\\]"):
        PrototypicalNetwork(flatten_encoder()).classify(support_x, np.array([0, 2, 2]), query_x)


def test_loss_cannot_be_compiled():
    with pytest.raises(ValueError, match="`loss` cannot be set"):
        PrototypicalNetwork(flatten_encoder()).compile(loss="mse")


def test_dict_encoder_needs_an_embedding():
    inputs = keras.Input((2,))
    encoder = keras.Model(inputs, {"feature_map": inputs})
    with pytest.raises(ValueError, match="must have an 'embedding' output"):
        PrototypicalNetwork(encoder)(np.zeros((1, 2)))


def conv4_parameters(channels, filters, blocks):
    """Conv weights and biases, and BN's four vectors, per block."""
    first = 9 * channels * filters + filters + 4 * filters
    return first + (blocks - 1) * (9 * filters * filters + filters + 4 * filters)


@pytest.mark.parametrize(
    "image_size, embedding_size", [(28, 64), (84, 1600), (8, 64)]
)  # 28-14-7-3-1, 84-42-21-10-5, 8-4-2-1-1
def test_conv4_embedding_sizes_and_parameters(image_size, embedding_size):
    encoder = Conv4Backbone(image_size=image_size, num_channels=3 if image_size == 84 else 1)
    outputs = encoder(np.zeros((2, image_size, image_size, encoder.num_channels), "float32"))
    assert outputs["embedding"].shape == (2, embedding_size)
    assert encoder.count_params() == conv4_parameters(encoder.num_channels, 64, 4)


def test_conv4_checks_arguments():
    with pytest.raises(ValueError, match="Received: num_blocks=0"):
        Conv4Backbone(num_blocks=0)


def test_conv4_is_registered():
    spec = zoo.get_spec("protonet_conv4")
    assert (spec.family, spec.task) == ("meta", "backbone")
    assert isinstance(Conv4Backbone.from_preset("protonet_conv4", filters=8), Conv4Backbone)


@pytest.mark.slow
def test_protonet_learns_held_out_digit_classes():
    """5-way 5-shot on digits 5-9 after 300 episodes on 0-4 and their rotations."""
    keras.utils.set_random_seed(0)
    data = digits_few_shot()
    train = EpisodeSampler(data.train.x, data.train.y, n_way=5, k_shot=5, n_query=15, seed=0)
    test = EpisodeSampler(data.test.x, data.test.y, n_way=5, k_shot=5, n_query=15, seed=1)
    proto = PrototypicalNetwork(Conv4Backbone(image_size=8, num_channels=1))
    proto.fit(train.dataset(300), verbose=0, shuffle=False)
    result = few_shot_accuracy(proto.classify, test.dataset(200))
    assert result.mean > 0.6, str(result)  # chance: 0.2; measured 0.68-0.75
