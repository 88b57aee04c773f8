"""FedProx's proximal term: the formula, its effect on local training, config round trip."""

import keras
import numpy as np
import pytest

from zoo.federated import KerasClient, ProximalTerm, get_weights


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(16, 3)).astype("float32"), rng.normal(size=(16, 2)).astype("float32")


def test_term_equals_half_mu_times_squared_distance_to_the_start_weights():
    x, y = _data()
    model = _model()
    term = ProximalTerm(mu=0.3)
    term.set_model(model)
    term.on_train_begin()
    start = get_weights(model)
    moved = [w + np.random.default_rng(i).normal(size=w.shape) for i, w in enumerate(start)]
    model.set_weights(moved)
    y_pred = model(x)
    with_term = float(model.compute_loss(x, y, y_pred, training=True))
    without = float(model.compute_loss(x, y, y_pred, training=False))
    expected = (
        0.5 * 0.3 * sum(float(np.sum((m - s) ** 2)) for m, s in zip(moved, start, strict=True))
    )
    np.testing.assert_allclose(with_term - without, expected, rtol=1e-5)
    term.on_train_end()
    assert "compute_loss" not in model.__dict__


def test_fedprox_config_pulls_local_training_towards_the_global_weights():
    x, y = _data()
    start = get_weights(_model())

    def distance(mu):
        client = KerasClient(_model(), (x, y), batch_size=16)
        weights, _, _ = client.fit(start, {"local_epochs": 5, "proximal_mu": mu})
        return sum(float(np.sum((w - s) ** 2)) for w, s in zip(weights, start, strict=True))

    plain, prox = distance(0.0), distance(1.0)
    assert prox < 0.5 * plain
    # A client with mu=0 trains exactly as Keras does: the term is not installed.
    reference = _model()
    reference.fit(x, y, epochs=5, batch_size=16, verbose=0, shuffle=False)
    np.testing.assert_allclose(
        plain,
        sum(
            float(np.sum((w - s) ** 2)) for w, s in zip(get_weights(reference), start, strict=True)
        ),
        rtol=1e-5,
    )


def test_config_round_trip_and_bad_mu():
    restored = ProximalTerm.from_config(ProximalTerm(mu=0.25).get_config())
    assert restored.mu == 0.25
    assert keras.saving.get_registered_object("keras_zoo>ProximalTerm") is ProximalTerm
    with pytest.raises(ValueError, match="mu=-0.1"):
        ProximalTerm(mu=-0.1)
