"""`KerasClient`: weights in and out (shapes checked), local fit, evaluation, metrics."""

import keras
import numpy as np
import pytest

from zoo.federated import KerasClient, get_weights, set_weights


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(5, activation="relu", name="hidden"),
            keras.layers.Dense(3, name="logits"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.05),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        run_eagerly=True,  # a few steps: eager is faster than tracing
    )
    return model


def _data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64") + (x[:, 1] > 1)


def test_parameters_round_trip():
    client = KerasClient(_model(0), _data())
    other = _model(1)
    client.set_parameters(get_weights(other))
    for a, b in zip(client.get_parameters({}), get_weights(other), strict=True):
        np.testing.assert_array_equal(a, b)


def test_wrong_shape_is_rejected_naming_the_weight_and_leaves_the_model():
    model = _model()
    before = get_weights(model)
    arrays = [np.ones_like(a) for a in before]
    arrays[2] = np.zeros((6, 3), np.float32)
    with pytest.raises(ValueError, match=r"logits/kernel.*\(5, 3\).*\(6, 3\)"):
        set_weights(model, arrays)
    with pytest.raises(ValueError, match="len\\(arrays\\)=3"):
        set_weights(model, before[:3])
    for a, b in zip(get_weights(model), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_fit_trains_from_the_given_weights_and_reports_examples_and_metrics():
    x, y = _data()
    client = KerasClient(_model(), (x, y), local_epochs=1, batch_size=len(x))
    start = get_weights(_model(3))
    weights, num_examples, metrics = client.fit(start, {"local_epochs": 3})
    assert num_examples == len(x) and set(metrics) >= {"loss", "accuracy"}
    assert int(client.model.optimizer.iterations.numpy()) == 3  # 3 epochs of one batch
    # The same round again gives the same update: the optimizer state was reset.
    again, _, _ = client.fit(start, {"local_epochs": 3})
    for a, b, s in zip(weights, again, start, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
        assert a.shape == s.shape
    assert any(not np.allclose(a, s) for a, s in zip(weights, start, strict=True))
    # Keras's own fit from the same start, with the same optimizer, gives the same weights.
    reference = _model()
    set_weights(reference, start)
    reference.fit(x, y, epochs=3, batch_size=len(x), verbose=0, shuffle=False)
    for a, b in zip(weights, get_weights(reference), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_evaluate_matches_keras_evaluate_on_the_test_data():
    train, test = _data(seed=0), _data(n=10, seed=1)
    client = KerasClient(_model(), train, test)
    weights = get_weights(_model(5))
    loss, num_examples, metrics = client.evaluate(weights, {})
    reference = _model()
    set_weights(reference, weights)
    expected = reference.evaluate(*test, verbose=0, return_dict=True)
    assert num_examples == 10
    np.testing.assert_allclose(loss, expected["loss"], rtol=1e-5)
    np.testing.assert_allclose(metrics["accuracy"], expected["accuracy"], rtol=1e-6)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="local_epochs=0"):
        KerasClient(_model(), _data(), local_epochs=0)
    with pytest.raises(ValueError, match="train"):
        KerasClient(_model(), _data()[0])
    with pytest.raises(ValueError, match="len\\(test\\[0\\]\\)=0"):
        KerasClient(_model(), _data(), (np.zeros((0, 4)), np.zeros((0,))))
